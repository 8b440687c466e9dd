from django import forms
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from wispbill.clients.models import BillingType, Client, Plan
from wispbill.clients.services.access import GENERATE
from wispbill.clients.services.clients import CLIENT_FIELDS
from wispbill.clients.services.plans import PLAN_FIELDS
from wispbill.network.models import Zone
from wispbill.panel.forms.base import (
    BillingFieldsMixin,
    DayField,
    LongSelect,
    MoneyField,
    initial_schedule,
    initial_switches,
    schedule_values,
    switch_values,
)

# Shown on the "General" tab, in this order; the billing fields go on the "Billing" tab.
GENERAL = (
    "name",
    "ip",
    "access",
    "pppoe_username",
    "pppoe_password",
    "pppoe_password_generate",
    "email",
    "phone",
    "address",
    "zone",
    "plan",
    "start_date",
    "paid_until",
    "state",
    "language",
)
# For a client that asks for its own CFDI (factura).
FISCAL = ("rfc", "fiscal_name", "fiscal_regime", "fiscal_postal_code", "cfdi_use")


class ClientForm(BillingFieldsMixin, forms.Form):
    """The client's fields, derived from the one list the service edits (`CLIENT_FIELDS`),
    plus its own schedule and switches."""

    schedule_required = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        own = self.fields
        self.fields = fields_for_model(
            Client,
            fields=CLIENT_FIELDS,
            field_classes={"start_date": DayField, "paid_until": DayField},
            widgets={
                "zone": LongSelect,
                "billing_type": forms.Select(attrs={"data-billing-type": "own-billing"}),
                "access": forms.Select(attrs={"data-access": "pppoe"}),
                "pppoe_username": forms.TextInput(
                    attrs={"data-pppoe-field": "", "autocomplete": "off"}
                ),
            },
            labels={
                "auto_activate_on_payment": _(
                    "Reactivate the service by itself when the client pays"
                ),
            },
        )
        self.fields["pppoe_password"] = forms.CharField(
            label=_("PPPoE password"),
            required=False,
            max_length=64,
            # What was typed comes back after a form error, never silently blank.
            widget=forms.PasswordInput(
                render_value=True, attrs={"data-pppoe-field": "", "autocomplete": "new-password"}
            ),
            help_text=_(
                "Stored encrypted. A new PPPoE client needs one; on an edit, leave it empty "
                "to keep the current one."
            ),
        )
        self.fields["pppoe_password_generate"] = forms.BooleanField(
            label=_("Generate a password"),
            required=False,
            widget=forms.CheckboxInput(attrs={"data-pppoe-field": ""}),
            help_text=_("wispbill makes one and shows it once, after saving."),
        )
        self.fields["pppoe_username"].help_text = _("Unique on its router.")
        self.fields.update(own)
        self.fields["zone"].queryset = Zone.objects.select_related("router")
        self.fields["billing_type"].choices = [
            (BillingType.ZONE, _("Zone billing (follows its zone)")),
            (BillingType.OWN, _("Own billing (its own schedule and periodic tasks)")),
        ]

    def service_kwargs(self) -> dict:
        data = {name: self.cleaned_data[name] for name in CLIENT_FIELDS}
        data["pppoe_password"] = (
            GENERATE
            if self.cleaned_data.get("pppoe_password_generate")
            else self.cleaned_data.get("pppoe_password", "")
        )
        own = data["billing_type"] == BillingType.OWN
        return {
            "data": data,
            "billing": schedule_values(self) if own else None,
            "periodic_tasks": switch_values(self.cleaned_data) if own else None,
        }

    @property
    def general_fields(self):
        return [self[n] for n in GENERAL]

    @property
    def fiscal_fields(self):
        return [self[n] for n in FISCAL]


def client_initial(client: Client, effective) -> dict:
    initial = {name: getattr(client, name) for name in CLIENT_FIELDS}
    initial.update(zone=client.zone_id, plan=client.plan_id)
    initial.update(initial_schedule(client) or initial_schedule(client.zone))
    initial.update(initial_switches(effective))
    return initial


class PlanForm(forms.ModelForm):
    class Meta:
        model = Plan
        fields = PLAN_FIELDS
        field_classes = {"price": MoneyField}
