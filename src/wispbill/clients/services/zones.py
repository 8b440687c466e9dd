"""Billing zones: their name, pool, schedule and switches. Here, above `network` where the
zone's row lives, because a zone's switches and cut govern its clients (`clients.switches`)."""

from dataclasses import replace

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.clients.switches import switch_changes, switches_audit, switches_set
from wispbill.core.db import locked
from wispbill.core.models import CutAction
from wispbill.core.schedule import BillingSchedule, schedule_changes, schedule_from
from wispbill.core.switches import Switches
from wispbill.network.models import Router, Zone, validate_routeros_name
from wispbill.network.signals import router_settings_changed
from wispbill.staff.changes import changes_authorize


def _values(schedule: BillingSchedule | dict) -> dict:
    return schedule if isinstance(schedule, dict) else schedule.as_dict()


def _pool_check(pool: str) -> None:
    try:
        validate_routeros_name(pool)
    except ValidationError as exc:
        raise ValidationError({"pppoe_pool": exc.messages}) from None


def _zone_check(zone: Zone, exclude_pk: int | None = None) -> None:
    name = (zone.name or "").strip()
    if not name:
        raise ValidationError({"name": [_("This field is required.")]})
    clash = Zone.objects.filter(router_id=zone.router_id, name__iexact=name)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError(
            {
                "name": [
                    _("%(router)s already has a zone called «%(name)s».")
                    % {"router": zone.router.name, "name": name}
                ]
            }
        )
    zone.name = name


@transaction.atomic
def zone_create(
    *,
    actor: User | None,
    router: Router,
    name: str,
    schedule: BillingSchedule | dict,
    switches: Switches | None = None,
    pppoe_pool: str = "",
) -> Zone:
    """Add a billing zone to a router; its switches start on, and its cut suspends, unless the
    actor may set them."""
    zone = Zone(router=router, name=name, pppoe_pool=pppoe_pool)
    new_schedule = schedule_from(_values(schedule))
    wanted = switches or Switches()
    # Against what a zone starts with: every task on, the cut suspending.
    changes = {
        "name": [None, name],
        **({"pppoe_pool": [None, pppoe_pool]} if pppoe_pool else {}),
        **schedule_changes(replace(new_schedule, cut_action=CutAction.SUSPEND), new_schedule),
        **switch_changes(Switches(), wanted),
    }
    changes_authorize(actor, "zone", changes)
    _pool_check(pppoe_pool)
    zone.set_schedule(new_schedule)
    _zone_check(zone)
    switches_set(zone, wanted)
    zone.save()
    audit_record(
        actor=actor,
        action=AuditAction.ZONE_CREATED,
        obj=zone,
        changes={
            "name": [None, zone.name],
            "billing": [None, new_schedule.as_dict()],
            **({"pppoe_pool": [None, zone.pppoe_pool]} if zone.pppoe_pool else {}),
            **(
                {"periodic_tasks": [None, zone.switches.as_dict()]}
                if switch_changes(Switches(), wanted)
                else {}
            ),
        },
    )
    return zone


@transaction.atomic
def zone_update(
    *,
    actor: User | None,
    zone: Zone,
    name: str | None = None,
    schedule: BillingSchedule | dict | None = None,
    switches: dict[str, bool] | None = None,
    pppoe_pool: str | None = None,
) -> Zone:
    """Change a zone; a schedule given without what the cut does keeps the zone's. The whole
    change is authorized before anything is written. Its own-billing clients are never
    touched: they have their own."""
    zone = locked(Zone.objects.select_related("router")).get(pk=zone.pk)
    changes: dict = {}
    if name is not None and name.strip() != zone.name:
        changes["name"] = [zone.name, name.strip()]
    if pppoe_pool is not None and pppoe_pool != zone.pppoe_pool:
        changes["pppoe_pool"] = [zone.pppoe_pool, pppoe_pool]
    new_schedule = None
    if schedule is not None:
        new_schedule = schedule_from(_values(schedule), base=zone.schedule)
        changes.update(schedule_changes(zone.schedule, new_schedule))
    wanted = zone.switches.replace(**(switches or {}))
    changes.update(switch_changes(zone.switches, wanted))
    changes_authorize(actor, "zone", changes)

    if name is not None and "name" in changes:
        zone.name = name
        _zone_check(zone, exclude_pk=zone.pk)
    if pppoe_pool is not None and "pppoe_pool" in changes:
        _pool_check(pppoe_pool)
        zone.pppoe_pool = pppoe_pool
    if new_schedule is not None:
        zone.set_schedule(new_schedule)
    switches_set(zone, wanted)
    if not changes:
        return zone
    zone.save()
    fields = {key: pair for key, pair in changes.items() if not key.startswith("periodic_tasks.")}
    if fields:
        audit_record(actor=actor, action=AuditAction.ZONE_CHANGED, obj=zone, changes=fields)
    if {"billing.throttle_kbps", "pppoe_pool"} & set(changes):
        # Its throttled clients' queues change speed; its pool clients' secrets, their pool.
        router_settings_changed.send(sender=Router, router_ids={zone.router_id})
    switches_audit(actor=actor, obj=zone, changes=changes)
    return zone


@transaction.atomic
def zone_delete(*, actor: User | None, zone: Zone) -> None:
    """Remove a zone that has no clients."""
    changes = {"name": [zone.name, None]}
    changes_authorize(actor, "zone", changes)
    if zone.clients.exists():
        raise ValidationError(_("This zone still has clients; move them to another zone first."))
    audit_record(actor=actor, action=AuditAction.ZONE_DELETED, obj=zone, changes=changes)
    zone.delete()
