from django.db.models import QuerySet

from wispbill.audit.models import AuditEvent, object_type_of


def audit_event_list(
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    action: str | None = None,
    actor: str | None = None,
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id is not None:
        qs = qs.filter(object_id=object_id)
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_name=actor)
    return qs


def audit_events_for(obj) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=object_type_of(obj), object_id=obj.pk)
