"""Acciones masivas: set chosen switches on one zone or on every zone, and on every
own-billing client in them, after a preview; and undo it, field by field."""

from collections import defaultdict
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import actor_name_of, audit_record, audit_record_many
from wispbill.automation.models import MassUpdate, MassUpdateItem, ObjectKind
from wispbill.clients.enforcement import routers_changed
from wispbill.clients.models import BillingType, Client, ClientState
from wispbill.clients.switches import rows_set, switches_require
from wispbill.core.db import bulk_insert, locked
from wispbill.core.models import MASS_FIELDS, rev_column
from wispbill.core.schedule import schedule_errors
from wispbill.core.switches import TASKS
from wispbill.network.models import Zone

CHUNK = 500  # keeps every IN (...) list under SQLite's bound-variable limit
MODELS: dict[str, type[Zone] | type[Client]] = {ObjectKind.ZONE: Zone, ObjectKind.CLIENT: Client}
SKIPPED_NAMED = 100


def _check(*, zone: Zone | None, all_zones: bool, values: dict[str, Any]) -> None:
    errors = {}
    if all_zones and zone is not None:
        errors["zone"] = [_('Choose one zone or "all zones", not both.')]
    elif not all_zones and zone is None:
        errors["zone"] = [_('Choose a zone or "all zones".')]
    if not values:
        errors["__all__"] = [_("Choose at least one task to turn on or off, or what the cut does.")]
    unknown = sorted(set(values) - set(MASS_FIELDS))
    if unknown:
        errors["__all__"] = [_("Unknown field: %(name)s.") % {"name": ", ".join(unknown)}]
    for task in set(TASKS) & set(values):
        if not isinstance(values[task], bool):
            errors[task] = [_("Must be true or false.")]
    # What the cut does is checked by the schedule's own rules, the one place they live.
    cut = {key: values[key] for key in ("cut_action", "throttle_kbps") if key in values}
    for field, messages in schedule_errors(cut).items():
        if field in cut:
            errors[field] = messages
    if errors:
        raise ValidationError(errors)


def _push_throttled(mass_update: MassUpdate) -> None:
    """A new reduced speed reaches the queues of the clients throttled now, in its scope."""
    if "throttle_kbps" not in mass_update.values:
        return
    clients = Client.objects.filter(state=ClientState.THROTTLED)
    if not mass_update.all_zones:
        clients = clients.filter(zone_id=mass_update.zone_id)  # type: ignore[misc]  # None (zone deleted) matches no client: a client's zone is required
    routers_changed(clients.values_list("zone__router_id", flat=True).distinct())


def _scope(zone: Zone | None, all_zones: bool) -> dict[str, QuerySet[Any]]:
    if all_zones:
        zones = Zone.objects.all()
    else:
        assert zone is not None  # _check refused neither
        zones = Zone.objects.filter(pk=zone.pk)
    clients = Client.objects.filter(billing_type=BillingType.OWN)
    if not all_zones:
        clients = clients.filter(zone=zone)
    return {ObjectKind.ZONE: zones, ObjectKind.CLIENT: clients}


def _differs(values: dict[str, Any]) -> Q:
    condition = Q()
    for field, value in values.items():
        condition |= ~Q(**{MASS_FIELDS[field]: value})
    return condition


def mass_update_preview(
    *, actor: User | None, zone: Zone | None = None, all_zones: bool = False, values: dict[str, Any]
) -> dict[str, Any]:
    """What a mass update would change, without changing it."""
    switches_require(actor)
    _check(zone=zone, all_zones=all_zones, values=values)
    scope = _scope(zone, all_zones)
    changed_zones = scope[ObjectKind.ZONE].filter(_differs(values))
    return {
        "zones": changed_zones.count(),
        "clients": scope[ObjectKind.CLIENT].filter(_differs(values)).count(),
        "zones_in_scope": scope[ObjectKind.ZONE].count(),
        "own_billing_clients_in_scope": scope[ObjectKind.CLIENT].count(),
        "zone_billing_clients_following": Client.objects.filter(
            billing_type=BillingType.ZONE, zone__in=changed_zones
        ).count(),
    }


def _apply_kind(
    qs: QuerySet[Any],
    *,
    kind: str,
    mass_update: MassUpdate,
    values: dict[str, Any],
    actor: User | None,
) -> list[int]:
    """Set `values` on the rows of `qs` that differ, one UPDATE per field; keep an item and
    an audit event per row. Returns the rows changed."""
    fields = list(values)
    columns = [MASS_FIELDS[f] for f in fields]
    revs = [rev_column(f) for f in fields]
    label = ("name", "router__name") if kind == ObjectKind.ZONE else ("name",)
    rows = list(locked(qs.filter(_differs(values))).values_list("id", *columns, *revs, *label))
    for field in fields:
        rows_set(qs, field, values[field])
    items, events = [], []
    n = len(fields)
    for row in rows:
        current, current_revs, names = row[1 : 1 + n], row[1 + n : 1 + 2 * n], row[1 + 2 * n :]
        changed = [i for i, field in enumerate(fields) if current[i] != values[field]]
        before = {fields[i]: current[i] for i in changed}
        new_revs = {fields[i]: current_revs[i] + 1 for i in changed}
        items.append((mass_update.pk, kind, row[0], before, new_revs))
        events.append(
            (
                row[0],
                " · ".join(str(part) for part in reversed(names)),
                {field: [value, values[field]] for field, value in before.items()},
            )
        )
    bulk_insert(MassUpdateItem, ("mass_update", "kind", "object_id", "before", "revs"), items)
    audit_record_many(
        actor=actor,
        action=AuditAction.MASS_UPDATE,
        object_type=kind,
        rows=events,
        reason=gettext_noop("Mass update #%(id)s"),
        reason_args={"id": mass_update.pk},
    )
    return [row[0] for row in rows]


@transaction.atomic
def mass_update_apply(
    *, actor: User | None, zone: Zone | None = None, all_zones: bool = False, values: dict[str, Any]
) -> MassUpdate:
    """Set the chosen fields on the zone(s) and on every own-billing client in them."""
    switches_require(actor)
    _check(zone=zone, all_zones=all_zones, values=values)
    scope = _scope(zone, all_zones)
    mass_update = MassUpdate.objects.create(
        actor=actor,
        actor_name=actor_name_of(actor),
        zone=zone,
        zone_name=str(zone) if zone else "",
        all_zones=all_zones,
        values=values,
    )
    changed = {
        kind: _apply_kind(qs, kind=kind, mass_update=mass_update, values=values, actor=actor)
        for kind, qs in scope.items()
    }
    mass_update.zones_changed = len(changed[ObjectKind.ZONE])
    mass_update.clients_changed = len(changed[ObjectKind.CLIENT])
    mass_update.zone_billed_clients = Client.objects.filter(
        billing_type=BillingType.ZONE,
        zone_id__in=mass_update.items.filter(kind=ObjectKind.ZONE).values("object_id"),
    ).count()
    mass_update.save()
    _push_throttled(mass_update)
    audit_record(
        actor=actor,
        action=AuditAction.MASS_UPDATE,
        obj=mass_update,
        changes={
            **{field: [None, value] for field, value in values.items()},
            "scope": [None, "all_zones" if all_zones or zone is None else f"zone:{zone.pk}"],
            "zones_changed": [None, mass_update.zones_changed],
            "clients_changed": [None, mass_update.clients_changed],
        },
    )
    return mass_update


def _undo_kind(
    mass_update: MassUpdate, kind: str, actor: User | None, tally: dict[str, dict[str, int]]
) -> tuple[set[int], dict[int, list[str]]]:
    """Restore each field of each row of one kind that nobody changed since; returns the
    rows with something restored and the rows with something skipped ({id: [fields]})."""
    model = MODELS[kind]
    items = list(mass_update.items.filter(kind=kind).values_list("object_id", "before", "revs"))
    restored_rows, skipped_rows = set(), defaultdict(list)
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        columns = [c for f in MASS_FIELDS for c in (MASS_FIELDS[f], rev_column(f))]
        current = {
            row[0]: dict(zip(columns, row[1:], strict=True))
            for row in locked(model.objects.filter(pk__in=[i[0] for i in chunk])).values_list(
                "id", *columns
            )
        }
        groups: dict[tuple[str, Any], list[int]] = defaultdict(list)
        events = []
        for object_id, before, revs in chunk:
            now = current.get(object_id)
            changes = {}
            for field, value in before.items():
                if now is not None and now[rev_column(field)] == revs[field]:
                    groups[(field, value)].append(object_id)
                    changes[field] = [now[MASS_FIELDS[field]], value]
                    tally[field]["restored"] += 1
                else:
                    # Deleted, or that field changed by someone since: theirs is newer.
                    skipped_rows[object_id].append(field)
                    tally[field]["skipped"] += 1
            if changes:
                restored_rows.add(object_id)
                events.append((object_id, "", changes))
        for (field, value), ids in groups.items():
            rows_set(model.objects.filter(pk__in=ids), field, value)
        audit_record_many(
            actor=actor,
            action=AuditAction.MASS_UPDATE_UNDO,
            object_type=kind,
            rows=events,
            reason=gettext_noop("Undo of mass update #%(id)s"),
            reason_args={"id": mass_update.pk},
        )
    return restored_rows, skipped_rows


def _named(kind: str, skipped: dict[int, list[str]]) -> list[dict[str, Any]]:
    ids = list(skipped)[:SKIPPED_NAMED]
    if kind == ObjectKind.ZONE:
        names = {z.pk: str(z) for z in Zone.objects.select_related("router").filter(pk__in=ids)}
    else:
        names = dict(Client.objects.filter(pk__in=ids).values_list("id", "name"))
    return [
        {"kind": kind, "id": i, "name": names.get(i, f"#{i}"), "fields": skipped[i]} for i in ids
    ]


@transaction.atomic
def mass_update_undo(*, actor: User | None, mass_update: MassUpdate) -> dict[str, Any]:
    """Put back what a mass update replaced: each field, on each row where nobody has changed
    that field since. The answer counts, per field, the rows restored and skipped, and names
    the skipped rows (the first hundred of each kind)."""
    switches_require(actor)
    mass_update = locked(MassUpdate.objects.filter(pk=mass_update.pk)).get()
    if mass_update.undone_at:
        raise ValidationError(
            _("This mass update was already undone on %(when)s.")
            % {"when": timezone.localtime(mass_update.undone_at).strftime("%d/%m/%Y %H:%M")}
        )
    tally = {field: {"restored": 0, "skipped": 0} for field in mass_update.values}
    zones_restored, zones_skipped = _undo_kind(mass_update, ObjectKind.ZONE, actor, tally)
    clients_restored, clients_skipped = _undo_kind(mass_update, ObjectKind.CLIENT, actor, tally)
    result = {
        "id": mass_update.pk,
        "zones_restored": len(zones_restored),
        "clients_restored": len(clients_restored),
        "zones_skipped": len(zones_skipped),
        "clients_skipped": len(clients_skipped),
        "tasks": tally,
        "skipped": _named(ObjectKind.ZONE, zones_skipped)
        + _named(ObjectKind.CLIENT, clients_skipped),
    }
    mass_update.undone_at = timezone.now()
    mass_update.undone_by_name = actor_name_of(actor)
    mass_update.undo_restored = len(zones_restored) + len(clients_restored)
    mass_update.undo_skipped = len(zones_skipped) + len(clients_skipped)
    mass_update.undo_result = result
    mass_update.save()
    _push_throttled(mass_update)
    audit_record(
        actor=actor,
        action=AuditAction.MASS_UPDATE_UNDO,
        obj=mass_update,
        changes={
            k: [None, v]
            for k, v in result.items()
            if k in ("zones_restored", "clients_restored", "zones_skipped", "clients_skipped")
        },
    )
    return result
