"""The business day never lags behind the calendar: when the scheduler stopped a week ago, the
manual actions, promises, reactivations, manual invoices and "overdue" of today are judged as of
today, not as of the engine's last day. Days simulated ahead still count (they are later)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client as Browser

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.debt import MAX_PROMISE_DAYS, client_cut, client_promise, client_reactivate
from wispbill.billing.models import Invoice
from wispbill.billing.selectors import ChargeKind, client_next_charge
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.clients.models import Client
from wispbill.core.clock import business_day, today

# The scheduler last ran on 1 March 2027 (the invoice of March, due on the 5th, was issued on
# 22 February) and stopped: today is 12 March.
LAST_RUN = date(2027, 3, 1)
TODAY = date(2027, 3, 12)

pytestmark = [pytest.mark.django_db, pytest.mark.instant("2027-03-12 11:00")]


@pytest.fixture
def late():
    """A client whose March invoice fell due on the 5th, after the last run, still unpaid."""
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    zone.cuts = False
    zone.save()
    client = ClientFactory(
        zone=zone, plan=PlanFactory(price=Decimal("310.00")), start_date=date(2027, 1, 1)
    )
    periodic_tasks_run(actor=None, force=True, day=date(2027, 2, 22))
    periodic_tasks_run(actor=None, force=True, day=LAST_RUN)
    return client


def test_business_day_is_the_later_of_today_and_the_engines_day(late):
    assert today() == TODAY
    assert business_day() == TODAY  # the engine's day lags: today wins
    periodic_tasks_run(actor=None, force=True, day=date(2027, 3, 20))
    assert business_day() == date(2027, 3, 20)  # a day simulated ahead wins


def test_a_manual_cut_today_records_today(admin, late):
    client_cut(actor=admin, client=late)
    late.refresh_from_db()
    assert (late.state, late.suspended_on) == ("suspended", TODAY)


def test_a_reactivation_records_its_day_and_the_next_invoice_is_prorated_from_it(admin, late):
    client_cut(actor=admin, client=late)
    # April's invoice date (25 March) comes while the client is cut; it comes back on 10 April,
    # the scheduler still stopped on 1 March.
    with time_machine.travel(datetime(2027, 4, 10, 9, tzinfo=ZoneInfo(settings.TIME_ZONE))):
        client_reactivate(actor=admin, client=late)
        late.refresh_from_db()
        assert late.reactivated_on == date(2027, 4, 10)
        upcoming = client_next_charge(late)
    assert upcoming.kind == ChargeKind.PRORATED
    assert (upcoming.charge.start, upcoming.charge.end) == (date(2027, 4, 10), date(2027, 4, 30))


def test_a_promise_is_measured_from_today(admin, late):
    with pytest.raises(ValidationError) as refused:
        client_promise(actor=admin, client=late, until=TODAY - timedelta(days=1))
    assert "until" in refused.value.message_dict
    client_promise(actor=admin, client=late, until=TODAY + timedelta(days=MAX_PROMISE_DAYS))
    late.refresh_from_db()
    assert late.promise_until == TODAY + timedelta(days=MAX_PROMISE_DAYS)


def test_a_manual_invoice_without_a_day_bills_the_cycle_current_today(admin):
    zone = ZoneFactory(pay_day=10, invoice_lead_days=5, grace_days=3)
    client = ClientFactory(zone=zone, start_date=date(2027, 1, 1))
    periodic_tasks_run(actor=None, force=True, day=date(2027, 2, 20))  # the engine's last day
    Invoice.objects.filter(client=client).delete()
    invoice = invoice_create_for_cycle(actor=admin, client=client)
    # On 12 March the cycle whose invoice date (5 March) came last is March's (prepaid: 10
    # March to 9 April); as of 20 February it would have been February's.
    assert (invoice.period_start, invoice.period_end) == (date(2027, 3, 10), date(2027, 4, 9))


def test_overdue_is_judged_as_of_today_in_the_panel(admin, late):
    browser = Browser()
    browser.force_login(admin)
    invoice = Invoice.objects.get(client=late)
    assert invoice.due_date == date(2027, 3, 5) and LAST_RUN < invoice.due_date < TODAY
    listed = browser.get("/invoices/?overdue=1")
    assert listed.status_code == 200
    assert invoice in listed.context["page_obj"].object_list
    assert Client.objects.filter(pk=late.pk, state="active").exists()
