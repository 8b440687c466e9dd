"""The periodic tasks for one day: invoices, notices and cuts, set-based and idempotent.

Each step selects its clients in a few queries and writes in batches through the billing
rules (`billing.services.invoices`, `billing.debt`); every batch commits with its audit
events, so a run killed half-way loses nothing and the next run finishes the rest. Database
constraints (one invoice per client and period), not the scheduler, make a day run twice or
in two processes at once create nothing twice. Who may run it, and for which day, is the
business of `automation.services.runs`, the one service every caller goes through.
"""

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from wispbill.automation.models import ObjectKind, TaskState, TaskStatus
from wispbill.billing import debt
from wispbill.billing.services.issue import BATCH, DueRow, invoices_due, invoices_write
from wispbill.clients.models import BillingType, Client, ClientQuerySet
from wispbill.core.bulk import bulk_work
from wispbill.core.db import among
from wispbill.core.models import SCHEDULE_COLUMNS, CompanySettings
from wispbill.core.schedule import BillingSchedule
from wispbill.core.switches import TASKS, Task
from wispbill.messaging.models import Kind
from wispbill.messaging.services import messages_enqueue_bulk
from wispbill.network.models import Zone

log = logging.getLogger(__name__)


@dataclass
class Acted:
    """The clients each task acted on in a run (the forecast and the run's page name them)."""

    invoices: list[int] = field(default_factory=list)
    notices: list[int] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)  # suspended or throttled
    throttles: list[int] = field(default_factory=list)  # of the cuts, slowed down instead
    reactivations: list[int] = field(default_factory=list)
    suspensions: list[int] = field(default_factory=list)  # of the cuts, suspended

    # What each list shows a person, in order: the cut task's clients apart, those it
    # suspended (under the task's name) and those it slowed down.
    SHOWN = (
        (Task.INVOICES, "invoices"),
        (Task.NOTICES, "notices"),
        (Task.CUTS, "suspensions"),
        ("throttles", "throttles"),
        ("reactivations", "reactivations"),
    )

    def of(self, task: Task | str) -> list[int]:
        acted: dict[str, list[int]] = {
            Task.INVOICES: self.invoices,
            Task.NOTICES: self.notices,
            Task.CUTS: self.cuts,
        }
        return acted[task]

    @classmethod
    def from_dict(cls, data: dict[str, list[int]]) -> "Acted":
        """An `as_dict()` read back (a run's stored summary, a cached forecast); one stored
        before the suspensions were kept apart has them as the cuts that were not throttles."""
        acted = cls(**{name: list(data.get(name, [])) for name in cls.__dataclass_fields__})
        if "suspensions" not in data:
            slow = set(acted.throttles)
            acted.suspensions = [i for i in acted.cuts if i not in slow]
        return acted

    def shown(self) -> list[tuple[str, list[int]]]:
        """(key, client ids) per list a person reads, in `SHOWN`'s order."""
        return [(key, getattr(self, name)) for key, name in self.SHOWN]

    def any(self) -> bool:
        return any(asdict(self).values())

    def as_dict(self) -> dict[str, list[int]]:
        return asdict(self)


@dataclass(frozen=True)
class RunError:
    """A task that failed in a run: where (`all`, or `clients:N`, `zones:N` — how many rows
    it left out) and why."""

    scope: str
    task: str
    error: str


@dataclass
class RunSummary:
    day: date
    dry_run: bool = False
    invoices_created: int = 0
    notices_shown: int = 0
    clients_cut: int = 0  # suspended or throttled: every client the cut task acted on
    clients_throttled: int = 0  # of those, the ones whose speed was reduced instead
    clients_reactivated: int = 0
    errors: list[RunError] = field(default_factory=list)
    no_cut_day: bool = False
    # The clients each task acted on (for the forecast and the run's result page); not part
    # of the reported summary.
    acted: Acted = field(default_factory=Acted, repr=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("acted")
        data["date"] = data.pop("day").isoformat()
        return data


@dataclass
class Scope:
    """What a run covers: zones (their zone-billed clients) and own-billing clients, and
    every client the notice and cut tasks look at."""

    zones: QuerySet[Zone]
    own: ClientQuerySet
    all_clients: ClientQuerySet

    @classmethod
    def of(cls, *, zone: Zone | None = None, client: Client | None = None) -> "Scope":
        own = Client.objects.filter(billing_type=BillingType.OWN)
        if client is not None:
            mine = Client.objects.filter(pk=client.pk, billing_type=BillingType.OWN)
            return cls(zones=Zone.objects.none(), own=mine, all_clients=mine)
        if zone is not None:
            return cls(
                zones=Zone.objects.filter(pk=zone.pk),
                own=own.filter(zone=zone),
                all_clients=Client.objects.filter(zone=zone),
            )
        return cls(zones=Zone.objects.all(), own=own, all_clients=Client.objects.all())

    @classmethod
    def of_zones(cls, zone_ids: list[int]) -> "Scope":
        """A group of zones: their zone-billed and their own-billing clients."""
        clients = Client.objects.filter(zone_id__in=zone_ids)
        return cls(
            zones=Zone.objects.filter(pk__in=zone_ids),
            own=clients.filter(billing_type=BillingType.OWN),
            all_clients=clients,
        )

    def clients(self) -> ClientQuerySet:
        return self.all_clients


@dataclass
class _Failures:
    """Where one task failed in a run: everywhere (the whole step), or by zone and own
    client."""

    everywhere: str = ""  # the step's error, when the whole step failed
    rows: dict[tuple[str, int], str] = field(default_factory=dict)  # (kind, id) → error


@dataclass
class _Outcome:
    """What each task did, and where it failed."""

    acted: Acted = field(default_factory=Acted)
    failed: dict[str, _Failures] = field(
        default_factory=lambda: {task: _Failures() for task in TASKS}
    )


def run_day(
    *,
    day: date,
    scope: Scope,
    progress: Callable[[int, int], None] | None = None,
    record: bool = True,
) -> RunSummary:
    """Run the three tasks as of `day` over `scope`, as the system; record each zone's and
    own-billing client's last run (unless `record` is False: a forecast, which no rule reads
    back and which is rolled back anyway)."""
    with bulk_work():
        return _run_day(day, scope, progress, record)


def _run_day(
    day: date, scope: Scope, progress: Callable[[int, int], None] | None, record: bool
) -> RunSummary:
    company = CompanySettings.load()
    summary = RunSummary(day=day)
    outcome = _Outcome()
    groups = list(_invoice_groups(scope))
    total, done = len(groups) + 2, 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    _step_invoices(outcome, summary, groups, day, company, step)
    clients = scope.clients()
    _step_notices(outcome, summary, clients, day)
    step()
    summary.no_cut_day = company.is_no_cut_day(day)
    _step_cuts(outcome, summary, clients, day, company)
    step()
    summary.invoices_created = len(outcome.acted.invoices)
    summary.notices_shown = len(outcome.acted.notices)
    summary.clients_cut = len(outcome.acted.cuts)
    summary.clients_throttled = len(outcome.acted.throttles)
    summary.clients_reactivated = len(outcome.acted.reactivations)
    summary.acted = outcome.acted
    if record:
        _record_task_states(day, scope, outcome)
    return summary


# --- the steps -------------------------------------------------------------------------------


@dataclass
class _InvoiceGroup:
    """Rows the invoices task bills with one schedule: zones (their zone-billed clients) or
    own-billing clients. Grouping by schedule keeps a run to a few queries per schedule, not
    per zone."""

    kind: str
    schedule: BillingSchedule
    rows: QuerySet[Any]  # the zones, or the own-billing clients, with this schedule
    zone_ids: list[int] = field(default_factory=list)

    def clients(self) -> QuerySet[Client]:
        if self.kind == ObjectKind.ZONE:
            # The zones as a list, not a subquery: the planner then walks each zone's clients
            # by index instead of reading every client once per schedule.
            return Client.objects.filter(billing_type=BillingType.ZONE, zone_id__in=self.zone_ids)
        return self.rows


def _invoice_groups(scope: Scope) -> Iterable[_InvoiceGroup]:
    """The zones grouped by schedule (read in one query), then the own-billing clients'
    schedules."""
    columns = list(SCHEDULE_COLUMNS.values())
    zones_of: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    on = scope.zones.filter(task_invoices=True).order_by("id")
    for zone_id, *values in on.values_list("id", *columns):
        zones_of[tuple(values)].append(zone_id)
    for values in sorted(zones_of):
        ids = zones_of[values]
        yield _InvoiceGroup(
            ObjectKind.ZONE, BillingSchedule(*values), Zone.objects.filter(pk__in=ids), ids
        )
    own = scope.own.filter(task_invoices=True)
    for values in own.order_by(*columns).values_list(*columns).distinct():
        schedule = BillingSchedule(*values)
        yield _InvoiceGroup(
            ObjectKind.CLIENT, schedule, own.filter(**dict(zip(columns, values, strict=True)))
        )


def _messages(kind: str) -> Callable[[list[tuple[int, int]]], None]:
    """Each task speaks to the clients it acted on (in the same transaction, so a message
    exists exactly when its action does); its switch governs both."""

    def enqueue(pairs: list[tuple[int, int]]) -> None:
        messages_enqueue_bulk(kind=kind, items=pairs)

    return enqueue


def _step_invoices(
    outcome: _Outcome,
    summary: RunSummary,
    groups: list[_InvoiceGroup],
    day: date,
    company: CompanySettings,
    step: Callable[[], None],
) -> None:
    """Each group's due clients, read in one query per group, written in batches of up to
    `BATCH` rows that may mix groups (a run over many small schedules writes a few large
    batches); a batch is written as soon as it is full, so the run holds one at a time."""
    batch: list[tuple[_InvoiceGroup, list[DueRow]]] = []
    room = BATCH
    for group in groups:
        try:
            rows = invoices_due(group.clients(), group.schedule, day, company)
        except Exception as exc:  # one group's failure must not stop the others
            _invoices_failed(outcome, summary, group, exc)
            rows = []
        taken = 0
        while taken < len(rows):
            piece = rows[taken : taken + room]
            taken += len(piece)
            batch.append((group, piece))
            room -= len(piece)
            if not room:
                _write_invoices(outcome, summary, batch, day, company)
                batch, room = [], BATCH
        step()
    if batch:
        _write_invoices(outcome, summary, batch, day, company)


def _write_invoices(
    outcome: _Outcome,
    summary: RunSummary,
    batch: list[tuple[_InvoiceGroup, list[DueRow]]],
    day: date,
    company: CompanySettings,
) -> None:
    """Write one batch; if it fails, write each group's piece of it apart, so that only the
    group at fault is left out."""
    pieces = [batch] if len(batch) == 1 else [batch, *([piece] for piece in batch)]
    for attempt in pieces:
        try:
            outcome.acted.invoices += invoices_write(
                [row for _group, rows in attempt for row in rows],
                day=day,
                company=company,
                on_batch=_messages(Kind.INVOICE),
            )
        except Exception as exc:
            if len(attempt) == 1:
                _invoices_failed(outcome, summary, attempt[0][0], exc)
            continue
        if attempt is batch:
            return


def _invoices_failed(
    outcome: _Outcome, summary: RunSummary, group: _InvoiceGroup, exc: Exception
) -> None:
    log.exception("invoices for %s with %s", group.kind, group.schedule)
    ids = list(group.rows.values_list("id", flat=True))
    for object_id in ids:
        outcome.failed[Task.INVOICES].rows[(group.kind, object_id)] = str(exc)
    summary.errors.append(RunError(f"{group.kind}s:{len(ids)}", Task.INVOICES, str(exc)))


def _batch_failed(outcome: _Outcome, summary: RunSummary, task: str) -> debt.BatchFailed:
    """A failed batch of a debt rule leaves its clients' zones (or own clients) with the
    error, and the rule goes on with the next batch."""

    def failed(ids: list[int], exc: Exception) -> None:
        log.exception("%s: a batch of %s clients", task, len(ids))
        summary.errors.append(RunError(f"clients:{len(ids)}", task, str(exc)))
        held = Client.objects.filter(pk__in=among(ids)).values_list("id", "billing_type", "zone_id")
        for client_id, billing_type, zone_id in held:
            if billing_type == BillingType.ZONE:
                outcome.failed[task].rows[(ObjectKind.ZONE, zone_id)] = str(exc)
            else:
                outcome.failed[task].rows[(ObjectKind.CLIENT, client_id)] = str(exc)

    return failed


def _step_notices(
    outcome: _Outcome, summary: RunSummary, clients: ClientQuerySet, day: date
) -> None:
    try:
        # A notice a client dismissed yesterday comes back today, if it is still on.
        debt.notice_dismissals_expire(clients, day)
        outcome.acted.notices = debt.notices_show(
            clients,
            day,
            on_batch=_messages(Kind.REMINDER),
            on_error=_batch_failed(outcome, summary, Task.NOTICES),
        )
    except Exception as exc:
        log.exception(Task.NOTICES)
        summary.errors.append(RunError("all", Task.NOTICES, str(exc)))
        outcome.failed[Task.NOTICES].everywhere = str(exc)


def _step_cuts(
    outcome: _Outcome,
    summary: RunSummary,
    clients: ClientQuerySet,
    day: date,
    company: CompanySettings,
) -> None:
    on_error = _batch_failed(outcome, summary, Task.CUTS)
    try:
        if not summary.no_cut_day:
            suspended, throttled = debt.clients_cut(
                clients, day, company, on_batch=_messages(Kind.CUT), on_error=on_error
            )
            outcome.acted.cuts = suspended + throttled
            outcome.acted.suspensions = suspended
            outcome.acted.throttles = throttled
        outcome.acted.reactivations = debt.clients_come_back(clients, day, on_error=on_error)
    except Exception as exc:
        log.exception(Task.CUTS)
        summary.errors.append(RunError("all", Task.CUTS, str(exc)))
        outcome.failed[Task.CUTS].everywhere = str(exc)


# --- the bookkeeping -------------------------------------------------------------------------


def _record_task_states(day: date, scope: Scope, outcome: _Outcome) -> None:
    """Each zone's and own-billing client's last run of each task, set-based: one UPDATE per
    kind and task for the rows in scope, then the counts of the rows that acted."""
    rows: dict[str, QuerySet[Any, Any]] = {
        ObjectKind.ZONE: scope.zones.order_by().values("id"),
        ObjectKind.CLIENT: scope.own.order_by().values("id"),
    }
    _ensure_task_states(rows)
    base = {"last_run_date": day, "last_run_at": timezone.now()}
    zone_of = _zones_of_acted(scope, outcome)
    # The tasks that end alike (applied, or the same error everywhere) share their UPDATEs.
    ending: dict[tuple[TaskStatus, str], list[str]] = defaultdict(list)
    for task in TASKS:
        everything_failed = outcome.failed[task].everywhere
        status = TaskStatus.ERROR if everything_failed else TaskStatus.APPLIED
        ending[(status, everything_failed or "")].append(task)
    for (status, error), tasks in ending.items():
        for kind, ids in rows.items():
            # Rows that already say so are left alone: a run that does nothing writes nothing.
            TaskState.objects.filter(kind=kind, task__in=tasks, object_id__in=ids).exclude(
                last_run_date=day, last_status=status, last_error=error, last_count=0
            ).update(**base, last_status=status, last_error=error, last_count=0)
    for task in TASKS:
        failed = outcome.failed[task].rows
        if outcome.failed[task].everywhere:
            continue
        counts = {
            (ObjectKind.ZONE, zone_id): n
            for zone_id, n in Counter(
                zone_of[i] for i in outcome.acted.of(task) if i in zone_of
            ).items()
        }
        counts.update(
            ((ObjectKind.CLIENT, i), 1) for i in outcome.acted.of(task) if i not in zone_of
        )
        _set_counts(task, {key: n for key, n in counts.items() if key not in failed})
        for (kind, object_id), error in failed.items():
            TaskState.objects.filter(kind=kind, task=task, object_id=object_id).update(
                last_status=TaskStatus.ERROR, last_error=error
            )


def _zones_of_acted(scope: Scope, outcome: _Outcome) -> dict[int, int]:
    """client id → zone id for the zone-billed clients of the scope, when any task acted."""
    if not outcome.acted.any():
        return {}
    return dict(scope.clients().filter(billing_type=BillingType.ZONE).values_list("id", "zone_id"))


def _ensure_task_states(rows: dict[str, QuerySet[Any, Any]]) -> None:
    """A state row for every zone and own-billing client in scope and every task, inserted
    set-based (INSERT … SELECT) the first time they run."""
    table = connection.ops.quote_name(TaskState._meta.db_table)
    inserted = 0
    with connection.cursor() as cursor:
        for kind, ids in rows.items():
            if ids.query.is_empty():  # a run for one own-billing client covers no zone
                continue
            select, params = ids.query.sql_with_params()
            tasks = " UNION ALL ".join(["SELECT %s AS name"] * len(TASKS))
            cursor.execute(
                f"INSERT INTO {table} "
                "(kind, object_id, task, last_status, last_count, last_error) "
                f"SELECT %s, ids.id, tasks.name, %s, 0, '' FROM ({select}) ids "
                f"CROSS JOIN ({tasks}) tasks "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.kind = %s "
                "AND t.object_id = ids.id AND t.task = tasks.name) "
                "ON CONFLICT DO NOTHING",
                [kind, TaskStatus.PENDING, *params, *TASKS, kind],
            )
            inserted += max(cursor.rowcount, 0)
        if inserted > 1000 and connection.vendor == "postgresql":
            # The planner still believes the table as small as before (autovacuum has not
            # looked yet): the next NOT EXISTS would scan it once per client — seconds, on
            # the same day's re-run, instead of milliseconds.
            cursor.execute(f"ANALYZE {table}")


def _set_counts(task: str, counts: dict[tuple[str, int], int]) -> None:
    """Set `last_count` of the rows that acted: one UPDATE per distinct count (and per few
    thousand rows)."""
    by_count: dict[tuple[str, int], list[int]] = defaultdict(list)
    for (kind, object_id), n in counts.items():
        by_count[(kind, n)].append(object_id)
    for (kind, n), ids in by_count.items():
        TaskState.objects.filter(kind=kind, task=task, object_id__in=among(ids)).update(
            last_count=n
        )
