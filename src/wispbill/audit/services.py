"""The one place audit events are written."""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone

from wispbill.audit.models import SYSTEM, AuditEvent, object_type_of


def actor_name_of(actor: User | None) -> str:
    """A person's username, or "system" for the product's own actions (actor None)."""
    return actor.get_username() if actor is not None else SYSTEM


def audit_record(
    *,
    actor: User | None,
    action: str,
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


def audit_record_many(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    rows: Iterable[tuple],
    reason: str = "",
    reason_args: dict | None = None,
) -> int:
    """Record one event per (object_id, object_repr, changes[, reason_args]) row, in bulk;
    returns the count. A row's own reason values win over the shared ones."""
    at = timezone.now()
    name = actor_name_of(actor)
    events = [
        AuditEvent(
            at=at,
            actor=actor,
            actor_name=name,
            action=action,
            object_type=object_type,
            object_id=row[0],
            object_repr=row[1][:200],
            changes=row[2],
            reason=reason,
            reason_args=row[3] if len(row) > 3 else (reason_args or {}),
        )
        for row in rows
    ]
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    return len(events)
