import re
from datetime import date

from django import forms
from django.conf import settings
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wispbill.automation.services.company import COMPANY_FIELDS
from wispbill.clients.models import BillingType, Client
from wispbill.core.db import to_id
from wispbill.core.formatting import money
from wispbill.core.models import (
    MAX_MONEY,
    CompanySettings,
    CutAction,
    FirstInvoice,
    ReactivationBilling,
)
from wispbill.core.schedule import RANGES
from wispbill.core.switches import TASKS
from wispbill.network.models import Zone
from wispbill.panel.forms.base import TASK_NAMES, LongSelect, MoneyField, parse_day

ALL_ZONES = "all"
CHOICES = [("on", _("Turn on")), ("off", _("Turn off")), ("keep", _("Leave as it is"))]


class MassUpdateForm(forms.Form):
    zone = forms.ChoiceField(label=_("Zone"), widget=LongSelect)

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


class IdChoiceField(forms.ModelChoiceField):
    """A row chosen by its id; anything but an existing row's id is refused, with the text."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if to_id(value) is None:  # "abc", "-1", 99999999999999999999: no row has it
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": str(value)[:30]},
            )
        return super().to_python(value)


class RunScopeForm(forms.Form):
    """What "run now" covers: a zone, an own-billing client, or (neither) every zone. A scope
    that names no real row is an error: it never widens to every zone."""

    zone = IdChoiceField(
        queryset=Zone.objects.select_related("router"),
        required=False,
        error_messages={
            "invalid_choice": _(
                "There is no zone «%(value)s»; nothing was run. Choose a zone from the list."
            )
        },
    )
    client = IdChoiceField(
        queryset=Client.objects.filter(billing_type=BillingType.OWN),
        required=False,
        error_messages={
            "invalid_choice": _(
                "There is no client with its own billing «%(value)s»; nothing was run."
            )
        },
    )

    def error_text(self) -> str:
        return " ".join(str(message) for errors in self.errors.values() for message in errors)


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


# The company settings page, grouped as an operator looks for them: (title, help, fields).
COMPANY_GROUPS = [
    ("general", _("Company"), "", ("name",)),
    (
        "periodic-tasks",
        _("Periodic tasks"),
        _("When the daily run works, and the days it never cuts."),
        ("run_hour", "no_cut_weekdays", "holidays", "min_debt_to_cut"),
    ),
    (
        "billing-after-cut",
        _("Billing after a cut"),
        _(
            "Whether suspended clients are invoiced, and what a client pays, once it is back, "
            "for a cycle whose invoice date came while it was cut."
        ),
        ("invoice_suspended", "reactivation_billing"),
    ),
    (
        "fair-charges",
        _("New clients and reconnections"),
        _(
            "What a client pays for the cycle in which its service starts, and the fee added "
            "to its next invoice when its service comes back after a cut."
        ),
        ("first_invoice", "reconnection_fee"),
    ),
    (
        "how-to-pay",
        _("How to pay"),
        _("Shown on the notice page, the client's page and the invoices."),
        ("payment_instructions", "bank_name", "bank_account"),
    ),
    (
        "taxes",
        _("Taxes and electronic invoicing (CFDI)"),
        _(
            "The IVA on every invoice, and the company's fiscal data for its CFDI. The "
            "certificate (CSD) is uploaded once, in E-invoicing → CSD."
        ),
        (
            "tax_rate",
            "prices_include_tax",
            "rfc",
            "legal_name",
            "tax_regime",
            "postal_code",
            "invoice_series",
            "cfdi",
            "cfdi_global_periodicity",
        ),
    ),
    (
        "notice-page",
        _("Notice page"),
        _("Where the routers send the web traffic of the clients on the cut and notice lists."),
        ("notice_host",),
    ),
    (
        "messages",
        _("Messages to clients"),
        _("E-mail and WhatsApp: when they may leave, and the WhatsApp templates approved by Meta."),
        (
            "quiet_hours",
            "country",
            "whatsapp_template_invoice",
            "whatsapp_template_reminder",
            "whatsapp_template_cut",
            "whatsapp_template_throttled",
            "whatsapp_template_receipt",
        ),
    ),
    (
        "client-page",
        _("The client's page"),
        _("The page each client opens from the link in its messages and on its notice page."),
        ("public_url", "portal_promise_days", "portal_promises_per_cycle"),
    ),
]


class CompanySettingsForm(forms.ModelForm):
    """Every setting of `COMPANY_FIELDS`; the service checks them again for the API."""

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
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "25/12/2026\n01/01/2027"}),
        help_text=_("One date per line, as dd/mm/yyyy (25/12/2026)."),
    )
    run_hour = forms.TypedChoiceField(
        label=_("Daily run hour"),
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        coerce=int,
        help_text=_("In the ISP's time zone."),
    )
    reactivation_billing = forms.ChoiceField(
        label=_("A cycle billed while the client was cut"),
        choices=ReactivationBilling.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Applies when suspended clients are not invoiced: once the client is active again, "
            "its invoice covers the whole cycle, only the days from the reactivation (the "
            "plan price × days / days in the period), or nothing (the next cycle is billed)."
        ),
    )

    first_invoice = forms.ChoiceField(
        label=_("The cycle in which the service starts"),
        choices=FirstInvoice.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "For a client whose service starts after the first day of a cycle: its first "
            "invoice covers the days from its start (the plan price × days / days in the "
            "period), the whole cycle, or nothing (its first invoice is the next cycle's)."
        ),
    )

    bank_account = forms.CharField(
        label=capfirst(CompanySettings._meta.get_field("bank_account").verbose_name),
        help_text=CompanySettings._meta.get_field("bank_account").help_text,
        required=False,
        max_length=40,  # the digits with the spaces a bank prints between groups
    )
    public_url = forms.URLField(
        label=capfirst(CompanySettings._meta.get_field("public_url").verbose_name),
        help_text=CompanySettings._meta.get_field("public_url").help_text,
        required=False,
        assume_scheme="https",  # "pagos.mi-isp.mx" typed alone is an https address
    )

    class Meta:
        model = CompanySettings
        fields = list(COMPANY_FIELDS)
        widgets = {"payment_instructions": forms.Textarea(attrs={"rows": 4})}
        field_classes = {"min_debt_to_cut": MoneyField}
        labels = {"invoice_suspended": _("Invoice suspended clients too")}
        help_texts = {
            "min_debt_to_cut": _("A client who owes this much or less is not cut."),
            "invoice_suspended": _(
                "On: a suspended client gets each cycle's invoice as usual. Off: it is not "
                "invoiced while suspended, and the rule below says what it pays once back."
            ),
            "payment_instructions": _("Bank, account, where to pay in person and when."),
            "notice_host": _(
                "The IPv4 address at which the routers reach wispbill's notice page, for the "
                "firewall rules (for example 10.0.0.5)."
            ),
            "whatsapp_template_invoice": _("Sent with each new invoice."),
            "whatsapp_template_reminder": _("Sent when the notice starts."),
            "whatsapp_template_cut": _("Sent when the service is cut."),
            "whatsapp_template_throttled": _("Sent when the cut reduces the speed instead."),
            "whatsapp_template_receipt": _("Sent with each payment's receipt."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and not self.is_bound:
            self.initial["holidays"] = "\n".join(
                date.fromisoformat(day).strftime("%d/%m/%Y") for day in self.instance.holidays
            )
        if settings.NOTICE_HOST:
            self.fields["notice_host"].help_text = _(
                "WISPBILL_NOTICE_HOST=%(host)s is set on the server and is used instead."
            ) % {"host": settings.NOTICE_HOST}

    def clean_bank_account(self):
        # Banks print a CLABE in groups; the model's validator checks the digits.
        return re.sub(r"[\s-]", "", self.cleaned_data["bank_account"])

    def clean_holidays(self):
        days = []
        for line in self.cleaned_data["holidays"].split():
            day = parse_day(line.strip().rstrip(","))
            if day is None:
                raise forms.ValidationError(
                    _("%(value)s is not a date: write it as dd/mm/yyyy (25/12/2026).")
                    % {"value": line}
                )
            days.append(day.isoformat())
        return sorted(set(days))

    def clean_min_debt_to_cut(self):
        value = self.cleaned_data["min_debt_to_cut"]
        if value < 0:
            raise forms.ValidationError(_("Must be zero or more."))
        if value > MAX_MONEY:
            raise forms.ValidationError(_("Must be at most %(max)s.") % {"max": money(MAX_MONEY)})
        return value

    def groups(self):
        """(anchor, title, help, bound fields) per group of the page."""
        return [
            (anchor, title, text, [self[name] for name in names])
            for anchor, title, text, names in COMPANY_GROUPS
        ]
