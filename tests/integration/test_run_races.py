"""The daily run against writes that commit while it runs: payments, promises and switches
committed before a batch acts win for that batch's clients, one client's surprise never ends
a step, and the run's counts say who was really cut."""

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from wispbill.audit.models import AuditAction, AuditEvent
from wispbill.automation.engine import RunSummary
from wispbill.automation.models import ObjectKind, TaskState, TaskStatus
from wispbill.automation.services.mass_updates import mass_update_apply
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing import debt
from wispbill.billing.debt import client_promise
from wispbill.billing.models import Invoice
from wispbill.billing.services.payments import payment_register
from wispbill.billing.signals import run_batch_starting
from wispbill.clients.models import Client
from wispbill.core import clock
from wispbill.core.db import locked
from wispbill.network.models import Zone

ISSUED, CUT_DAY = date(2026, 8, 25), date(2026, 9, 5)  # invoiced on 25 Aug, due 5 Sep
MEXICO = ZoneInfo("America/Mexico_City")
SCHEDULE = {
    "billing_mode": "prepaid",
    "pay_day": 1,
    "invoice_lead_days": 7,
    "notice_offset_days": 2,
    "grace_days": 4,
}
OWN = {"cut_action": "suspend", "throttle_kbps": 512}


def _at(day: date):
    return time_machine.travel(datetime(day.year, day.month, day.day, 11, tzinfo=MEXICO))


def _overdue_clients(zones: list[Zone], per_zone: int, own_per_zone: int = 0) -> list[int]:
    """`per_zone` zone-billed and `own_per_zone` own-billing clients in each zone, with the
    same schedule, each with one invoice due on CUT_DAY. Returns their ids."""
    plan = PlanFactory(price=Decimal("399.00"))
    rows = []
    for z, zone in enumerate(zones):
        for n in range(per_zone + own_per_zone):
            own = n >= per_zone
            rows.append(
                Client(
                    name=f"C{z}-{n}",
                    ip=f"10.{60 + z}.{n // 250}.{n % 250 + 1}",
                    zone=zone,
                    plan=plan,
                    start_date=date(2026, 1, 1),
                    **({"billing_type": "own", **SCHEDULE, **OWN} if own else {}),
                )
            )
    Client.objects.bulk_create(rows)
    with _at(ISSUED):
        periodic_tasks_run(actor=None, day=ISSUED)
    ids = list(Client.objects.order_by("id").values_list("id", flat=True))
    assert Invoice.objects.filter(due_date=CUT_DAY, status="pending").count() == len(ids)
    clock.advance_business_day(CUT_DAY)
    return ids


def _cut_ids() -> set[int]:
    return set(
        AuditEvent.objects.filter(action=AuditAction.CLIENT_CUT, actor_name="system").values_list(
            "object_id", flat=True
        )
    )


def _run_day(receiver, day: date = CUT_DAY) -> RunSummary:
    """The run of `day`, with `receiver` told before each of its batches acts."""
    run_batch_starting.connect(receiver)
    try:
        with _at(day):
            return periodic_tasks_run(actor=None, day=day)
    finally:
        run_batch_starting.disconnect(receiver)


def _in_thread(work) -> None:
    """Run `work` on another thread, on its own database connection, and wait for it."""
    errors = []

    def run():
        try:
            work()
        except Exception as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_writes_committed_between_the_read_and_a_batch_win_and_the_rest_are_cut(monkeypatch, admin):
    monkeypatch.setattr(debt, "BATCH", 10)
    zone_a, zone_b, zone_c = (ZoneFactory(**SCHEDULE) for _ in range(3))
    ids = _overdue_clients([zone_a, zone_b, zone_c], per_zone=10)
    paid, promised = ids[0], ids[1]
    acted_on: list[list[int]] = []

    def meanwhile(sender, task, ids, **kwargs):
        if task != "cuts":
            return
        acted_on.append(ids)
        if len(acted_on) > 1:
            return

        def write():
            # After the run read who is overdue, before its first batch acts.
            payment_register(actor=None, client=Client(pk=paid), amount=Decimal("399.00"))
            client_promise(actor=None, client=Client(pk=promised), until=CUT_DAY + timedelta(3))
            mass_update_apply(actor=admin, zone=zone_c, values={"cuts": False})

        _in_thread(write)

    summary = _run_day(meanwhile)

    assert [len(batch) for batch in acted_on] == [10, 10, 10]  # they were read before
    assert summary.errors == []
    expected = set(ids[:20]) - {paid, promised}
    assert _cut_ids() == expected
    assert summary.clients_cut == len(expected) == 18
    assert set(Client.objects.filter(state="suspended").values_list("id", flat=True)) == expected
    assert Client.objects.get(pk=paid).state == Client.objects.get(pk=promised).state == "active"
    # The paid invoice stays paid and is not marked as cut for; the promised one is not either.
    assert not Invoice.objects.filter(client_id__in=[paid, promised], cut_on__isnull=False)
    cuts = dict(
        TaskState.objects.filter(kind=ObjectKind.ZONE, task="cuts").values_list(
            "object_id", "last_count"
        )
    )
    assert cuts == {zone_a.pk: 8, zone_b.pk: 10, zone_c.pk: 0}
    assert not TaskState.objects.filter(last_status=TaskStatus.ERROR).exists()


@pytest.mark.django_db(transaction=True)
def test_a_notice_batch_skips_a_client_who_paid_after_the_run_read_it(monkeypatch):
    monkeypatch.setattr(debt, "BATCH", 5)
    zone = ZoneFactory(**SCHEDULE)
    ids = _overdue_clients([zone], per_zone=10)
    paid = ids[7]

    def meanwhile(sender, task, ids, **kwargs):
        if task == "notices" and paid in ids:
            _in_thread(
                lambda: payment_register(
                    actor=None, client=Client(pk=paid), amount=Decimal("399.00")
                )
            )

    summary = _run_day(meanwhile)

    assert summary.errors == []
    assert summary.notices_shown == 9 and summary.clients_cut == 9
    shown = set(
        AuditEvent.objects.filter(action=AuditAction.NOTICE_SHOWN).values_list(
            "object_id", flat=True
        )
    )
    assert shown == set(ids) - {paid}
    assert not Client.objects.get(pk=paid).notice_active


@pytest.mark.django_db(transaction=True)
def test_an_invoice_batch_bills_by_the_switches_and_credit_committed_since_the_read(admin):
    zone_a, zone_b = ZoneFactory(**SCHEDULE), ZoneFactory(**SCHEDULE)
    plan = PlanFactory(price=Decimal("399.00"))
    for z, zone in enumerate((zone_a, zone_b)):
        for n in range(5):
            ClientFactory(
                zone=zone, plan=plan, start_date=date(2026, 1, 1), ip=f"10.70.{z}.{n + 1}"
            )
    first = Client.objects.filter(zone=zone_a).order_by("id").first()
    read: list[list[int]] = []

    def meanwhile(sender, task, ids, **kwargs):
        if task != "invoices":
            return
        read.append(ids)

        def write():
            payment_register(actor=None, client=first, amount=Decimal("100.00"))
            mass_update_apply(actor=admin, zone=zone_b, values={"invoices": False})

        _in_thread(write)

    summary = _run_day(meanwhile, ISSUED)

    assert [len(ids) for ids in read] == [10]  # zone B's clients were read as due
    assert summary.errors == [] and summary.invoices_created == 5
    assert set(Invoice.objects.values_list("client__zone", flat=True)) == {zone_a.pk}
    # The credit the payment left went into the new invoice, and is used up.
    invoice = Invoice.objects.get(client=first)
    assert invoice.paid_amount == Decimal("100.00")
    first.refresh_from_db()
    assert first.credit == Decimal("0.00")
    invoices = dict(
        TaskState.objects.filter(kind=ObjectKind.ZONE, task="invoices").values_list(
            "object_id", "last_count"
        )
    )
    assert invoices == {zone_a.pk: 5, zone_b.pk: 0}


# --- real concurrency (PostgreSQL) -----------------------------------------------------------


class Tickets:
    """A PostgreSQL sequence that orders what the run and the writers do: a writer takes its
    ticket holding the row its write locks, the run takes one before each batch and at its
    end, so a write whose ticket is below a batch's committed before that batch read again,
    and one above the next ticket came after the batch committed."""

    NAME = "race_ticket"

    def __enter__(self):
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {self.NAME}")
        return self

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SEQUENCE IF EXISTS {self.NAME}")

    def take(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [self.NAME])
            return cursor.fetchone()[0]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_payments_promises_and_a_switch_off_during_a_run_decide_who_is_cut(monkeypatch, admin):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL's row locks")
    monkeypatch.setattr(debt, "BATCH", 40)
    zones = [ZoneFactory(**SCHEDULE) for _ in range(3)]
    ids = _overdue_clients(zones, per_zone=500, own_per_zone=20)
    switched = zones[2]
    in_switched = set(Client.objects.filter(zone=switched).values_list("id", flat=True))
    starts: list[tuple[int, list[int]]] = []  # (ticket, the clients read for the batch)
    writes: dict[int, int] = {}  # client → the ticket of its first write that saves it
    begun, finished = threading.Event(), threading.Event()
    lock = threading.Lock()
    problems: list[Exception] = []

    with Tickets() as tickets:

        def note(client_ids, ticket):
            with lock:
                for client_id in client_ids:
                    writes[client_id] = min(ticket, writes.get(client_id, ticket))

        def on_batch(sender, task, ids, **kwargs):
            if task == "cuts":
                starts.append((tickets.take(), ids))
                begun.set()

        def writer(work):
            def run():
                try:
                    begun.wait(timeout=60)
                    with _at(CUT_DAY):
                        work()
                except Exception as exc:
                    problems.append(exc)
                finally:
                    connection.close()

            return threading.Thread(target=run)

        def pay():  # the clients the run reaches last first, so some pay before their batch
            for client_id in sorted(set(ids[::9]) - in_switched, reverse=True):
                with transaction.atomic():
                    locked(Client.objects.filter(pk=client_id)).get()
                    note([client_id], tickets.take())
                    payment_register(
                        actor=None, client=Client(pk=client_id), amount=Decimal("399.00")
                    )

        def promise():
            for client_id in ids[5::13]:
                with transaction.atomic():
                    locked(Client.objects.filter(pk=client_id)).get()
                    note([client_id], tickets.take())
                    client_promise(
                        actor=None, client=Client(pk=client_id), until=CUT_DAY + timedelta(2)
                    )

        def switch_off():
            while len(starts) < 8 and not finished.wait(0.01):
                pass  # let the run reach the middle of its cuts
            with transaction.atomic():
                locked(Zone.objects.filter(pk=switched.pk)).get()
                note(in_switched, tickets.take())
                mass_update_apply(actor=admin, zone=switched, values={"cuts": False})

        threads = [writer(work) for work in (pay, promise, switch_off)]
        for thread in threads:
            thread.start()
        try:
            summary = _run_day(on_batch)
        finally:
            begun.set()
            finished.set()
            for thread in threads:
                thread.join(timeout=60)
        end = tickets.take()

    assert problems == []
    assert summary.errors == []
    cut = _cut_ids()
    assert summary.clients_cut == len(cut)
    saved_before, must_cut = set(), 0
    bounds = [ticket for ticket, _batch in starts[1:]] + [end]
    for (start, batch), after in zip(starts, bounds, strict=True):
        for client_id in batch:
            written = writes.get(client_id)
            if written is None or written > after:
                assert client_id in cut, f"client {client_id} was not cut"
                must_cut += 1
            elif written < start:
                assert client_id not in cut, f"client {client_id} was cut after its write"
                saved_before.add(client_id)
    assert sorted(i for _t, batch in starts for i in batch) == ids  # every one was read
    # The writers did land while the run cut: payments and promises before the batch of the
    # clients they saved as well as the switch, and the run went on cutting the others.
    assert saved_before - in_switched and saved_before & in_switched and must_cut
    assert Client.objects.filter(state="suspended", promise_until__isnull=False).count() == 0
