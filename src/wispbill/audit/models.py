from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wispbill.core.formatting import translated

SYSTEM = "system"


class AuditAction(models.TextChoices):
    """Every kind of event the audit log records (Zulip's AuditLogEventType)."""

    PERIODIC_TASKS_CHANGED = "periodic_tasks.changed", _("Periodic tasks changed")
    MASS_UPDATE = "periodic_tasks.mass_update", _("Periodic tasks changed by a mass update")
    MASS_UPDATE_UNDO = "periodic_tasks.mass_update_undo", _("Mass update undone")
    PERIODIC_TASKS_RUN = "periodic_tasks.run", _("Periodic tasks run by hand")
    CLIENT_CREATED = "client.created", _("Client created")
    CLIENT_CHANGED = "client.changed", _("Client changed")
    CLIENT_CUT = "client.cut", _("Service cut")
    CLIENT_REACTIVATED = "client.reactivated", _("Service reactivated")
    CLIENT_THROTTLED = "client.throttled", _("Speed reduced")
    NOTICE_SHOWN = "client.notice_shown", _("Notice shown")
    NOTICE_CLEARED = "client.notice_cleared", _("Notice cleared")
    NOTICE_DISMISSED = "client.notice_dismissed", _("Notice dismissed by the client for the day")
    PROMISE = "client.promise", _("Payment promise")
    MESSAGES_OPT_OUT = "client.messages_opt_out", _("Messages on a channel stopped or resumed")
    PORTAL_LINK = "client.portal_link", _("Client page link created")
    PORTAL_LINKS_REVOKED = "client.portal_links_revoked", _("Client page links revoked")
    MESSAGE_RESENT = "message.resent", _("Message resent")
    ZONE_CREATED = "zone.created", _("Zone created")
    ZONE_CHANGED = "zone.changed", _("Zone changed")
    ZONE_DELETED = "zone.deleted", _("Zone deleted")
    ROUTER_CREATED = "router.created", _("Router created")
    ROUTER_CHANGED = "router.changed", _("Router changed")
    RULES_INSTALLED = "router.rules_installed", _("Firewall rules installed")
    ROUTER_IMPORTED = "router.imported", _("Clients imported from the router")
    PLAN_CREATED = "plan.created", _("Plan created")
    PLAN_CHANGED = "plan.changed", _("Plan changed")
    INVOICE_CREATED = "invoice.created", _("Invoice created")
    INVOICE_CANCELLED = "invoice.cancelled", _("Invoice cancelled")
    CFDI_REPLACED = "cfdi.replaced", _("CFDI replaced with corrected data")
    PAYMENT_REGISTERED = "payment.registered", _("Payment registered")
    CHARGE_ADDED = "charge.added", _("Charge added")
    CHARGE_DELETED = "charge.deleted", _("Charge deleted")
    PAYMENT_VOIDED = "payment.voided", _("Payment voided")
    PAYMENT_REVERSED = "payment.reversed", _("Payment reversed by the gateway")
    COMPANY_CHANGED = "company.changed", _("Company settings changed")
    STAFF_CREATED = "staff.created", _("Staff member created")
    STAFF_CHANGED = "staff.changed", _("Staff member changed")
    API_KEY_CREATED = "staff.api_key_created", _("API key created")
    API_KEY_REVOKED = "staff.api_key_revoked", _("API key revoked")
    PASSWORD_CHANGED = "staff.password_changed", _("Own password changed")
    LOGIN_FAILED = "login.failed", _("Failed login")
    LOGIN_REFUSED_LOCKED = "login.refused_locked", _("Login refused: username locked out")
    LOGIN_LOCKED_OUT = "login.locked_out", _("Username locked out after failed logins")
    LOGIN_UNLOCKED = "login.unlocked", _("Login unlocked")


OBJECT_TYPE_LABELS = {
    "client": _("Client"),
    "zone": _("Zone"),
    "router": _("Router"),
    "plan": _("Plan"),
    "user": _("Staff member"),
    "mass_update": _("Mass update"),
    "company": _("Company"),
}


_TYPE_NAMES = {"massupdate": "mass_update", "companysettings": "company"}


def object_type_of(obj: models.Model) -> str:
    """The name an object's kind goes by in the audit log."""
    name = str(obj._meta.model_name)
    return _TYPE_NAMES.get(name, name)


class AuditEvent(models.Model):
    """Who did what to which object, with the values before and after."""

    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("who"), max_length=150)
    action = models.CharField(
        _("action"), max_length=60, choices=AuditAction.choices, db_index=True
    )
    object_type = models.CharField(_("object type"), max_length=30)
    object_id = models.BigIntegerField(_("object id"))
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict)
    # The reason as its untranslated message with its values, so each reader sees it in their
    # own language (text typed by a person, or stored before, shows as it is).
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    reason_args = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    @property
    def action_label(self) -> str:
        return self.get_action_display()

    @property
    def object_type_label(self) -> str:
        return str(OBJECT_TYPE_LABELS.get(self.object_type, self.object_type))

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language."""
        return translated(self.reason, self.reason_args)
