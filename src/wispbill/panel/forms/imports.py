import base64
import binascii

from django import forms
from django.utils.translation import gettext_lazy as _

from wispbill.clients.services.file_import import MAX_BYTES
from wispbill.network.models import Zone
from wispbill.panel.forms.base import LongSelect


class ClientFileForm(forms.Form):
    """A file of clients: uploaded, or carried back by the confirmation form (encoded), so
    what is imported is exactly what was checked."""

    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    zone = forms.ModelChoiceField(
        label=_("Zone of the rows that name none"),
        queryset=Zone.objects.select_related("router"),
        required=False,
        widget=LongSelect,
    )
    encoded = forms.CharField(required=False, widget=forms.HiddenInput)
    filename = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload:
            if upload.size > MAX_BYTES:
                raise forms.ValidationError(_("The file is larger than 10 MB."))
            cleaned["data"], cleaned["filename"] = upload.read(), upload.name
        elif cleaned.get("encoded"):
            try:
                cleaned["data"] = base64.b64decode(cleaned["encoded"], validate=True)
            except (binascii.Error, ValueError):
                raise forms.ValidationError(_("Upload the file again.")) from None
            cleaned["filename"] = cleaned.get("filename") or "clients.csv"
        else:
            self.add_error("file", _("Choose a file."))
        return cleaned
