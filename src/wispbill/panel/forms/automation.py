from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from wispbill.core.models import CompanySettings, CutAction
from wispbill.core.schedule import RANGES
from wispbill.core.switches import TASKS
from wispbill.network.models import Zone
from wispbill.panel.forms.base import TASK_NAMES

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
        self.fields["cut_action"] = forms.ChoiceField(
            label=_("On the cut date"),
            choices=[*CutAction.choices, ("keep", _("Leave as it is"))],
            initial="keep",
            required=False,  # left out: as it is
            widget=forms.RadioSelect,
        )
        low, high = RANGES["throttle_kbps"]
        self.fields["throttle_kbps"] = forms.IntegerField(
            label=_("Reduced speed (kbps)"),
            min_value=low,
            max_value=high,
            required=False,
            help_text=_("Empty: leave as it is."),
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
        choices = {"on": True, "off": False}
        kwargs["values"] = {
            task: choices[self.cleaned_data[task]]
            for task in TASKS
            if self.cleaned_data[task] in choices
        }
        if self.cleaned_data.get("cut_action") not in ("", "keep", None):
            kwargs["values"]["cut_action"] = self.cleaned_data["cut_action"]
        if self.cleaned_data.get("throttle_kbps") is not None:
            kwargs["values"]["throttle_kbps"] = self.cleaned_data["throttle_kbps"]
        return kwargs

    @property
    def task_fields(self):
        return [self[t] for t in TASKS]


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class CompanySettingsForm(forms.ModelForm):
    no_cut_weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays without cuts"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    holidays = forms.CharField(
        label=_("Holidays without cuts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One date per line, as YYYY-MM-DD."),
    )
    run_hour = forms.IntegerField(
        label=_("Daily run hour"),
        min_value=0,
        max_value=23,
        help_text=_("0 to 23, in the ISP's time zone."),
    )

    class Meta:
        model = CompanySettings
        fields = [
            "name",
            "run_hour",
            "no_cut_weekdays",
            "holidays",
            "min_debt_to_cut",
            "invoice_suspended",
            "payment_instructions",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and not self.is_bound:
            self.initial["holidays"] = "\n".join(self.instance.holidays)

    def clean_holidays(self):
        days = []
        for line in self.cleaned_data["holidays"].split():
            try:
                days.append(date.fromisoformat(line.strip()).isoformat())
            except ValueError:
                raise forms.ValidationError(
                    _("%(value)s is not a date (YYYY-MM-DD).") % {"value": line}
                ) from None
        return sorted(set(days))

    def clean_min_debt_to_cut(self):
        value = self.cleaned_data["min_debt_to_cut"]
        if value < 0:
            raise forms.ValidationError(_("Must be zero or more."))
        return value
