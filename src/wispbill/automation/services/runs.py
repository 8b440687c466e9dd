"""The one service that runs the periodic tasks, whoever asks: the scheduler, the CLI, the API
and the panel's "run now". It holds the rules around a run: who may run one, the future-date
rule, the dry run, the day's bookkeeping and the audit."""

import contextlib
import fcntl
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from wispbill.audit.models import AuditAction, AuditEvent
from wispbill.audit.services import actor_name_of, audit_record
from wispbill.automation.engine import RunSummary, Scope, run_day
from wispbill.automation.models import DailyRunPart, ManualRun, RunStatus
from wispbill.clients.models import Client
from wispbill.clients.search import search_index_tidy
from wispbill.core import clock
from wispbill.core.db import locked
from wispbill.core.models import CompanySettings
from wispbill.core.scratch import scratch_folder, scratch_tidy
from wispbill.messaging.models import Message
from wispbill.network.models import Zone
from wispbill.staff.permissions import RUN_PERIODIC_TASKS, require_permission

# A day's scheduled run fans out in parts of about this many clients, and a part not done this
# long after it was queued is queued again.
PART_CLIENTS = settings.WISPBILL_RUN_PART_CLIENTS
PART_LOST_AFTER = timedelta(minutes=15)
SNAPSHOT_LEFT_AFTER = 3600  # seconds
FORECAST_KEPT = 600  # seconds a forecast is given again while its data has not changed
ACTED_KEPT = 200  # the clients a run's page names, per task
SUMMARY_AUDITED = (
    "date",
    "dry_run",
    "invoices_created",
    "notices_shown",
    "clients_cut",
    "clients_throttled",
    "clients_reactivated",
)


def run_check(
    *, actor: User | None, day: date | None, dry_run: bool = False, force: bool = False
) -> date:
    """The day a run may take place as of, or a ValidationError/PermissionDenied. A person
    needs the permission and a day that has come; the system (the CLI's operator, actor
    None) may simulate a future day with `dry_run`, or really run it with `force`."""
    if actor is not None:
        require_permission(actor, RUN_PERIODIC_TASKS)
    today = clock.today()
    day = day or today
    clock.first_day_check(day, "date")
    if day > today:
        if actor is not None:
            raise ValidationError({"date": [_("The date cannot be in the future.")]})
        if not (dry_run or force):
            raise ValidationError(
                {
                    "date": [
                        _(
                            "%(day)s is in the future: simulate it with a dry run, or force "
                            "it to really run it."
                        )
                        % {"day": day.isoformat()}
                    ]
                }
            )
    return day


def periodic_tasks_run(
    *,
    actor: User | None,
    day: date | None = None,
    zone: Zone | None = None,
    client: Client | None = None,
    dry_run: bool = False,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Run the invoice, notice and cut tasks as of `day` (default today) for every zone, one
    zone (and its own-billing clients) or one own-billing client. A dry run computes
    everything and keeps nothing. A real run moves the business day forward and, when it
    covers everything as of today, counts as today's daily run."""
    day = run_check(actor=actor, day=day, dry_run=dry_run, force=force)
    scope = Scope.of(zone=zone, client=client)
    if dry_run:
        with transaction.atomic():
            summary = run_day(day=day, scope=scope, progress=progress)
            transaction.set_rollback(True)
        summary.dry_run = True
    else:
        summary = run_day(day=day, scope=scope, progress=progress)
        clock.advance_business_day(day)
        if zone is None and client is None and day == clock.today():
            CompanySettings.objects.filter(pk=1).update(last_daily_run=day)
    if actor is not None:
        audit_record(
            actor=actor,
            action=AuditAction.PERIODIC_TASKS_RUN,
            obj=zone or client or actor,
            changes={k: [None, v] for k, v in summary.as_dict().items() if k in SUMMARY_AUDITED},
        )
    return summary


def forecast(
    *,
    start: date,
    days: int = 7,
    zone: Zone | None = None,
    client: Client | None = None,
    actor: User | None = None,
) -> list[dict[str, Any]]:
    """Who the tasks would invoice, warn, cut and reactivate on each of the next days (for
    every zone, one zone, or one own-billing client), if nobody paid, and the messages they
    would queue: the real runs, one day after another, rolled back at the end. One forecast
    at a time per user (ValidationError while another is being computed); on SQLite it runs
    on a snapshot, so it never holds the live database's write lock. A forecast already made
    on the same data (no audited write and no message since) is given again."""
    key = _forecast_key(start=start, days=days, zone=zone, client=client)
    made: list[dict[str, Any]] | None = cache.get(key)
    if made is not None:
        return made
    out: list[dict[str, Any]] = []
    with _forecast_slot(actor), _snapshot(), transaction.atomic():
        last_message = Message.objects.order_by("-id").values_list("id", flat=True).first() or 0
        for offset in range(days):
            day = start + timedelta(days=offset)
            summary = run_day(day=day, scope=Scope.of(zone=zone, client=client), record=False)
            new = Message.objects.filter(id__gt=last_message)
            messages = list(new.values_list("client_id", "kind", "channel", "status"))
            last_message = max([last_message, *new.values_list("id", flat=True)])
            out.append(
                {
                    "day": day,
                    "summary": summary,
                    "acted": summary.acted.as_dict(),
                    "messages": messages,
                }
            )
        transaction.set_rollback(True)
    cache.set(key, out, FORECAST_KEPT)
    return out


def _forecast_key(*, start: date, days: int, zone: Zone | None, client: Client | None) -> str:
    """What a forecast depends on, in two short queries: its scope and days, and the data as of
    the latest audit event and message (every write the billing rules read is audited, in
    the same transaction; a run's messages move the second)."""
    revision = [
        model.objects.aggregate(latest=Max("id"))["latest"] for model in (AuditEvent, Message)
    ]
    scope = [zone and zone.pk, client and client.pk]
    return "forecast:" + ":".join(str(part) for part in (start, days, *scope, *revision))


@contextlib.contextmanager
def _forecast_slot(actor: User | None) -> Iterator[None]:
    """Hold this user's forecast slot (a lock file in the data dir, let go when the process
    ends however it ends); a second forecast of the same user meanwhile is refused."""
    name = f"user-{actor.pk}.lock" if actor is not None else "system.lock"
    with open(scratch_folder("forecasts") / name, "a") as slot:
        try:
            fcntl.flock(slot, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValidationError(
                _("Your previous forecast is still being computed; try again in a moment.")
            ) from None
        try:
            yield
        finally:
            fcntl.flock(slot, fcntl.LOCK_UN)


@contextlib.contextmanager
def _snapshot() -> Iterator[None]:
    """On SQLite, point this thread's database connection at a copy of the database for the
    duration: the real engine writes there, so the live database's single write lock stays
    free for every other user while a forecast computes days of runs. SQLite's online backup
    reads without blocking writers (WAL). PostgreSQL's writers do not wait for another
    transaction's inserts, so there the forecast runs in place and is rolled back."""
    live = connections[DEFAULT_DB_ALIAS]
    if live.vendor != "sqlite" or live.in_atomic_block:
        # Inside a caller's transaction the forecast must see its writes, and that
        # transaction holds the write lock already.
        yield
        return
    folder = scratch_folder("forecasts")
    descriptor, name = tempfile.mkstemp(dir=folder, suffix=".sqlite3")
    os.close(descriptor)
    # Snapshots a killed process left behind (a running one is minutes old at most).
    scratch_tidy(folder, fresh=Path(name), older_than=SNAPSHOT_LEFT_AFTER, pattern="*.sqlite3*")
    live.ensure_connection()
    copy = sqlite3.connect(name)
    try:
        live.connection.backup(copy)
    finally:
        copy.close()
    snapshot = live.__class__({**live.settings_dict, "NAME": name}, DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = snapshot
    try:
        yield
    finally:
        snapshot.close()
        connections[DEFAULT_DB_ALIAS] = live
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(name + suffix).unlink(missing_ok=True)


# --- the scheduler ---------------------------------------------------------------------------


def daily_run_due(now: datetime | None = None) -> bool:
    """Whether the scheduler should run today's tasks now: past the run hour and not yet run
    today, or a whole day missed (the machine was off), whatever the hour."""
    company = CompanySettings.load()
    now = timezone.localtime(now)
    day = clock.day_of(now)
    last = company.last_daily_run
    if last is not None and last >= day:
        return False
    missed_a_day = last is not None and (day - last).days > 1
    return now.hour >= company.run_hour or missed_a_day


def daily_run(now: datetime | None = None) -> RunSummary | None:
    """The scheduler's tick: the day's run when it is due (else None). Where several task
    consumers share one database (PostgreSQL and Redis), the run fans out over them in parts;
    otherwise it runs here."""
    day = clock.day_of(now)
    clock.advance_business_day(day)
    if fans_out():
        daily_parts_dispatch(day=day, now=now)
        return None
    if not daily_run_due(now):
        return None
    summary = periodic_tasks_run(actor=None, day=day)
    search_index_tidy()  # once a day, whatever the day's edits left in pieces
    return summary


def fans_out() -> bool:
    """Whether the day's run is shared among task consumers: they must be able to run at
    once (PostgreSQL) and to see one queue (Redis)."""
    return connection.vendor == "postgresql" and "Redis" in settings.HUEY.get("huey_class", "")


def _zone_groups() -> list[list[int]]:
    """Every zone, in groups of about PART_CLIENTS clients (a zone is never split)."""
    groups, current, size = [], [], 0
    counts = Zone.objects.annotate(n=Count("clients")).order_by("id").values_list("id", "n")
    for zone_id, n in counts:
        current.append(zone_id)
        size += n
        if size >= PART_CLIENTS:
            groups.append(current)
            current, size = [], 0
    if current:
        groups.append(current)
    return groups


def daily_parts_dispatch(*, day: date, now: datetime | None = None) -> list[DailyRunPart]:
    """Queue the day's run as parts, once per day whatever number of schedulers ask (the
    company row is locked, and a day's parts are unique); queue again a part that was lost
    (a consumer killed while it ran). Returns the parts queued now."""
    now = now or timezone.now()
    queued = []
    with transaction.atomic():
        company = locked(CompanySettings.objects).get(pk=CompanySettings.load().pk)
        if daily_run_due(now):
            company.last_daily_run = day
            company.save(update_fields=["last_daily_run"])
            queued = [
                DailyRunPart.objects.create(day=day, number=n, zone_ids=ids, queued_at=now)
                for n, ids in enumerate(_zone_groups())
            ]
        else:
            stale = DailyRunPart.objects.filter(
                day=day, status=RunStatus.RUNNING, queued_at__lt=now - PART_LOST_AFTER
            )
            for part in stale:
                if DailyRunPart.objects.filter(pk=part.pk, queued_at=part.queued_at).update(
                    queued_at=now
                ):
                    queued.append(part)

    def enqueue() -> None:
        from wispbill.automation.tasks import daily_part_task  # it imports this module

        for part in queued:
            daily_part_task(part.pk)

    transaction.on_commit(enqueue)
    return queued


def daily_part_run(part_id: int) -> None:
    """Carry out one part of a day's run (again, harmlessly, if it was run already)."""
    part = DailyRunPart.objects.get(pk=part_id)
    summary = run_day(day=part.day, scope=Scope.of_zones(part.zone_ids))
    DailyRunPart.objects.filter(pk=part_id).update(
        status=RunStatus.DONE, finished_at=timezone.now(), summary=summary.as_dict()
    )


# --- "run now" from the panel, queued with its progress -------------------------------------


def manual_run_start(
    *,
    actor: User,
    day: date | None = None,
    zone: Zone | None = None,
    client: Client | None = None,
    dry_run: bool = False,
) -> ManualRun:
    """Queue a "run now"; the queue carries it out through `periodic_tasks_run` and records
    its progress."""
    day = run_check(actor=actor, day=day, dry_run=dry_run)
    run = ManualRun.objects.create(
        actor=actor,
        actor_name=actor_name_of(actor),
        day=day,
        zone=zone,
        client=client,
        dry_run=dry_run,
    )

    def enqueue() -> None:
        from wispbill.automation.tasks import manual_run_task  # it imports this module

        manual_run_task(run.pk)

    transaction.on_commit(enqueue)
    return run


def manual_run_execute(run_id: int) -> None:
    """Carry out a queued "run now" as the person who asked, saving its progress."""
    run = ManualRun.objects.select_related("zone", "client", "actor").get(pk=run_id)

    def progress(done: int, total: int) -> None:
        ManualRun.objects.filter(pk=run_id).update(progress_done=done, progress_total=total)

    try:
        summary = periodic_tasks_run(
            actor=run.actor,
            day=run.day,
            zone=run.zone,
            client=run.client,
            dry_run=run.dry_run,
            progress=progress,
        )
    except Exception as exc:
        ManualRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), summary={"error": str(exc)}
        )
        raise
    ManualRun.objects.filter(pk=run_id).update(
        status=RunStatus.DONE,
        finished_at=timezone.now(),
        summary={
            **summary.as_dict(),
            "acted": {task: ids[:ACTED_KEPT] for task, ids in summary.acted.as_dict().items()},
        },
    )
