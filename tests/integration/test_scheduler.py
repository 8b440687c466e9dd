"""The scheduler's daily run: the run hour in the ISP's time zone, once a day, missed days."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import ClientFactory, ZoneFactory
from wispbill.automation.services.runs import daily_run
from wispbill.billing.models import Invoice
from wispbill.core.models import CompanySettings

pytestmark = pytest.mark.django_db
MX = ZoneInfo("America/Mexico_City")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=MX)


@pytest.fixture
def company():
    company = CompanySettings.load()
    company.run_hour = 6
    company.save()
    ClientFactory(zone=ZoneFactory(), start_date=date(2020, 1, 1))
    return company


def test_waits_for_the_run_hour_in_the_isps_time_zone(company):
    # 11:30 UTC is 05:30 in Mexico City: not yet.
    with time_machine.travel(at(2026, 9, 10, 5, 30), tick=False):
        assert daily_run() is None
    with time_machine.travel(at(2026, 9, 10, 6, 5), tick=False):
        summary = daily_run()
    assert summary is not None and summary.day == date(2026, 9, 10)
    assert Invoice.objects.count() == 1


def test_runs_once_a_day(company):
    with time_machine.travel(at(2026, 9, 10, 6, 5), tick=False):
        assert daily_run() is not None
    with time_machine.travel(at(2026, 9, 10, 23, 55), tick=False):
        assert daily_run() is None
    with time_machine.travel(at(2026, 9, 11, 6, 0), tick=False):
        assert daily_run() is not None


def test_a_missed_day_is_caught_up_at_once(company):
    company.last_daily_run = date(2026, 9, 8)
    company.save()
    # The machine was off on the 9th; on the 10th at 01:00 it runs without waiting.
    with time_machine.travel(at(2026, 9, 10, 1, 0), tick=False):
        summary = daily_run()
    assert summary is not None and summary.day == date(2026, 9, 10)
