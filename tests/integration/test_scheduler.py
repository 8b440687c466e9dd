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


def test_a_day_is_dispatched_in_parts_once_and_a_lost_part_is_queued_again(
    company, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from wispbill.automation.models import DailyRunPart, RunStatus
    from wispbill.automation.services.runs import daily_parts_dispatch

    ClientFactory.create_batch(3, zone=ZoneFactory(), start_date=date(2020, 1, 1))
    now = at(2026, 9, 10, 6, 5)
    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
        first = daily_parts_dispatch(day=date(2026, 9, 10), now=now)
        again = daily_parts_dispatch(day=date(2026, 9, 10), now=now)
    assert len(first) == DailyRunPart.objects.count() >= 1 and again == []
    # The queue ran them at once here (tests run queued tasks inline).
    assert set(DailyRunPart.objects.values_list("status", flat=True)) == {RunStatus.DONE}
    assert Invoice.objects.count() == 4
    lost = DailyRunPart.objects.first()
    DailyRunPart.objects.filter(pk=lost.pk).update(
        status=RunStatus.RUNNING, queued_at=now - timedelta(minutes=20)
    )
    later = now + timedelta(minutes=5)
    with (
        time_machine.travel(later, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        requeued = daily_parts_dispatch(day=date(2026, 9, 10), now=later)
    assert [p.pk for p in requeued] == [lost.pk]
    lost.refresh_from_db()
    assert lost.status == RunStatus.DONE and lost.queued_at == later
    assert Invoice.objects.count() == 4
    assert timezone.localdate(later) == date(2026, 9, 10)
