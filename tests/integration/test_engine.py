"""The periodic tasks against docs/periodic-tasks.md, day by day, on the real database."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from tests.factories import (
    ClientFactory,
    OwnClientFactory,
    PlanFactory,
    ZoneFactory,
    first_invoice_next_cycle,
)
from wispbill.audit.models import AuditEvent
from wispbill.automation.models import TaskState
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.debt import client_promise, client_reactivate
from wispbill.billing.models import Invoice
from wispbill.billing.services.invoices import invoice_cancel
from wispbill.billing.services.payments import payment_register
from wispbill.clients.models import Client
from wispbill.core.models import CompanySettings

pytestmark = pytest.mark.django_db


def run(day: date, **kwargs):
    with time_machine.travel(day, tick=False):
        return periodic_tasks_run(actor=None, force=True, day=day, **kwargs)


def state(client) -> tuple[str, bool]:
    client.refresh_from_db()
    return client.state, client.notice_active


@pytest.fixture(autouse=True)
def starts_with_the_next_cycle(db):
    """These stories bill from the first whole cycle (the company's "next_cycle" rule for a
    service that starts mid-cycle; the other rules: tests/integration/test_fair_charges.py)."""
    first_invoice_next_cycle()


@pytest.fixture
def zone():
    # The design's example: pay day 1, invoice 7 days before, notice +2, grace 4, prepaid.
    return ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)


@pytest.fixture
def client(zone):
    # Started mid-August: the August cycle (from 1 Aug) is not billed automatically.
    return ClientFactory(
        zone=zone, start_date=date(2026, 8, 15), plan=PlanFactory(price=Decimal("399.00"))
    )


def test_the_design_example_day_by_day(client):
    assert run(date(2026, 8, 24)).invoices_created == 0  # August began before the service
    summary = run(date(2026, 8, 25))
    assert summary.invoices_created == 1
    invoice = Invoice.objects.get(client=client)
    assert (invoice.period_start, invoice.period_end) == (date(2026, 9, 1), date(2026, 9, 30))
    assert (invoice.issued_on, invoice.pay_date) == (date(2026, 8, 25), date(2026, 9, 1))
    assert (invoice.notice_date, invoice.due_date) == (date(2026, 9, 3), date(2026, 9, 5))
    assert invoice.total == Decimal("399.00") and invoice.automatic
    billed = AuditEvent.objects.get(action="invoice.created", object_id=client.pk)
    assert billed.changes == {"invoice": [None, invoice.pk], "total": [None, "399.00"]}
    assert billed.reason_args == {"start": "2026-09-01", "end": "2026-09-30"}
    assert run(date(2026, 8, 25)).invoices_created == 0
    assert Invoice.objects.count() == 1

    run(date(2026, 9, 2))
    assert state(client) == ("active", False)
    assert run(date(2026, 9, 3)).notices_shown == 1
    assert state(client) == ("active", True)
    assert run(date(2026, 9, 4)).clients_cut == 0
    summary = run(date(2026, 9, 5))
    assert summary.clients_cut == 1
    assert state(client) == ("suspended", True)
    event = AuditEvent.objects.get(action="client.cut", object_id=client.pk)
    assert event.actor_name == "system"
    # The reason is kept untranslated with its values, and read in the reader's language.
    with translation.override("en"):
        assert event.reason_text == f"automatic: invoice {invoice.pk} overdue since 2026-09-05"
    with translation.override("es"):
        assert f"factura {invoice.pk}" in event.reason_text

    with time_machine.travel(date(2026, 9, 6), tick=False):
        payment_register(
            actor=None, client=client, amount=Decimal("399.00"), activate_service=False
        )
    # "Solo registrar": the debt is paid, the notice goes, but the client stays cut, and the
    # next runs do not give the service back behind the operator's back.
    assert state(client) == ("suspended", False)
    assert run(date(2026, 9, 7)).clients_reactivated == 0
    assert state(client) == ("suspended", False)
    # A later payment that asks for it (the client's default) gives the service back.
    with time_machine.travel(date(2026, 9, 8), tick=False):
        payment_register(actor=None, client=client, amount=Decimal("1.00"))
    assert state(client) == ("active", False)


def test_each_level_of_switch_is_respected(zone):
    follower = ClientFactory(zone=zone, start_date=date(2026, 1, 1))
    own_on = OwnClientFactory(
        zone=zone,
        start_date=date(2026, 1, 1),
        pay_day=1,
        invoice_lead_days=7,
        notice_offset_days=2,
        grace_days=4,
    )
    zone.task_invoices = False
    zone.save()
    assert run(date(2026, 8, 25)).invoices_created == 1
    assert list(Invoice.objects.values_list("client_id", flat=True)) == [own_on.pk]
    assert not Invoice.objects.filter(client=follower).exists()


def test_switch_turned_on_mid_cycle_bills_late_with_the_usual_time_to_pay(zone, client):
    zone.task_invoices = False
    zone.save()
    run(date(2026, 8, 25))
    zone.task_invoices = True
    zone.save()
    run(date(2026, 9, 10))
    invoice = Invoice.objects.get(client=client)
    assert invoice.period_start == date(2026, 9, 1)
    assert (invoice.issued_on, invoice.due_date, invoice.notice_date) == (
        date(2026, 9, 10),
        date(2026, 9, 21),
        date(2026, 9, 19),
    )
    assert run(date(2026, 9, 20)).clients_cut == 0
    assert run(date(2026, 9, 21)).clients_cut == 1


def test_never_back_bills_and_never_bills_before_the_service_started(zone):
    late_starter = ClientFactory(zone=zone, start_date=date(2026, 9, 2))
    run(date(2026, 9, 10))
    assert not Invoice.objects.filter(client=late_starter).exists()
    run(date(2026, 9, 24))  # the October cycle's invoice date
    assert list(
        Invoice.objects.filter(client=late_starter).values_list("period_start", flat=True)
    ) == [date(2026, 10, 1)]


def test_free_and_cancelled_clients_get_nothing(zone):
    free = ClientFactory(zone=zone, state="free", start_date=date(2026, 1, 1))
    gone = ClientFactory(zone=zone, state="cancelled", start_date=date(2026, 1, 1))
    run(date(2026, 8, 25))
    assert not Invoice.objects.filter(client__in=[free, gone]).exists()


def test_notices_and_cuts_follow_their_own_switches(zone, client):
    run(date(2026, 8, 25))
    zone.task_notices = False
    zone.task_cuts = False
    zone.save()
    run(date(2026, 9, 5))
    assert state(client) == ("active", False)
    zone.task_cuts = True
    zone.save()
    run(date(2026, 9, 6))
    assert state(client) == ("suspended", False)


def test_promise_holds_the_cut_and_a_broken_promise_cuts_again(client):
    run(date(2026, 8, 25))
    run(date(2026, 9, 5))
    with time_machine.travel(date(2026, 9, 6), tick=False):
        client_promise(actor=None, client=client, until=date(2026, 9, 12))
    assert state(client)[0] == "active"
    assert run(date(2026, 9, 12)).clients_cut == 0
    assert run(date(2026, 9, 13)).clients_cut == 1
    assert state(client)[0] == "suspended"


def test_a_client_reactivated_by_hand_is_not_cut_again_for_that_invoice(client):
    run(date(2026, 8, 25))
    run(date(2026, 9, 5))
    with time_machine.travel(date(2026, 9, 6), tick=False):
        client_reactivate(actor=None, client=client)
    assert run(date(2026, 9, 7)).clients_cut == 0
    run(date(2026, 9, 24))  # October's invoice
    assert run(date(2026, 10, 5)).clients_cut == 1


def test_no_cut_on_a_no_cut_weekday_or_holiday(client):
    company = CompanySettings.load()
    company.no_cut_weekdays = [5]  # 5 Sep 2026 is a Saturday
    company.holidays = ["2026-09-06"]
    company.save()
    run(date(2026, 8, 25))
    summary = run(date(2026, 9, 5))
    assert summary.no_cut_day and summary.clients_cut == 0
    assert run(date(2026, 9, 6)).clients_cut == 0
    assert run(date(2026, 9, 7)).clients_cut == 1


def test_a_debt_at_or_below_the_minimum_is_not_cut(client):
    company = CompanySettings.load()
    company.min_debt_to_cut = Decimal("50.00")
    company.save()
    run(date(2026, 8, 25))
    with time_machine.travel(date(2026, 9, 1), tick=False):
        payment_register(actor=None, client=client, amount=Decimal("349.00"))
    assert run(date(2026, 9, 5)).clients_cut == 0


def test_overpayment_becomes_credit_that_the_next_invoice_uses(client):
    run(date(2026, 8, 25))
    with time_machine.travel(date(2026, 9, 1), tick=False):
        payment_register(actor=None, client=client, amount=Decimal("500.00"))
    client.refresh_from_db()
    assert client.credit == Decimal("101.00")
    run(date(2026, 9, 24))
    october = Invoice.objects.get(client=client, period_start=date(2026, 10, 1))
    assert (october.paid_amount, october.status) == (Decimal("101.00"), "pending")
    client.refresh_from_db()
    assert client.credit == Decimal("0.00")


def test_payment_pays_the_oldest_invoice_first_and_partial_stays_pending(client):
    run(date(2026, 8, 25))
    run(date(2026, 9, 24))
    with time_machine.travel(date(2026, 9, 25), tick=False):
        payment_register(actor=None, client=client, amount=Decimal("500.00"))
    sept, octo = Invoice.objects.filter(client=client).order_by("period_start")
    assert (sept.status, sept.paid_amount) == ("paid", Decimal("399.00"))
    assert (octo.status, octo.paid_amount) == ("pending", Decimal("101.00"))


def test_cancelling_the_overdue_invoice_gives_the_service_back(client):
    run(date(2026, 8, 25))
    run(date(2026, 9, 5))
    with time_machine.travel(date(2026, 9, 6), tick=False):
        invoice_cancel(actor=None, invoice=Invoice.objects.get())
    assert state(client) == ("active", False)


def test_dry_run_counts_and_keeps_nothing(client):
    summary = run(date(2026, 8, 25), dry_run=True)
    assert summary.invoices_created == 1 and summary.dry_run
    assert not Invoice.objects.exists()
    assert not TaskState.objects.exists()


def test_task_states_record_each_zone_and_own_client(zone, client):
    own = OwnClientFactory(zone=zone, start_date=date(2026, 1, 1))
    run(date(2026, 8, 25))
    zone_state = TaskState.objects.get(kind="zone", object_id=zone.pk, task="invoices")
    assert (zone_state.last_status, zone_state.last_count) == ("applied", 1)
    assert zone_state.last_run_date == date(2026, 8, 25)
    assert TaskState.objects.filter(kind="client", object_id=own.pk).count() == 3


def test_zone_scope_touches_only_that_zone(client):
    other = ClientFactory(zone=ZoneFactory(), start_date=date(2026, 1, 1))
    run(date(2026, 8, 25), zone=client.zone)
    assert Invoice.objects.filter(client=client).exists()
    assert not Invoice.objects.filter(client=other).exists()


def test_leap_day_pay_date(zone):
    zone.pay_day = 29
    zone.save()
    leap = ClientFactory(zone=zone, start_date=date(2027, 1, 1))
    run(date(2028, 2, 22))
    invoice = Invoice.objects.get(client=leap)
    assert invoice.pay_date == date(2028, 2, 29)
    assert Client.objects.get(pk=leap.pk).state == "active"


def test_schedules_share_a_batch_and_a_failing_one_leaves_the_others_billed(zone, monkeypatch):
    """The run writes the due clients of every schedule in shared batches; when one schedule's
    piece fails, the batch is written again schedule by schedule, and only that one is left
    out (reported, its zone's task state in error)."""
    from wispbill.billing.services import issue

    late = ZoneFactory(pay_day=28, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    broken = ZoneFactory(pay_day=20, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    first = ClientFactory(zone=zone, start_date=date(2026, 1, 1))
    second = ClientFactory(zone=late, start_date=date(2026, 1, 1))
    lost = ClientFactory(zone=broken, start_date=date(2026, 1, 1))
    real = issue.cycle_charge

    def charge(*, cycle, **kwargs):
        if cycle.pay_date.day == 20:
            raise RuntimeError("this schedule's charge cannot be computed")
        return real(cycle=cycle, **kwargs)

    monkeypatch.setattr(issue, "cycle_charge", charge)
    summary = run(date(2026, 8, 25))
    assert sorted(Invoice.objects.values_list("client_id", "period_start")) == sorted(
        [(first.pk, date(2026, 9, 1)), (second.pk, date(2026, 8, 28))]
    )
    assert not Invoice.objects.filter(client=lost).exists()
    assert [e.task for e in summary.errors] == ["invoices"]
    assert "cannot be computed" in summary.errors[0].error
    states = dict(
        TaskState.objects.filter(task="invoices", kind="zone").values_list(
            "object_id", "last_status"
        )
    )
    assert states == {zone.pk: "applied", late.pk: "applied", broken.pk: "error"}
    # Each invoice's audit event names its own period.
    with translation.override("en"):
        reasons = {
            e.object_id: e.reason_text for e in AuditEvent.objects.filter(action="invoice.created")
        }
    assert reasons[first.pk] == "automatic: invoice for 2026-09-01 to 2026-09-30"
    assert reasons[second.pk] == "automatic: invoice for 2026-08-28 to 2026-09-27"
