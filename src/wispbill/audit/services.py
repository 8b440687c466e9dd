"""The one place audit events are written."""

from collections.abc import Iterable

from django.db import models
from django.utils import timezone

from wispbill.audit.models import SYSTEM, AuditEvent

_TYPE_NAMES = {"massupdate": "mass_update", "companysettings": "company"}


def object_type_of(obj: models.Model) -> str:
    name = obj._meta.model_name
    return _TYPE_NAMES.get(name, name)


def actor_name_of(actor) -> str:
    return actor.get_username() if actor is not None else SYSTEM


def audit_record(
    *, actor, action: str, obj: models.Model, changes: dict | None = None, reason: str = ""
) -> AuditEvent:
    """Record one event; call it inside the transaction of the change it describes."""
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
    )


def audit_record_many(
    *, actor, action: str, object_type: str, rows: Iterable[tuple], reason: str = ""
) -> int:
    """Record one event per (object_id, object_repr, changes[, reason]) row, in bulk; returns
    the count. A row's own reason wins over the shared one."""
    at = timezone.now()
    name = actor_name_of(actor)
    events = (
        AuditEvent(
            at=at,
            actor=actor,
            actor_name=name,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=repr_[:200],
            changes=changes,
            reason=row[3] if len(row) > 3 else reason,
        )
        for row in rows
        for object_id, repr_, changes in [row[:3]]
    )
    created = AuditEvent.objects.bulk_create(list(events), batch_size=2000)
    return len(created)
