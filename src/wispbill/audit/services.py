"""The one place audit events are written."""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone

from wispbill.audit.models import SYSTEM, AuditAction, AuditEvent, object_type_of
from wispbill.core.db import bulk_insert


def actor_name_of(actor: User | None) -> str:
    """A person's username, or "system" for the product's own actions (actor None)."""
    return actor.get_username() if actor is not None else SYSTEM


def audit_record(
    *,
    actor: User | None,
    action: AuditAction,
    obj: models.Model,
    changes: dict | None = None,
    reason: str = "",
    reason_args: dict | None = None,
) -> AuditEvent:
    """Record one event; call it inside the transaction of the change it describes. `reason`
    is an untranslated message (`gettext_noop`) with `reason_args`, or a person's own text."""
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor,
        actor_name=actor_name_of(actor),
        action=action,
        object_type=object_type_of(obj),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        changes=changes or {},
        reason=reason,
        reason_args=reason_args or {},
    )


AUDIT_COLUMNS = (
    "at",
    "actor",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "reason",
    "reason_args",
)


def audit_record_many(
    *,
    actor: User | None,
    action: AuditAction,
    object_type: str,
    rows: Iterable[tuple],
    reason: str = "",
    reason_args: dict | None = None,
) -> int:
    """Record one event per (object_id, object_repr, changes[, reason_args]) row, in bulk
    (the driver's executemany: the daily run writes tens of thousands); returns the count.
    A row's own reason values win over the shared ones."""
    at = timezone.now()
    actor_id = actor.pk if actor is not None else None
    name = actor_name_of(actor)
    shared = reason_args or {}
    return bulk_insert(
        AuditEvent,
        AUDIT_COLUMNS,
        (
            (
                at,
                actor_id,
                name,
                action,
                object_type,
                row[0],
                row[1][:200],
                row[2],
                reason,
                row[3] if len(row) > 3 else shared,
            )
            for row in rows
        ),
    )
