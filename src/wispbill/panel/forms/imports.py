from django import forms
from django.utils.translation import gettext_lazy as _

from wispbill.clients.services.file_import import MAX_BYTES
from wispbill.core.clock import validate_first_day
from wispbill.network.models import Zone
from wispbill.panel.forms.base import DayField, LongSelect


class PaidUntilForm(forms.Form):
    """The day a router's clients paid for until before wispbill, optional."""

    paid_until = DayField(required=False, validators=[validate_first_day])


class ClientFileForm(forms.Form):
    """A file of clients: uploaded, or named by the token of the checked file the server kept
    for the confirmation, so what is imported is exactly what was checked and a large file
    is not sent twice."""

    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx",
                "data-max-bytes": MAX_BYTES,
                "data-too-big": _("The file is larger than 10 MB."),
            }
        ),
    )
    zone = forms.ModelChoiceField(
        label=_("Zone of the rows that name none"),
        queryset=Zone.objects.select_related("router"),
        required=False,
        widget=LongSelect,
    )
    paid_until = DayField(
        label=_("Paid until (rows without their own)"),
        required=False,
        validators=[validate_first_day],
        help_text=_("Cycles that end on or before this day are never invoiced automatically."),
    )
    token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload:
            if upload.size > MAX_BYTES:
                raise forms.ValidationError(_("The file is larger than 10 MB."))
            cleaned["data"], cleaned["filename"] = upload.read(MAX_BYTES + 1), upload.name
        elif not cleaned.get("token"):
            self.add_error("file", _("Choose a file."))
        return cleaned
