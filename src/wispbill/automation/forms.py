from django import forms
from django.utils.translation import gettext_lazy as _

from wispbill.automation.switches import TASKS
from wispbill.network.models import Zone
from wispbill.panel.forms import TASK_NAMES

ALL_ZONES = "all"
CHOICES = [("on", _("Turn on")), ("off", _("Turn off")), ("keep", _("Leave as it is"))]


class MassUpdateForm(forms.Form):
    zone = forms.ChoiceField(label=_("Zone"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].choices = [
            ("", _("— Choose a zone —")),
            (ALL_ZONES, _("Apply to all zones")),
            *((str(z.pk), str(z)) for z in Zone.objects.select_related("router")),
        ]
        for task in TASKS:
            self.fields[task] = forms.ChoiceField(
                label=TASK_NAMES[task],
                choices=CHOICES,
                initial="keep",
                widget=forms.RadioSelect,
            )

    def clean_zone(self):
        value = self.cleaned_data["zone"]
        if not value:
            raise forms.ValidationError(_('Choose a zone or "Apply to all zones".'))
        return value

    def service_kwargs(self) -> dict:
        zone = self.cleaned_data["zone"]
        kwargs = {
            "all_zones": zone == ALL_ZONES,
            "zone": None if zone == ALL_ZONES else Zone.objects.get(pk=zone),
        }
        for task in TASKS:
            kwargs[task] = {"on": True, "off": False}.get(self.cleaned_data[task])
        return kwargs

    @property
    def task_fields(self):
        return [self[t] for t in TASKS]
