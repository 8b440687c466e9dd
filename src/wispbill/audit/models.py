from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

SYSTEM = "system"
ACTION_LABELS = {
    "periodic_tasks.changed": _("Periodic tasks changed"),
    "periodic_tasks.mass_update": _("Periodic tasks changed by a mass update"),
    "periodic_tasks.mass_update_undo": _("Mass update undone"),
    "client.created": _("Client created"),
    "client.changed": _("Client changed"),
    "zone.created": _("Zone created"),
    "zone.changed": _("Zone changed"),
    "zone.deleted": _("Zone deleted"),
    "router.created": _("Router created"),
    "router.changed": _("Router changed"),
    "plan.created": _("Plan created"),
    "plan.changed": _("Plan changed"),
    "staff.created": _("Staff member created"),
    "staff.changed": _("Staff member changed"),
    "client.cut": _("Service cut"),
    "client.reactivated": _("Service reactivated"),
    "client.notice_shown": _("Notice shown"),
    "client.notice_cleared": _("Notice cleared"),
    "client.promise": _("Payment promise"),
    "invoice.created": _("Invoice created"),
    "invoice.cancelled": _("Invoice cancelled"),
    "payment.registered": _("Payment registered"),
    "periodic_tasks.run": _("Periodic tasks run by hand"),
    "company.changed": _("Company settings changed"),
    "router.rules_installed": _("Firewall rules installed"),
    "staff.api_key_created": _("API key created"),
    "staff.api_key_revoked": _("API key revoked"),
    "staff.password_changed": _("Own password changed"),
    "login.failed": _("Failed login"),
    "login.refused_locked": _("Login refused: username locked out"),
    "login.locked_out": _("Username locked out after failed logins"),
    "login.unlocked": _("Login unlocked"),
}
OBJECT_TYPE_LABELS = {
    "client": _("Client"),
    "zone": _("Zone"),
    "router": _("Router"),
    "plan": _("Plan"),
    "user": _("Staff member"),
    "mass_update": _("Mass update"),
    "company": _("Company"),
}


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
    action = models.CharField(_("action"), max_length=60, db_index=True)
    object_type = models.CharField(_("object type"), max_length=30)
    object_id = models.BigIntegerField(_("object id"))
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def object_type_label(self) -> str:
        return str(OBJECT_TYPE_LABELS.get(self.object_type, self.object_type))
