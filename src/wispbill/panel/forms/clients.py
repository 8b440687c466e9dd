from django import forms
from django.utils.translation import gettext_lazy as _

from wispbill.clients.models import Client, ClientState, Plan
from wispbill.clients.services import CLIENT_FIELDS
from wispbill.network.models import Zone
from wispbill.panel.forms.base import BillingFieldsMixin, schedule_values, switch_values


class ClientForm(BillingFieldsMixin, forms.Form):
    schedule_required = False

    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    ip = forms.GenericIPAddressField(label=_("IP address"), protocol="IPv4")
    zone = forms.ModelChoiceField(label=_("Zone"), queryset=Zone.objects.select_related("router"))
    plan = forms.ModelChoiceField(label=_("Plan"), queryset=Plan.objects.all())
    start_date = forms.DateField(
        label=_("Service start"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    state = forms.ChoiceField(label=_("State"), choices=ClientState.choices)
    auto_activate_on_payment = forms.BooleanField(
        label=_("Reactivate the service by itself when the client pays"), required=False
    )
    billing_type = forms.ChoiceField(
        label=_("Billing type"),
        choices=[
            ("zone", _("Zone billing (follows its zone)")),
            ("own", _("Own billing (its own schedule and periodic tasks)")),
        ],
        widget=forms.Select(attrs={"data-billing-type": "own-billing"}),
    )

    def service_kwargs(self) -> dict:
        data = {name: self.cleaned_data[name] for name in CLIENT_FIELDS}
        own = data["billing_type"] == "own"
        billing = schedule_values(self) if own else None
        data["billing"] = billing
        data["periodic_tasks"] = switch_values(self.cleaned_data) if own else None
        return data

    @property
    def general_fields(self):
        return [
            self[n]
            for n in (
                "name",
                "ip",
                "email",
                "phone",
                "address",
                "zone",
                "plan",
                "start_date",
                "state",
            )
        ]


def client_initial(client: Client, effective) -> dict:
    from wispbill.panel.forms.base import initial_schedule, initial_switches

    initial = {
        name: getattr(client, name)
        for name in (
            "name",
            "email",
            "phone",
            "address",
            "ip",
            "start_date",
            "state",
            "billing_type",
            "auto_activate_on_payment",
        )
    }
    initial.update(zone=client.zone_id, plan=client.plan_id)
    initial.update(initial_schedule(client) or initial_schedule(client.zone))
    initial.update(initial_switches(effective))
    return initial


class PlanForm(forms.ModelForm):
    class Meta:
        model = Plan
        fields = ["name", "price", "download_kbps", "upload_kbps"]
