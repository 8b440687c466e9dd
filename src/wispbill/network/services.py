"""Routers and their billing zones."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wispbill.audit.services import audit_record
from wispbill.automation.services import switches_assign
from wispbill.core.db import locked
from wispbill.core.schedule import BillingSchedule, schedule_changes, schedule_from
from wispbill.core.switches import Switches
from wispbill.network.models import Enforcement, Router, Zone
from wispbill.network.sync import routers_changed

ROUTER_FIELDS = (
    "name",
    "host",
    "api_port",
    "username",
    "use_tls",
    "enforcement",
    "cut_list",
    "notice_list",
)


def _router_check(router: Router) -> None:
    errors = {}
    if router.enforcement == Enforcement.MIKROTIK and not router.host:
        errors["host"] = [_("A MikroTik router needs a host to connect to.")]
    if not 1 <= router.api_port <= 65535:
        errors["api_port"] = [
            _("Must be between %(low)s and %(high)s.") % {"low": 1, "high": 65535}
        ]
    if router.cut_list and router.cut_list == router.notice_list:
        errors["notice_list"] = [_("The notice list must differ from the cut list.")]
    if errors:
        raise ValidationError(errors)
    router.full_clean(exclude=["password_encrypted"])


def _router_changes(before: dict, router: Router) -> dict:
    return {
        field: [before[field], getattr(router, field)]
        for field in ROUTER_FIELDS
        if before[field] != getattr(router, field)
    }


@transaction.atomic
def router_create(*, actor, password: str = "", **fields) -> Router:
    """Add a router."""
    router = Router(**fields)
    router.password = password
    _router_check(router)
    router.save()
    audit_record(
        actor=actor,
        action="router.created",
        obj=router,
        changes={f: [None, getattr(router, f)] for f in ROUTER_FIELDS},
    )
    routers_changed([router.pk])
    return router


@transaction.atomic
def router_update(*, actor, router: Router, password: str | None = None, **fields) -> Router:
    """Change a router's connection or lists; a password left out is kept."""
    router = locked(Router.objects).get(pk=router.pk)
    before = {f: getattr(router, f) for f in ROUTER_FIELDS}
    for name, value in fields.items():
        setattr(router, name, value)
    changes = _router_changes(before, router)
    if password:
        router.password = password
        changes["password"] = ["***", "***"]
    _router_check(router)
    router.save()
    if changes:
        audit_record(actor=actor, action="router.changed", obj=router, changes=changes)
        routers_changed([router.pk])
    return router


def _zone_check(zone: Zone, exclude_pk=None) -> None:
    name = (zone.name or "").strip()
    if not name:
        raise ValidationError({"name": [_("This field is required.")]})
    clash = Zone.objects.filter(router_id=zone.router_id, name__iexact=name)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": [_("This router already has a zone with that name.")]})
    zone.name = name


@transaction.atomic
def zone_create(
    *, actor, router: Router, name: str, schedule: BillingSchedule, switches: Switches | None = None
) -> Zone:
    """Add a billing zone to a router; its switches start on unless the actor may set them."""
    zone = Zone(router=router, name=name)
    zone.set_schedule(schedule_from(schedule.as_dict()))
    _zone_check(zone)
    switch_diff = switches_assign(actor=actor, obj=zone, switches=switches or Switches())
    zone.save()
    audit_record(
        actor=actor,
        action="zone.created",
        obj=zone,
        changes={
            "name": [None, zone.name],
            "billing": [None, schedule.as_dict()],
            **({"periodic_tasks": [None, zone.switches.as_dict()]} if switch_diff else {}),
        },
    )
    return zone


@transaction.atomic
def zone_update(
    *,
    actor,
    zone: Zone,
    name: str | None = None,
    schedule: BillingSchedule | None = None,
    switches: dict[str, bool] | None = None,
) -> Zone:
    """Change a zone. Its own-billing clients are never touched: they have their own."""
    zone = locked(Zone.objects.select_related("router")).get(pk=zone.pk)
    # The switches go first, so a refused switch change refuses the whole edit.
    switch_diff = switches_assign(
        actor=actor, obj=zone, switches=zone.switches.replace(**(switches or {}))
    )
    changes: dict = {}
    if name is not None and name.strip() != zone.name:
        changes["name"] = [zone.name, name.strip()]
        zone.name = name
        _zone_check(zone, exclude_pk=zone.pk)
    if schedule is not None:
        schedule = schedule_from(schedule.as_dict())
        changes.update(schedule_changes(zone.schedule, schedule))
        zone.set_schedule(schedule)
    zone.save()
    if changes:
        audit_record(actor=actor, action="zone.changed", obj=zone, changes=changes)
    if switch_diff:
        audit_record(actor=actor, action="periodic_tasks.changed", obj=zone, changes=switch_diff)
    return zone


@transaction.atomic
def zone_delete(*, actor, zone: Zone) -> None:
    """Remove a zone that has no clients."""
    if zone.clients.exists():
        raise ValidationError(_("This zone still has clients; move them to another zone first."))
    audit_record(actor=actor, action="zone.deleted", obj=zone, changes={"name": [zone.name, None]})
    zone.delete()
