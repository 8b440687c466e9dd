"""Each periodic task speaks to the clients it acts on, governed by its own switch: the invoice
(invoices task), the reminder (notices task), the cut notice (cuts task); a day run twice
queues nothing twice, and the forecast shows the messages of the coming days."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from tests.messaging_fixtures import local
from wispbill.automation.services.runs import forecast, periodic_tasks_run
from wispbill.messaging.models import Message
from wispbill.messaging.sending import messages_send_due

pytestmark = pytest.mark.django_db


def _run(day: date):
    with time_machine.travel(local(day.year, day.month, day.day, 12, 0), tick=False):
        periodic_tasks_run(actor=None, day=day, force=True)
        return messages_send_due()


def _kinds() -> list[tuple[str, str]]:
    return sorted(Message.objects.filter(channel="email").values_list("kind", "status"))


@pytest.fixture
def zone():
    # The design's example: invoice on 25 Aug, notice from 3 Sep, cut on 5 Sep.
    return ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)


@pytest.fixture
def client(zone, company):
    return ClientFactory(
        zone=zone,
        email="ana@example.com",
        start_date=date(2026, 8, 15),
        plan=PlanFactory(price=Decimal("399.00")),
    )


def test_each_task_sends_its_message_once_over_a_cycle(smtp_server, client):
    assert _run(date(2026, 8, 25)) == {"sent": 1, "failed": 0}
    _run(date(2026, 8, 25))  # the same day again
    assert _run(date(2026, 9, 3)) == {"sent": 1, "failed": 0}
    assert _run(date(2026, 9, 5)) == {"sent": 1, "failed": 0}
    assert _kinds() == [("cut", "sent"), ("invoice", "sent"), ("reminder", "sent")]
    subjects = [mail["Subject"] for mail in smtp_server.received]
    assert len(subjects) == 3 and len(set(subjects)) == 3


def test_a_task_switched_off_sends_none_of_its_messages(smtp_server, zone, client):
    zone.task_notices = False
    zone.save()
    for day in (date(2026, 8, 25), date(2026, 9, 3), date(2026, 9, 5)):
        _run(day)
    assert _kinds() == [("cut", "sent"), ("invoice", "sent")]
    zone.task_invoices = zone.task_cuts = False
    zone.save()
    for day in (date(2026, 9, 25), date(2026, 10, 3), date(2026, 10, 5)):
        _run(day)
    assert len(smtp_server.received) == 2


def test_the_forecast_shows_the_coming_messages_and_keeps_nothing(smtp_server, client):
    with time_machine.travel(local(2026, 8, 24, 12, 0), tick=False):
        days = forecast(start=date(2026, 8, 24), days=3)
    by_day = {
        d["day"]: sorted((kind, channel) for _c, kind, channel, _s in d["messages"]) for d in days
    }
    assert by_day[date(2026, 8, 24)] == []
    assert by_day[date(2026, 8, 25)] == [("invoice", "email")]
    assert Message.objects.count() == 0
