from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wispbill.automation.switches import Switches


class SwitchFields(models.Model):
    """The periodic-task switches of a zone, or of a client with its own billing."""

    task_invoices = models.BooleanField(_("automatic invoices"), default=True)
    task_notices = models.BooleanField(_("automatic notices"), default=True)
    task_cuts = models.BooleanField(_("automatic cuts"), default=True)
    # Bumped on every change of a switch, so an undo can tell whether anyone touched a row since.
    switches_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        abstract = True

    @property
    def switches(self) -> Switches:
        return Switches(self.task_invoices, self.task_notices, self.task_cuts)

    def set_switches(self, switches: Switches) -> None:
        self.task_invoices = switches.invoices
        self.task_notices = switches.notices
        self.task_cuts = switches.cuts


class MassUpdate(models.Model):
    """One "Acciones masivas" run: what it set, where, and what it replaced (its items)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    zone = models.ForeignKey("network.Zone", null=True, blank=True, on_delete=models.SET_NULL)
    zone_name = models.CharField(max_length=200, blank=True)
    all_zones = models.BooleanField(default=False)
    invoices = models.BooleanField(null=True)
    notices = models.BooleanField(null=True)
    cuts = models.BooleanField(null=True)
    zones_changed = models.PositiveIntegerField(default=0)
    clients_changed = models.PositiveIntegerField(default=0)
    zone_billed_clients = models.PositiveIntegerField(default=0)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by_name = models.CharField(max_length=150, blank=True)
    undo_restored = models.PositiveIntegerField(default=0)
    undo_skipped = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return _("Mass update #%(id)s") % {"id": self.pk}

    @property
    def targets(self) -> dict[str, bool]:
        """The tasks this update set, and to what."""
        return {
            task: value
            for task, value in (
                ("invoices", self.invoices),
                ("notices", self.notices),
                ("cuts", self.cuts),
            )
            if value is not None
        }


class MassUpdateItem(models.Model):
    """A row a mass update changed: the values it replaced and the version it left behind."""

    ZONE = "zone"
    CLIENT = "client"
    KINDS = [(ZONE, _("zone")), (CLIENT, _("client"))]

    mass_update = models.ForeignKey(MassUpdate, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=6, choices=KINDS)
    object_id = models.BigIntegerField()
    before_invoices = models.BooleanField(null=True)
    before_notices = models.BooleanField(null=True)
    before_cuts = models.BooleanField(null=True)
    version_after = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["mass_update", "kind", "object_id"])]

    def __str__(self) -> str:
        return f"{self.mass_update_id}:{self.kind}:{self.object_id}"
