"""A year of daily runs: month ends, a leap day, a good payer and a bad one, every day checked
against the rules of docs/periodic-tasks.md."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine

from tests.factories import (
    ClientFactory,
    OwnClientFactory,
    PlanFactory,
    ZoneFactory,
    first_invoice_next_cycle,
)
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.models import Invoice
from wispbill.billing.services.payments import payment_register
from wispbill.clients.models import Client

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_a_year_from_february_of_a_leap_year():
    first_invoice_next_cycle()  # this story bills from the first whole cycle
    zone = ZoneFactory(
        pay_day=31, invoice_lead_days=5, notice_offset_days=1, grace_days=3, billing_mode="prepaid"
    )
    plan = PlanFactory(price=Decimal("250.00"))
    payer = ClientFactory(zone=zone, plan=plan, start_date=date(2028, 1, 1), name="payer")
    debtor = ClientFactory(zone=zone, plan=plan, start_date=date(2028, 1, 1), name="debtor")
    own = OwnClientFactory(
        zone=zone,
        plan=plan,
        start_date=date(2028, 1, 1),
        name="own",
        billing_mode="postpaid",
        pay_day=29,
        invoice_lead_days=2,
        notice_offset_days=0,
        grace_days=0,
        task_cuts=False,
    )
    day = date(2028, 1, 27)
    cut_days = []
    while day < date(2029, 1, 26):
        with time_machine.travel(day, tick=False):
            summary = periodic_tasks_run(actor=None, force=True, day=day)
            assert summary.errors == []
            for invoice in Invoice.objects.filter(
                client=payer, status="pending", notice_date__lte=day
            ):
                payment_register(actor=None, client=payer, amount=invoice.total)
        if summary.clients_cut:
            cut_days.append(day)
        debtor.refresh_from_db()
        if debtor.state == "suspended":
            # Nothing overdue is ever forgiven: the debtor stays cut from the first due date.
            assert Invoice.objects.filter(
                client=debtor, status="pending", due_date__lte=day
            ).exists()
        day += timedelta(days=1)

    payer_invoices = list(Invoice.objects.filter(client=payer).order_by("period_start"))
    pay_dates = [i.pay_date for i in payer_invoices]
    assert date(2028, 2, 29) in pay_dates and date(2028, 4, 30) in pay_dates
    assert len(payer_invoices) == 12 and all(i.status == "paid" for i in payer_invoices)
    for earlier, later in zip(payer_invoices, payer_invoices[1:], strict=False):
        assert later.period_start == earlier.period_end + timedelta(days=1)
    assert Client.objects.get(pk=payer.pk).state == "active"
    # The debtor is cut once, on the first due date; a cut client is not invoiced again.
    # Its first invoice was issued a day late (27 Jan), so it keeps lead + grace: due 4 Feb.
    assert cut_days == [date(2028, 2, 4)]
    assert Invoice.objects.filter(client=debtor).count() == 1
    # Own billing, postpaid, cuts off: its first period (from 29 Dec) began before the
    # service, so it is billed from February on; warned, never cut.
    own_invoices = Invoice.objects.filter(client=own)
    assert own_invoices.count() == 11
    own.refresh_from_db()
    assert (own.state, own.notice_active) == ("active", True)
