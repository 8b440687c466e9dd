"""The periodic tasks: invoices, notices and cuts for a day, set-based and idempotent.

Each sweep selects its clients in a few queries and writes in batches; every batch commits
with its audit events, so a run killed half-way loses nothing and the next run finishes the
rest. Database constraints (one invoice per client and period), not the scheduler, make a
day run twice or in two processes at once create nothing twice.
"""

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from wispbill.audit.services import audit_record_many
from wispbill.automation.models import MassUpdateItem, TaskState, TaskStatus
from wispbill.automation.selectors import clients_governed_by
from wispbill.billing.models import Invoice, InvoiceLine, InvoiceStatus
from wispbill.billing.selectors import owed_subquery
from wispbill.billing.services import cycle_invoice, line_description
from wispbill.clients.models import Client
from wispbill.core.clock import advance_business_day
from wispbill.core.models import CompanySettings
from wispbill.core.schedule import BillingSchedule, current_cycle
from wispbill.network.sync import routers_changed, routers_of_clients

log = logging.getLogger(__name__)
BATCH = 500
TASKS = ("invoices", "notices", "cuts")


@dataclass
class RunSummary:
    day: date
    dry_run: bool = False
    invoices_created: int = 0
    notices_shown: int = 0
    clients_cut: int = 0
    clients_reactivated: int = 0
    errors: list = field(default_factory=list)
    no_cut_day: bool = False
    # The clients each task acted on, for the forecast; not part of the reported summary.
    acted: dict = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("acted")
        data["date"] = data.pop("day").isoformat()
        return data


def _batches(items: list, size: int = BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _pending(**extra) -> QuerySet:
    return Invoice.objects.filter(client=OuterRef("pk"), status=InvoiceStatus.PENDING, **extra)


# --- invoices -------------------------------------------------------------------------------


def _invoice_batch(rows: list[tuple], schedule: BillingSchedule, day: date) -> list[int]:
    """Create the cycle's invoice for each (id, name, plan name, price, credit) row, with its
    line, credit and audit event, in one transaction. Returns the clients invoiced."""
    cycle = current_cycle(schedule, day)
    ids = [row[0] for row in rows]
    with transaction.atomic():
        # Whoever else ran this day first wins; this batch leaves their invoices alone.
        taken = set(
            Invoice.objects.filter(client_id__in=ids, period_start=cycle.period_start).values_list(
                "client_id", flat=True
            )
        )
        rows = [row for row in rows if row[0] not in taken]
        if not rows:
            return []
        invoices = [
            cycle_invoice(
                client_id=client_id,
                schedule=schedule,
                cycle=cycle,
                day=day,
                total=price,
                automatic=True,
            )
            for client_id, _name, _plan, price, _credit in rows
        ]
        for invoice, (_id, _n, _p, price, credit) in zip(invoices, rows, strict=True):
            invoice.paid_amount = min(credit, price)
            if credit >= price:
                invoice.status = InvoiceStatus.PAID
        Invoice.objects.bulk_create(invoices)
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                description=line_description(row[2], cycle.period_start, cycle.period_end),
                amount=row[3],
            )
            for invoice, row in zip(invoices, rows, strict=True)
        )
        for invoice, (client_id, _n, _p, _price, credit) in zip(invoices, rows, strict=True):
            if credit:
                Client.objects.filter(pk=client_id).update(credit=credit - invoice.paid_amount)
        audit_record_many(
            actor=None,
            action="invoice.created",
            object_type="client",
            rows=(
                (row[0], row[1], {"invoice": [None, invoice.pk], "total": [None, str(row[3])]})
                for invoice, row in zip(invoices, rows, strict=True)
            ),
            reason=_("automatic: invoice for %(start)s to %(end)s")
            % {"start": cycle.period_start, "end": cycle.period_end},
        )
    return [row[0] for row in rows]


def _invoice_clients(
    clients: QuerySet, schedule: BillingSchedule, day: date, company: CompanySettings
) -> list[int]:
    states = ["active", "suspended"] if company.invoice_suspended else ["active"]
    cycle = current_cycle(schedule, day)
    rows = list(
        clients.filter(state__in=states, start_date__lte=cycle.period_start)
        .exclude(
            Exists(Invoice.objects.filter(client=OuterRef("pk"), period_start=cycle.period_start))
        )
        .order_by("id")
        .values_list("id", "name", "plan__name", "plan__price", "credit")
    )
    created = []
    for batch in _batches(rows):
        try:
            created += _invoice_batch(batch, schedule, day)
        except IntegrityError:
            # Another process inserted some of these between our read and our write.
            created += _invoice_batch(batch, schedule, day)
    return created


# --- notices and cuts -----------------------------------------------------------------------


def _show_notices(clients: QuerySet, day: date) -> list[int]:
    eligible = list(
        clients_governed_by(clients, "notices")
        .filter(state="active")
        .filter(Exists(_pending(notice_date__lte=day, notice_shown_on__isnull=True)))
        .order_by("id")
        .values_list("id", "name", "notice_active")
    )
    shown = []
    for batch in _batches(eligible):
        ids = [row[0] for row in batch]
        with transaction.atomic():
            Invoice.objects.filter(
                client_id__in=ids,
                status=InvoiceStatus.PENDING,
                notice_date__lte=day,
                notice_shown_on__isnull=True,
            ).update(notice_shown_on=day)
            newly = [row for row in batch if not row[2]]
            Client.objects.filter(pk__in=[row[0] for row in newly]).update(
                notice_active=True, updated_at=timezone.now()
            )
            audit_record_many(
                actor=None,
                action="client.notice_shown",
                object_type="client",
                rows=((row[0], row[1], {"notice_active": [False, True]}) for row in newly),
                reason=_("automatic: invoice unpaid on its notice date"),
            )
            routers_changed(routers_of_clients(row[0] for row in newly))
        shown += [row[0] for row in newly]
    return shown


def _cut(clients: QuerySet, day: date, company: CompanySettings) -> list[int]:
    eligible = list(
        clients_governed_by(clients, "cuts")
        .filter(state="active")
        .filter(Q(promise_until__isnull=True) | Q(promise_until__lt=day))
        .filter(Exists(_pending(due_date__lte=day, cut_on__isnull=True, cut_exempt=False)))
        .annotate(debt=owed_subquery() - F("credit"))
        .filter(debt__gt=company.min_debt_to_cut)
        .order_by("id")
        .values_list("id", "name")
    )
    cut = []
    for batch in _batches(eligible):
        ids = [row[0] for row in batch]
        with transaction.atomic():
            oldest = {
                row["client_id"]: row
                for row in Invoice.objects.filter(
                    client_id__in=ids, status=InvoiceStatus.PENDING, due_date__lte=day
                )
                .values("client_id")
                .annotate(invoice=Min("id"), since=Min("due_date"))
            }
            Invoice.objects.filter(
                client_id__in=ids, status=InvoiceStatus.PENDING, due_date__lte=day
            ).update(cut_on=day)
            # Only rows still active: a payment that landed meanwhile wins.
            Client.objects.filter(pk__in=ids, state="active").update(
                state="suspended", suspension_reason="automatic", updated_at=timezone.now()
            )
            audit_record_many(
                actor=None,
                action="client.cut",
                object_type="client",
                rows=(
                    (
                        row[0],
                        row[1],
                        {"state": ["active", "suspended"]},
                        _("automatic: invoice %(id)s overdue since %(date)s")
                        % {
                            "id": oldest[row[0]]["invoice"],
                            "date": oldest[row[0]]["since"].isoformat(),
                        },
                    )
                    for row in batch
                ),
            )
            routers_changed(routers_of_clients(ids))
        cut += ids
    return cut


def _reactivate(clients: QuerySet, day: date) -> list[int]:
    """Clients the automatic cut suspended, who want the service back on payment and owe
    nothing overdue any more (an invoice cancelled, a payment made elsewhere)."""
    rows = list(
        clients.filter(
            state="suspended", suspension_reason="automatic", auto_activate_on_payment=True
        )
        .exclude(Exists(_pending(due_date__lte=day)))
        .values_list("id", "name")
    )
    for batch in _batches(rows):
        ids = [row[0] for row in batch]
        with transaction.atomic():
            Client.objects.filter(pk__in=ids, state="suspended").update(
                state="active", suspension_reason="", updated_at=timezone.now()
            )
            audit_record_many(
                actor=None,
                action="client.reactivated",
                object_type="client",
                rows=((row[0], row[1], {"state": ["suspended", "active"]}) for row in batch),
                reason=_("automatic: nothing overdue left"),
            )
            routers_changed(routers_of_clients(ids))
    return [row[0] for row in rows]


# --- the run --------------------------------------------------------------------------------


class _DryRun(Exception):
    pass


def run_periodic_tasks(
    *,
    day: date,
    zone=None,
    client=None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Run the three tasks as of `day` for every zone (or one zone, or one own-billing
    client), as the system. With `dry_run`, everything is computed and nothing is kept."""
    summary = RunSummary(day=day, dry_run=dry_run)
    if not dry_run:
        _run(summary, zone=zone, client=client, progress=progress)
        advance_business_day(day)
        return summary
    try:
        with transaction.atomic():
            _run(summary, zone=zone, client=client, progress=progress)
            raise _DryRun
    except _DryRun:
        pass
    return summary


def _scopes(zone, client):
    from wispbill.network.models import Zone

    if client is not None:
        return Zone.objects.none(), Client.objects.filter(pk=client.pk, billing_type="own")
    zones = Zone.objects.filter(pk=zone.pk) if zone else Zone.objects.all()
    own = Client.objects.filter(billing_type="own")
    if zone:
        own = own.filter(zone=zone)
    return zones.order_by("id"), own


def _run(summary: RunSummary, *, zone, client, progress) -> None:
    company = CompanySettings.load()
    day = summary.day
    zones, own = _scopes(zone, client)
    zone_list = list(zones)
    own_groups = defaultdict(list)
    for row in own.filter(task_invoices=True).values_list(
        "id", "billing_mode", "pay_day", "invoice_lead_days", "notice_offset_days", "grace_days"
    ):
        own_groups[BillingSchedule(*row[1:])].append(row[0])
    total = len(zone_list) + len(own_groups) + 2
    done = 0
    acted: dict[str, list[int]] = {task: [] for task in (*TASKS, "reactivations")}
    failed: dict[str, dict] = {task: {} for task in TASKS}

    def step():
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    for z in zone_list:
        if z.task_invoices:
            try:
                acted["invoices"] += _invoice_clients(
                    Client.objects.filter(zone=z, billing_type="zone"), z.schedule, day, company
                )
            except Exception as exc:  # one zone's failure must not stop the others
                log.exception("invoices for zone %s", z.pk)
                failed["invoices"][("zone", z.pk)] = str(exc)
                summary.errors.append(
                    {"scope": f"zone:{z.pk}", "task": "invoices", "error": str(exc)}
                )
        step()
    for schedule, ids in own_groups.items():
        try:
            acted["invoices"] += _invoice_clients(
                Client.objects.filter(pk__in=ids), schedule, day, company
            )
        except Exception as exc:
            log.exception("invoices for own-billing clients")
            for client_id in ids:
                failed["invoices"][("client", client_id)] = str(exc)
            summary.errors.append(
                {"scope": f"clients:{len(ids)}", "task": "invoices", "error": str(exc)}
            )
        step()

    scope_clients = Client.objects.filter(Q(zone__in=zones) | Q(pk__in=own))
    try:
        acted["notices"] = _show_notices(scope_clients, day)
    except Exception as exc:
        log.exception("notices")
        summary.errors.append({"scope": "all", "task": "notices", "error": str(exc)})
        failed["notices"]["*"] = str(exc)
    step()
    summary.no_cut_day = company.is_no_cut_day(day)
    try:
        if not summary.no_cut_day:
            acted["cuts"] = _cut(scope_clients, day, company)
        acted["reactivations"] = _reactivate(scope_clients, day)
        summary.clients_reactivated = len(acted["reactivations"])
    except Exception as exc:
        log.exception("cuts")
        summary.errors.append({"scope": "all", "task": "cuts", "error": str(exc)})
        failed["cuts"]["*"] = str(exc)
    step()
    summary.invoices_created = len(acted["invoices"])
    summary.notices_shown = len(acted["notices"])
    summary.clients_cut = len(acted["cuts"])
    summary.acted = acted
    _record(day, zone_list, own, acted, failed)


def _record(day: date, zones: list, own: QuerySet, acted: dict, failed: dict) -> None:
    """Each zone's and own-billing client's last run of each task, set-based."""
    now = timezone.now()
    zone_ids = [z.pk for z in zones]
    own_ids = list(own.values_list("id", flat=True))
    existing = set(
        TaskState.objects.filter(
            Q(kind=MassUpdateItem.ZONE, object_id__in=zone_ids)
            | Q(kind=MassUpdateItem.CLIENT, object_id__in=own.values("id"))
        ).values_list("kind", "object_id", "task")
    )
    missing = [
        TaskState(kind=kind, object_id=object_id, task=task)
        for kind, ids in ((MassUpdateItem.ZONE, zone_ids), (MassUpdateItem.CLIENT, own_ids))
        for object_id in ids
        for task in TASKS
        if (kind, object_id, task) not in existing
    ]
    TaskState.objects.bulk_create(missing, batch_size=2000, ignore_conflicts=True)
    zone_of = (
        dict(
            Client.objects.filter(
                pk__in=[i for ids in acted.values() for i in ids], billing_type="zone"
            ).values_list("id", "zone_id")
        )
        if any(acted.values())
        else {}
    )
    own_set = set(own_ids)
    for task in TASKS:
        per_zone = Counter(zone_of[i] for i in acted[task] if i in zone_of)
        own_acted = [i for i in acted[task] if i in own_set]
        everything_failed = "*" in failed[task]
        base = {"last_run_date": day, "last_run_at": now}
        if everything_failed:
            TaskState.objects.filter(task=task).filter(
                Q(kind="zone", object_id__in=zone_ids) | Q(kind="client", object_id__in=own_ids)
            ).update(
                **base, last_status=TaskStatus.ERROR, last_error=failed[task]["*"], last_count=0
            )
            continue
        errored_zones = {k[1]: e for k, e in failed[task].items() if k[0] == "zone"}
        errored_own = {k[1]: e for k, e in failed[task].items() if k[0] == "client"}
        counts = defaultdict(list)
        for zone_id in zone_ids:
            if zone_id not in errored_zones:
                counts[per_zone.get(zone_id, 0)].append(zone_id)
        for count, ids in counts.items():
            for chunk in _batches(ids):
                TaskState.objects.filter(kind="zone", task=task, object_id__in=chunk).update(
                    **base, last_status=TaskStatus.APPLIED, last_count=count, last_error=""
                )
        for zone_id, error in errored_zones.items():
            TaskState.objects.filter(kind="zone", task=task, object_id=zone_id).update(
                **base, last_status=TaskStatus.ERROR, last_error=error, last_count=0
            )
        own_acted_set = set(own_acted)
        for count, ids in (
            (1, own_acted),
            (0, [i for i in own_ids if i not in own_acted_set and i not in errored_own]),
        ):
            for chunk in _batches(ids):
                TaskState.objects.filter(kind="client", task=task, object_id__in=chunk).update(
                    **base, last_status=TaskStatus.APPLIED, last_count=count, last_error=""
                )
        for client_id, error in errored_own.items():
            TaskState.objects.filter(kind="client", task=task, object_id=client_id).update(
                **base, last_status=TaskStatus.ERROR, last_error=error, last_count=0
            )


def forecast(*, start: date, days: int = 7, zone=None) -> list[dict]:
    """Who the tasks would invoice, warn, cut and reactivate on each of the next days, if
    nobody paid: the real runs, one day after another, rolled back at the end."""
    out = []
    try:
        with transaction.atomic():
            for offset in range(days):
                day = start + timedelta(days=offset)
                summary = RunSummary(day=day)
                _run(summary, zone=zone, client=None, progress=None)
                out.append({"day": day, "summary": summary, "acted": summary.acted})
            raise _DryRun
    except _DryRun:
        pass
    return out
