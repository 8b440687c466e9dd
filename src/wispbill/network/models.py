import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_stubs_ext import StrOrPromise

from wispbill.core.models import (
    CutAction,
    NameTakenMessage,
    ScheduleFields,
    SwitchFields,
    schedule_constraints,
)
from wispbill.core.schedule import OPTIONAL
from wispbill.core.secrets import decrypt, encrypt
from wispbill.core.wire import validate_one_line
from wispbill.network.hosts import host_errors
from wispbill.network.tls import normalise_fingerprint


def validate_fingerprint(value: str) -> None:
    try:
        normalise_fingerprint(value)
    except ValueError:
        raise ValidationError(
            _("A SHA-256 fingerprint is 64 hexadecimal digits, with or without colons."),
            code="invalid",
        ) from None


# What RouterOS takes as the name of an IP pool without quoting: letters, digits, ".", "_"
# and "-", starting with a letter or a digit.
ROUTEROS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def validate_routeros_name(value: str) -> None:
    if value and not ROUTEROS_NAME.match(value):
        raise ValidationError(
            _(
                "A RouterOS name: up to 63 letters, digits, dots, dashes or underscores, "
                "starting with a letter or a digit (as in /ip pool)."
            ),
            code="invalid",
        )


def pppoe_pool_field():
    return models.CharField(
        _("PPPoE address pool"),
        max_length=63,
        blank=True,
        validators=[validate_routeros_name],
        help_text=_(
            "The name of the router's IP pool (/ip pool) its PPPoE clients without a fixed IP "
            "take their address from. Empty: every PPPoE client needs its own IP."
        ),
    )


class FingerprintField(models.CharField):
    """A SHA-256 certificate fingerprint, stored as lowercase hex however it was typed."""

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        try:
            value = normalise_fingerprint(value)
        except ValueError:
            return value  # validation reports it; saving without validating keeps it as is
        setattr(model_instance, self.attname, value)
        return value


class Enforcement(models.TextChoices):
    MIKROTIK = "mikrotik", _("MikroTik (RouterOS API)")
    NONE = "none", _("None (database only)")


class PppoeCut(models.TextChoices):
    ADDRESS_LIST = "address_list", _("Put them in the cut address list")
    DISABLE_SECRET = "disable_secret", _("Disable the PPPoE secret and end the session")


class Aaa(models.TextChoices):
    """Who answers a PPPoE login on the router: the secrets wispbill keeps there (its API), or
    FreeRADIUS reading wispbill's data."""

    API = "api", _("The router (secrets through its API)")
    RADIUS = "radius", _("RADIUS (FreeRADIUS configured by wispbill)")


class RadiusCut(models.TextChoices):
    ADDRESS_LIST = "address_list", _("Accept them into the cut address list")
    REJECT = "reject", _("Reject their login")


# What a RADIUS shared secret may hold: printable ASCII but the backslash (FreeRADIUS's
# configuration cannot hold every backslash literally), long enough not to be guessed from
# one captured packet.
RADIUS_SECRET_MIN, RADIUS_SECRET_MAX = 8, 128


def validate_radius_secret(value: str) -> None:
    if not all(" " <= ch <= "~" and ch != "\\" for ch in value):
        raise ValidationError(
            _(
                "Use only printable ASCII characters (letters, digits, spaces, punctuation "
                "other than the backslash)."
            ),
            code="radius_secret_characters",
        )
    if not RADIUS_SECRET_MIN <= len(value) <= RADIUS_SECRET_MAX:
        raise ValidationError(
            _("Between %(low)s and %(high)s characters.")
            % {"low": RADIUS_SECRET_MIN, "high": RADIUS_SECRET_MAX},
            code="radius_secret_length",
        )


class SyncStatus(models.TextChoices):
    OK = "ok", _("In sync")
    PENDING = "pending", _("Pending")
    ERROR = "error", _("Error")


class Router(NameTakenMessage, models.Model):
    name_taken = gettext_noop("There is already a router called «%(name)s».")
    name = models.CharField(_("name"), max_length=100, unique=True, validators=[validate_one_line])
    host = models.CharField(_("host"), max_length=255, blank=True, validators=[validate_one_line])
    api_port = models.PositiveIntegerField(_("API port"), default=8728)
    username = models.CharField(
        _("username"), max_length=100, blank=True, validators=[validate_one_line]
    )
    password_encrypted = models.TextField(blank=True, editable=False)
    # Set by an administrator alone: the host and port checks of network.hosts are skipped.
    allow_local_host = models.BooleanField(
        _("Allow a host on this server or a local-only address"),
        default=False,
        help_text=_(
            "Only for a router that really is on this machine (the RouterOS emulator) or on a "
            "link-local network. Only administrators can set it."
        ),
    )
    use_tls = models.BooleanField(_("use TLS"), default=False)
    # Colons allowed on input (95 characters), 64 hex digits once stored.
    tls_fingerprint = FingerprintField(
        _("TLS certificate fingerprint (SHA-256)"),
        max_length=95,
        blank=True,
        validators=[validate_fingerprint],
        help_text=_(
            "Optional. When set, wispbill talks to this router only if its API certificate "
            "has this fingerprint, and never sends the password to any other."
        ),
    )
    enforcement = models.CharField(
        _("enforcement"), max_length=10, choices=Enforcement.choices, default=Enforcement.NONE
    )
    cut_list = models.CharField(
        _("cut address list"), max_length=63, default="Moroso", validators=[validate_one_line]
    )
    notice_list = models.CharField(
        _("notice address list"), max_length=63, default="Aviso", validators=[validate_one_line]
    )
    throttle_list = models.CharField(
        _("reduced speed address list"),
        max_length=63,
        default="Reducido",
        validators=[validate_one_line],
    )
    provisioning = models.BooleanField(
        _("keep PPPoE secrets and simple queues"),
        default=False,
        help_text=_(
            "wispbill creates and keeps each client's PPPoE secret and a simple queue at its "
            "plan's speed. Leave it off if the speeds are shaped elsewhere (an OLT, LibreQoS)."
        ),
    )
    pppoe_cut = models.CharField(
        _("how PPPoE clients are cut"),
        max_length=14,
        choices=PppoeCut.choices,
        default=PppoeCut.ADDRESS_LIST,
        help_text=_(
            "Disabling the secret needs the PPPoE secrets kept by wispbill; without it, PPPoE "
            "clients are cut through the address list."
        ),
    )
    pppoe_pool = pppoe_pool_field()
    sync_status = models.CharField(
        max_length=8, choices=SyncStatus.choices, default=SyncStatus.OK, editable=False
    )
    last_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    # Set by every change that affects this router, cleared by the reconcile that takes it:
    # many changes in a row coalesce into one push.
    needs_sync = models.BooleanField(default=False, editable=False)
    sync_failures = models.PositiveIntegerField(default=0, editable=False)
    failed_addresses = models.JSONField(default=list, blank=True, editable=False)
    retry_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    aaa = models.CharField(
        _("PPPoE logins answered by"), max_length=6, choices=Aaa.choices, default=Aaa.API
    )
    radius_secret_encrypted = models.TextField(blank=True, editable=False)
    coa_port = models.PositiveIntegerField(
        _("CoA port"),
        default=3799,
        help_text=_("Where the router takes RADIUS changes of authorization (RouterOS: 3799)."),
    )
    radius_cut = models.CharField(
        _("how RADIUS clients are cut"),
        max_length=12,
        choices=RadiusCut.choices,
        default=RadiusCut.ADDRESS_LIST,
    )
    # Set when a router that holds wispbill's PPPoE secrets turns to RADIUS: they stay until
    # FreeRADIUS is seen accepting its clients (wispbill.radius.switch), so no client is left
    # without a way to log in while the router is being pointed at it.
    radius_secrets_kept = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("router")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list[StrOrPromise]] = {}
        if self.enforcement == Enforcement.MIKROTIK and not self.host:
            errors["host"] = [_("A MikroTik router needs a host to connect to.")]
        if not 1 <= (self.api_port or 0) <= 65535:
            errors["api_port"] = [
                _("Must be between %(low)s and %(high)s.") % {"low": 1, "high": 65535}
            ]
        if self.cut_list and self.cut_list == self.notice_list:
            errors["notice_list"] = [_("The notice list must differ from the cut list.")]
        if self.throttle_list and self.throttle_list in (self.cut_list, self.notice_list):
            errors["throttle_list"] = [
                _("The reduced speed list must differ from the cut and notice lists.")
            ]
        if not 1 <= (self.coa_port or 0) <= 65535:
            errors["coa_port"] = [
                _("Must be between %(low)s and %(high)s.") % {"low": 1, "high": 65535}
            ]
        if self.aaa == Aaa.RADIUS:
            if not self.host:
                errors["host"] = [
                    _("A RADIUS router needs its address: its requests come from it.")
                ]
            if not self.radius_secret_encrypted:
                errors["radius_secret"] = [_("A RADIUS router needs its shared secret.")]
        for field, messages in host_errors(
            self.host,
            self.api_port,
            allow_local=self.allow_local_host,
            coa_port=self.coa_port if self.aaa == Aaa.RADIUS else None,
        ).items():
            errors.setdefault(field, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    @property
    def pushes_secrets(self) -> bool:
        """Whether the router gets wispbill's PPPoE secrets: with provisioning, unless RADIUS
        answers its logins (once the switch to it is confirmed)."""
        return self.provisioning and (self.aaa == Aaa.API or self.radius_secrets_kept)

    @property
    def password(self) -> str:
        return decrypt(self.password_encrypted)

    @password.setter
    def password(self, value: str) -> None:
        self.password_encrypted = encrypt(value) if value else ""

    @property
    def disables_secrets(self) -> bool:
        """Whether cut PPPoE clients lose their secret instead of being listed: only where
        wispbill keeps the secrets, so a cut never goes nowhere."""
        return self.pushes_secrets and self.pppoe_cut == PppoeCut.DISABLE_SECRET

    @property
    def radius_secret(self) -> str:
        return decrypt(self.radius_secret_encrypted)

    @radius_secret.setter
    def radius_secret(self, value: str) -> None:
        self.radius_secret_encrypted = encrypt(value) if value else ""


class Zone(ScheduleFields, SwitchFields):
    """A billing zone of a router ("Facturación - Zona")."""

    router = models.ForeignKey(Router, on_delete=models.PROTECT, related_name="zones")
    name = models.CharField(_("name"), max_length=100, validators=[validate_one_line])
    # A zone always has a schedule, so these always have a value.
    cut_action = models.CharField(
        _("on the cut date"), max_length=8, choices=CutAction.choices, default=CutAction.SUSPEND
    )
    throttle_kbps = models.PositiveIntegerField(
        _("reduced speed (kbps)"), default=OPTIONAL["throttle_kbps"]
    )
    # Its router's pool unless it names one of its own.
    pppoe_pool = pppoe_pool_field()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["router__name", "name"]
        verbose_name = _("zone")
        constraints = [
            models.UniqueConstraint(fields=["router", "name"], name="zone_unique_name_per_router"),
            *schedule_constraints("zone", required=True),
        ]

    def __str__(self) -> str:
        return f"{self.router.name} · {self.name}"

    @property
    def effective_pppoe_pool(self) -> str:
        """The pool its PPPoE clients without an IP take their address from ("" for none)."""
        return self.pppoe_pool or self.router.pppoe_pool
