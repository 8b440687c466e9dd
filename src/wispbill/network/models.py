from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from wispbill.core.models import ScheduleFields, SwitchFields, schedule_constraints
from wispbill.core.secrets import decrypt, encrypt
from wispbill.network.tls import normalise_fingerprint


def validate_fingerprint(value: str) -> None:
    try:
        normalise_fingerprint(value)
    except ValueError:
        raise ValidationError(
            _("A SHA-256 fingerprint is 64 hexadecimal digits, with or without colons."),
            code="invalid",
        ) from None


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


class SyncStatus(models.TextChoices):
    OK = "ok", _("In sync")
    PENDING = "pending", _("Pending")
    ERROR = "error", _("Error")


class Router(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    host = models.CharField(_("host"), max_length=255, blank=True)
    api_port = models.PositiveIntegerField(_("API port"), default=8728)
    username = models.CharField(_("username"), max_length=100, blank=True)
    password_encrypted = models.TextField(blank=True, editable=False)
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
    cut_list = models.CharField(_("cut address list"), max_length=63, default="Moroso")
    notice_list = models.CharField(_("notice address list"), max_length=63, default="Aviso")
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

    class Meta:
        ordering = ["name"]
        verbose_name = _("router")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.enforcement == Enforcement.MIKROTIK and not self.host:
            errors["host"] = [_("A MikroTik router needs a host to connect to.")]
        if not 1 <= (self.api_port or 0) <= 65535:
            errors["api_port"] = [
                _("Must be between %(low)s and %(high)s.") % {"low": 1, "high": 65535}
            ]
        if self.cut_list and self.cut_list == self.notice_list:
            errors["notice_list"] = [_("The notice list must differ from the cut list.")]
        if errors:
            raise ValidationError(errors)

    @property
    def password(self) -> str:
        return decrypt(self.password_encrypted)

    @password.setter
    def password(self, value: str) -> None:
        self.password_encrypted = encrypt(value) if value else ""


class Zone(ScheduleFields, SwitchFields):
    """A billing zone of a router ("Facturación - Zona")."""

    router = models.ForeignKey(Router, on_delete=models.PROTECT, related_name="zones")
    name = models.CharField(_("name"), max_length=100)
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
