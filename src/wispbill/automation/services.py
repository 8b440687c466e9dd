"""Changing the periodic-task switches: one row, or many at once with an undo."""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wispbill.audit.services import actor_name_of, audit_record, audit_record_many
from wispbill.automation.models import MassUpdate, MassUpdateItem
from wispbill.core.clock import advance_business_day
from wispbill.core.db import locked
from wispbill.core.models import SwitchFields
from wispbill.core.switches import TASKS, Switches
from wispbill.staff.permissions import TOGGLE_PERIODIC_TASKS, require_permission

# Keeps every IN (...) list under SQLite's bound-variable limit.
CHUNK = 500


def switches_assign(*, actor, obj: SwitchFields, switches: Switches) -> dict:
    """Set a row's switches in memory, checking the permission if anything changes.

    Returns the diff ({task: [before, after]}); the caller saves the row and audits it.
    """
    diff = obj.switches.diff(switches)
    if diff:
        require_permission(actor, TOGGLE_PERIODIC_TASKS)
        obj.set_switches(switches)
        obj.switches_version += 1
    return diff


def _targets(invoices, notices, cuts) -> dict[str, bool]:
    return {
        task: value
        for task, value in zip(TASKS, (invoices, notices, cuts), strict=True)
        if value is not None
    }


def _differs(targets: dict[str, bool]) -> Q:
    condition = Q()
    for task, value in targets.items():
        condition |= ~Q(**{f"task_{task}": value})
    return condition


def _scope(*, zone, all_zones: bool, targets: dict) -> None:
    errors = {}
    if all_zones and zone is not None:
        errors["zone"] = [_('Choose one zone or "all zones", not both.')]
    elif not all_zones and zone is None:
        errors["zone"] = [_('Choose a zone or "all zones".')]
    if not targets:
        errors["__all__"] = [_("Choose at least one task to turn on or off.")]
    if errors:
        raise ValidationError(errors)


def _querysets(zone, all_zones: bool):
    from wispbill.clients.models import Client
    from wispbill.network.models import Zone

    zones = Zone.objects.all() if all_zones else Zone.objects.filter(pk=zone.pk)
    clients = Client.objects.filter(billing_type="own")
    if not all_zones:
        clients = clients.filter(zone=zone)
    return zones, clients


def mass_update_preview(
    *, actor, zone=None, all_zones: bool = False, invoices=None, notices=None, cuts=None
) -> dict:
    """What a mass update would change, without changing it."""
    require_permission(actor, TOGGLE_PERIODIC_TASKS)
    targets = _targets(invoices, notices, cuts)
    _scope(zone=zone, all_zones=all_zones, targets=targets)
    zones, clients = _querysets(zone, all_zones)
    changed_zones = zones.filter(_differs(targets))
    from wispbill.clients.models import Client

    return {
        "zones": changed_zones.count(),
        "clients": clients.filter(_differs(targets)).count(),
        "zones_in_scope": zones.count(),
        "own_billing_clients_in_scope": clients.count(),
        "zone_billing_clients_following": Client.objects.filter(
            billing_type="zone", zone__in=changed_zones
        ).count(),
    }


def _update_rows(model: type[models.Model], ids: list[int], values: dict) -> None:
    for start in range(0, len(ids), CHUNK):
        model.objects.filter(pk__in=ids[start : start + CHUNK]).update(
            **values, switches_version=F("switches_version") + 1
        )


def _apply_to(
    model,
    qs,
    *,
    mass_update: MassUpdate,
    kind: str,
    targets: dict,
    actor,
    repr_fields: tuple[str, ...],
) -> int:
    fields = ("id", "switches_version", *(f"task_{t}" for t in TASKS), *repr_fields)
    rows = list(locked(qs.filter(_differs(targets))).values_list(*fields))
    values = {f"task_{task}": value for task, value in targets.items()}
    _update_rows(model, [row[0] for row in rows], values)
    items = []
    events = []
    for row in rows:
        current = dict(zip(TASKS, row[2:5], strict=True))
        before = {t: current[t] for t, v in targets.items() if current[t] != v}
        items.append(
            MassUpdateItem(
                mass_update=mass_update,
                kind=kind,
                object_id=row[0],
                version_after=row[1] + 1,
                **{f"before_{t}": before.get(t) for t in TASKS},
            )
        )
        label = " · ".join(str(part) for part in reversed(row[5:]))
        events.append((row[0], label, {t: [b, targets[t]] for t, b in before.items()}))
    MassUpdateItem.objects.bulk_create(items, batch_size=2000)
    audit_record_many(
        actor=actor,
        action="periodic_tasks.mass_update",
        object_type=kind,
        rows=events,
        reason=_("Mass update #%(id)s") % {"id": mass_update.pk},
    )
    return len(rows)


@transaction.atomic
def mass_update_apply(
    *, actor, zone=None, all_zones: bool = False, invoices=None, notices=None, cuts=None
) -> MassUpdate:
    """Set the chosen switches on the zone(s) and on every own-billing client in them."""
    require_permission(actor, TOGGLE_PERIODIC_TASKS)
    from wispbill.clients.models import Client
    from wispbill.network.models import Zone

    targets = _targets(invoices, notices, cuts)
    _scope(zone=zone, all_zones=all_zones, targets=targets)
    zones, clients = _querysets(zone, all_zones)
    mass_update = MassUpdate.objects.create(
        actor=actor,
        actor_name=actor_name_of(actor),
        zone=zone,
        zone_name=str(zone) if zone else "",
        all_zones=all_zones,
        **targets,
    )
    mass_update.zones_changed = _apply_to(
        Zone,
        zones,
        mass_update=mass_update,
        kind=MassUpdateItem.ZONE,
        targets=targets,
        actor=actor,
        repr_fields=("name", "router__name"),
    )
    mass_update.clients_changed = _apply_to(
        Client,
        clients,
        mass_update=mass_update,
        kind=MassUpdateItem.CLIENT,
        targets=targets,
        actor=actor,
        repr_fields=("name",),
    )
    changed_zone_ids = mass_update.items.filter(kind=MassUpdateItem.ZONE).values("object_id")
    mass_update.zone_billed_clients = Client.objects.filter(
        billing_type="zone", zone_id__in=changed_zone_ids
    ).count()
    mass_update.save()
    audit_record(
        actor=actor,
        action="periodic_tasks.mass_update",
        obj=mass_update,
        changes={
            **{task: [None, value] for task, value in targets.items()},
            "scope": [None, "all_zones" if all_zones else f"zone:{zone.pk}"],
            "zones_changed": [None, mass_update.zones_changed],
            "clients_changed": [None, mass_update.clients_changed],
        },
    )
    return mass_update


def _undo_kind(model, mass_update: MassUpdate, kind: str, actor) -> tuple[int, list[int]]:
    """Restore one kind of row; the count restored and the ids skipped."""
    items = list(
        mass_update.items.filter(kind=kind).values_list(
            "object_id", "version_after", *(f"before_{t}" for t in TASKS)
        )
    )
    ids = [item[0] for item in items]
    current: dict[int, tuple] = {}
    for start in range(0, len(ids), CHUNK):
        current.update(
            (row[0], row[1:])
            for row in locked(model.objects.filter(pk__in=ids[start : start + CHUNK])).values_list(
                "id", "switches_version", *(f"task_{t}" for t in TASKS)
            )
        )
    groups: dict[tuple, list[int]] = defaultdict(list)
    events = []
    skipped = []
    for object_id, version_after, *before in items:
        now = current.get(object_id)
        if now is None or now[0] != version_after:
            skipped.append(object_id)  # deleted, or changed by someone since: theirs is newer
            continue
        restore = tuple(zip(TASKS, before, strict=True))
        groups[restore].append(object_id)
        now_values = dict(zip(TASKS, now[1:], strict=True))
        events.append((object_id, "", {t: [now_values[t], b] for t, b in restore if b is not None}))
    for restore, group_ids in groups.items():
        values = {f"task_{t}": b for t, b in restore if b is not None}
        _update_rows(model, group_ids, values)
    audit_record_many(
        actor=actor,
        action="periodic_tasks.mass_update_undo",
        object_type=kind,
        rows=events,
        reason=_("Undo of mass update #%(id)s") % {"id": mass_update.pk},
    )
    return len(events), skipped


@transaction.atomic
def mass_update_undo(*, actor, mass_update: MassUpdate) -> dict:
    """Put back what a mass update replaced, on every row nobody has changed since."""
    require_permission(actor, TOGGLE_PERIODIC_TASKS)
    from wispbill.clients.models import Client
    from wispbill.network.models import Zone

    mass_update = locked(MassUpdate.objects.filter(pk=mass_update.pk)).get()
    if mass_update.undone_at:
        raise ValidationError(
            _("This mass update was already undone on %(when)s.")
            % {"when": timezone.localtime(mass_update.undone_at).strftime("%Y-%m-%d %H:%M")}
        )
    zones_restored, zones_skipped = _undo_kind(Zone, mass_update, MassUpdateItem.ZONE, actor)
    clients_restored, clients_skipped = _undo_kind(
        Client, mass_update, MassUpdateItem.CLIENT, actor
    )
    # Name what was left alone, so the operator can look at it (the first hundred).
    skipped = [
        {"kind": "zone", "id": z.pk, "name": str(z)}
        for z in Zone.objects.select_related("router").filter(pk__in=zones_skipped[:100])
    ] + [
        {"kind": "client", "id": c.pk, "name": c.name}
        for c in Client.objects.filter(pk__in=clients_skipped[:100])
    ]
    mass_update.undone_at = timezone.now()
    mass_update.undone_by_name = actor_name_of(actor)
    mass_update.undo_restored = zones_restored + clients_restored
    mass_update.undo_skipped = len(zones_skipped) + len(clients_skipped)
    mass_update.save()
    result = {
        "id": mass_update.pk,
        "zones_restored": zones_restored,
        "clients_restored": clients_restored,
        "zones_skipped": len(zones_skipped),
        "clients_skipped": len(clients_skipped),
    }
    audit_record(
        actor=actor,
        action="periodic_tasks.mass_update_undo",
        obj=mass_update,
        changes={k: [None, v] for k, v in result.items() if k != "id"},
    )
    return {**result, "skipped": skipped}


def periodic_run_now(
    *, actor, day=None, zone=None, client=None, dry_run: bool = False, progress=None
):
    """Run the periodic tasks early, as the panel's and the API's "run now"; needs the
    permission, and a day that has come (the CLI may simulate the future, a person may not)."""
    from wispbill.automation.engine import run_periodic_tasks
    from wispbill.staff.permissions import RUN_PERIODIC_TASKS

    require_permission(actor, RUN_PERIODIC_TASKS)
    today = timezone.localdate()
    day = day or today
    if day > today:
        raise ValidationError({"date": [_("The date cannot be in the future.")]})
    summary = run_periodic_tasks(
        day=day, zone=zone, client=client, dry_run=dry_run, progress=progress
    )
    audit_record(
        actor=actor,
        action="periodic_tasks.run",
        obj=zone or client or actor,
        changes={
            k: [None, v]
            for k, v in summary.as_dict().items()
            if k
            in (
                "invoices_created",
                "notices_shown",
                "clients_cut",
                "clients_reactivated",
                "dry_run",
                "date",
            )
        },
    )
    return summary


def daily_run_due(now=None) -> bool:
    """Whether the scheduler should run today's tasks now: past the run hour and not yet run
    today, or a whole day missed (the machine was off), whatever the hour."""
    from wispbill.core.models import CompanySettings

    company = CompanySettings.load()
    now = timezone.localtime(now)
    last = company.last_daily_run
    if last is not None and last >= now.date():
        return False
    missed_a_day = last is not None and (now.date() - last).days > 1
    return now.hour >= company.run_hour or missed_a_day


def daily_run(now=None):
    """The scheduler's daily run (a no-op when it is not due); returns the summary or None."""
    from wispbill.automation.engine import run_periodic_tasks
    from wispbill.core.models import CompanySettings

    advance_business_day(timezone.localtime(now).date())
    if not daily_run_due(now):
        return None
    day = timezone.localtime(now).date()
    summary = run_periodic_tasks(day=day)
    CompanySettings.objects.filter(pk=1).update(last_daily_run=day)
    return summary


def manual_run_start(*, actor, day=None, zone=None, client=None, dry_run: bool = False):
    """Queue a "run now" from the panel; the queue runs it and records its progress."""
    from wispbill.automation.models import ManualRun
    from wispbill.staff.permissions import RUN_PERIODIC_TASKS

    require_permission(actor, RUN_PERIODIC_TASKS)
    today = timezone.localdate()
    day = day or today
    if day > today:
        raise ValidationError({"date": [_("The date cannot be in the future.")]})
    run = ManualRun.objects.create(
        actor_name=actor_name_of(actor), day=day, zone=zone, client=client, dry_run=dry_run
    )
    audit_record(
        actor=actor,
        action="periodic_tasks.run",
        obj=run.zone or run.client or actor,
        changes={"date": [None, day.isoformat()], "dry_run": [None, dry_run]},
    )

    def enqueue():
        from wispbill.automation.tasks import manual_run_task

        manual_run_task(run.pk)

    transaction.on_commit(enqueue)
    return run


def manual_run_execute(run_id: int) -> None:
    """Carry out a queued "run now", saving its progress as it goes."""
    from wispbill.automation.engine import run_periodic_tasks
    from wispbill.automation.models import ManualRun

    run = ManualRun.objects.select_related("zone", "client").get(pk=run_id)

    def progress(done: int, total: int) -> None:
        ManualRun.objects.filter(pk=run_id).update(progress_done=done, progress_total=total)

    try:
        summary = run_periodic_tasks(
            day=run.day, zone=run.zone, client=run.client, dry_run=run.dry_run, progress=progress
        )
    except Exception as exc:
        ManualRun.objects.filter(pk=run_id).update(
            status=ManualRun.FAILED, finished_at=timezone.now(), summary={"error": str(exc)}
        )
        raise
    ManualRun.objects.filter(pk=run_id).update(
        status=ManualRun.DONE, finished_at=timezone.now(), summary=summary.as_dict()
    )


@transaction.atomic
def company_settings_update(*, actor, **fields):
    """Change the company's rules for the periodic tasks; admins only."""
    from wispbill.core.models import CompanySettings
    from wispbill.staff.permissions import require_admin

    require_admin(actor)
    company = locked(CompanySettings.objects).get(pk=CompanySettings.load().pk)
    changes = {}
    for name, value in fields.items():
        old = getattr(company, name)
        if old != value:
            changes[name] = [str(old), str(value)]
            setattr(company, name, value)
    company.full_clean()
    company.save()
    if changes:
        audit_record(actor=actor, action="company.changed", obj=company, changes=changes)
    return company
