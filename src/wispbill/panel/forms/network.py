from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from wispbill.core.wire import validate_one_line
from wispbill.network.models import (
    RADIUS_SECRET_MAX,
    Enforcement,
    Router,
    Zone,
    validate_radius_secret,
)
from wispbill.network.services import ROUTER_FIELDS
from wispbill.panel.forms.base import (
    BillingFieldsMixin,
    initial_schedule,
    initial_switches,
)

AUTOMATIC = _("Automatic: MikroTik when an API user and password are given, otherwise none")
RADIUS_FIELDS = ("aaa", "coa_port", "radius_cut")


class RouterForm(forms.ModelForm):
    password = forms.CharField(
        label=_("API password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current one. Stored encrypted."),
        validators=[validate_one_line],
    )

    radius_secret = forms.CharField(
        label=_("RADIUS shared secret"),
        required=False,
        strip=False,
        max_length=RADIUS_SECRET_MAX,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current one. Stored encrypted."),
        validators=[validate_radius_secret],
    )

    class Meta:
        model = Router
        fields = [*ROUTER_FIELDS[:4], "password", *ROUTER_FIELDS[4:], "radius_secret"]
        labels = {"enforcement": _("Control on the router")}
        help_texts = {
            "enforcement": _(
                "MikroTik (API): wispbill keeps the cut and notice lists on the router. "
                "None: cuts and notices stay in the database; nobody applies them on the router."
            )
        }

    def __init__(self, *args, can_allow_local: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        # Only an administrator may allow a host on this server: others see it, as it is.
        self.fields["allow_local_host"].disabled = not can_allow_local
        for name in RADIUS_FIELDS:
            self.fields[name].required = False
        choices: list[tuple[str, StrOrPromise]] = [
            (Enforcement.MIKROTIK, _("MikroTik (API)")),
            (Enforcement.NONE, _("None (database only)")),
        ]
        if self.instance.pk is None:
            # A new router: unless chosen, its control follows the credentials typed.
            choices.insert(0, ("", AUTOMATIC))
            self.fields["enforcement"].required = False
            self.initial["enforcement"] = ""
        enforcement = self.fields["enforcement"]
        assert isinstance(enforcement, forms.ChoiceField)  # the model field's choices make it one
        enforcement.choices = choices

    def clean(self):
        cleaned = super().clean()
        # A form sent without the RADIUS settings (from before they existed) keeps the
        # router's own, the defaults for a new one.
        for name in RADIUS_FIELDS:
            if cleaned.get(name) in (None, ""):
                cleaned[name] = getattr(self.instance, name)
        # The model's own check (a RADIUS router needs its secret) sees the one just typed.
        if cleaned.get("radius_secret"):
            self.instance.radius_secret = cleaned["radius_secret"]
        return cleaned

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ZoneForm(BillingFieldsMixin, forms.Form):
    name = forms.CharField(
        label=_("Zone name"), max_length=100, help_text=_('For example "Zona día 1".')
    )
    pppoe_pool = Zone._meta.get_field("pppoe_pool").formfield(
        help_text=_("Empty: its router's pool, if it has one.")
    )


def zone_initial(zone) -> dict:
    return {
        "name": zone.name,
        "pppoe_pool": zone.pppoe_pool,
        **initial_schedule(zone),
        **initial_switches(zone.switches),
    }
