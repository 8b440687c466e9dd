from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ObjectKind(models.TextChoices):
    """The two kinds of row that carry switches."""

    ZONE = "zone", _("zone")
    CLIENT = "client", _("client")


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
    # What it set: {field: value} over the fields of core.models.MASS_FIELDS.
    values = models.JSONField(default=dict)
    zones_changed = models.PositiveIntegerField(default=0)
    clients_changed = models.PositiveIntegerField(default=0)
    zone_billed_clients = models.PositiveIntegerField(default=0)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by_name = models.CharField(max_length=150, blank=True)
    undo_restored = models.PositiveIntegerField(default=0)
    undo_skipped = models.PositiveIntegerField(default=0)
    # The undo's answer: per field, the rows restored and skipped, and the rows it skipped.
    undo_result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return _("Mass update #%(id)s") % {"id": self.pk}

    @property
    def targets(self) -> dict[str, Any]:
        """The fields this update set, and to what."""
        targets: dict[str, Any] = self.values
        return targets


class MassUpdateItem(models.Model):
    """A row a mass update changed: per field, the value it replaced and the revision the
    field had right after, so an undo restores each field nobody changed since."""

    mass_update = models.ForeignKey(MassUpdate, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=6, choices=ObjectKind.choices)
    object_id = models.BigIntegerField()
    before = models.JSONField(default=dict)
    revs = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["mass_update", "kind", "object_id"])]

    def __str__(self) -> str:
        return f"{self.mass_update_id}:{self.kind}:{self.object_id}"


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPLIED = "applied", _("Applied")
    ERROR = "error", _("Error")


class TaskState(models.Model):
    """The last run of one periodic task for one zone or one own-billing client."""

    kind = models.CharField(max_length=6, choices=ObjectKind.choices)
    object_id = models.BigIntegerField()
    task = models.CharField(max_length=8)
    last_run_date = models.DateField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(
        max_length=8, choices=TaskStatus.choices, default=TaskStatus.PENDING
    )
    last_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id", "task"], name="task_state_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}:{self.task}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ManualRun(models.Model):
    """A "run now" asked from the panel, with its progress."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    day = models.DateField()
    zone = models.ForeignKey("network.Zone", null=True, blank=True, on_delete=models.SET_NULL)
    client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.SET_NULL)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} {self.day}"


class DailyRunPart(models.Model):
    """One share of a day's scheduled run, when it fans out over the task consumers (on
    PostgreSQL with Redis): a group of zones, queued once, retried if it gets lost."""

    day = models.DateField()
    number = models.PositiveIntegerField()
    zone_ids = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING)
    queued_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["day", "number"]
        constraints = [
            models.UniqueConstraint(fields=["day", "number"], name="daily_run_part_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} part {self.number}"
