"""Each periodic task speaks to the clients it acts on, governed by its own switch: the invoice
(invoices task), the reminder (notices task), the cut notice (cuts task); a day run twice
queues nothing twice, and the forecast shows the messages of the coming days."""

import json
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from werkzeug import Response

from tests.factories import ClientFactory, PlanFactory, ZoneFactory, first_invoice_next_cycle
from tests.messaging_fixtures import API_PATH, PHONE_ID, local
from wispbill.audit.models import AuditEvent
from wispbill.automation.services.runs import forecast, periodic_tasks_run
from wispbill.billing.models import Invoice
from wispbill.billing.selectors import client_balance
from wispbill.billing.services.payments import payment_register
from wispbill.messaging.models import Message
from wispbill.messaging.sending import messages_send_due
from wispbill.portal.services import portal_promise_make

pytestmark = pytest.mark.django_db
MESSAGES = f"{API_PATH}/{PHONE_ID}/messages"
MEDIA = f"{API_PATH}/{PHONE_ID}/media"


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
    first_invoice_next_cycle()  # this story bills from the first whole cycle
    with time_machine.travel(local(2026, 8, 24, 12, 0), tick=False):
        days = forecast(start=date(2026, 8, 24), days=3)
    by_day = {
        d["day"]: sorted((kind, channel) for _c, kind, channel, _s in d["messages"]) for d in days
    }
    assert by_day[date(2026, 8, 24)] == []
    assert by_day[date(2026, 8, 25)] == [("invoice", "email")]
    assert Message.objects.count() == 0


class WhatsAppStandIn:
    """The WhatsApp Cloud API's stand-in for a timeline: answers every template message with a
    new id (or 503 while `failing`), and keeps what it accepted and when."""

    def __init__(self, httpserver):
        self.failing = False
        self.refused = 0
        self.accepted: list[dict] = []
        httpserver.expect_request(MEDIA, method="POST").respond_with_json({"id": "media-1"})
        httpserver.expect_request(MESSAGES, method="POST").respond_with_handler(self.answer)

    def answer(self, request):
        if self.failing:
            self.refused += 1
            return Response(
                json.dumps({"error": {"message": "Service unavailable", "code": 131016}}),
                status=503,
                content_type="application/json",
            )
        body = json.loads(request.data)
        wamid = f"wamid.{len(self.accepted) + 1}"
        self.accepted.append(
            {
                "id": wamid,
                "to": body["to"],
                "template": body["template"]["name"],
                "at": timezone.localtime(),
            }
        )
        return Response(json.dumps({"messages": [{"id": wamid}]}), content_type="application/json")


def _kinds_of(client, channel: str) -> list[str]:
    return sorted(
        Message.objects.filter(client=client, channel=channel, status="sent").values_list(
            "kind", flat=True
        )
    )


def test_a_timeline_of_cycles_sends_each_message_once_and_never_at_night(
    smtp_server, whatsapp_api, company, admin
):
    """Three months of daily runs at 06:00 (quiet hours until 08:00) with invoices, reminders,
    cuts, payments with receipts and a promise, both channels on; WhatsApp fails for a while
    and recovers. Each server receives each message exactly once, never in quiet hours."""
    first_invoice_next_cycle()  # this story bills from the first whole cycle
    api = WhatsAppStandIn(whatsapp_api)
    schedule = {"pay_day": 1, "invoice_lead_days": 7, "notice_offset_days": 2, "grace_days": 4}
    zone = ZoneFactory(**schedule)
    quiet_zone = ZoneFactory(**schedule, task_notices=False)
    plan = PlanFactory(price=Decimal("399.00"))

    def person(name, n, **kwargs):
        return ClientFactory(
            name=name,
            email=f"{name.lower()}@example.com",
            phone=f"55 1234 56{n:02d}",
            plan=plan,
            start_date=date(2026, 8, 15),
            **{"zone": zone, **kwargs},
        )

    ana = person("Ana", 1)  # pays each invoice the day after it comes
    beto = person("Beto", 2)  # pays late, at night, once
    carla = person("Carla", 3)  # promises to pay, then pays
    dora = person("Dora", 4, zone=quiet_zone)  # her zone's notices task is off
    eli = person("Eli", 5, zone=quiet_zone)
    eli.billing_type, eli.billing_mode = "own", "prepaid"
    for key, value in {**schedule, "cut_action": "suspend", "throttle_kbps": 512}.items():
        setattr(eli, key, value)
    eli.task_invoices = eli.task_notices = eli.task_cuts = False  # every task off
    eli.save()

    def pay(client, at, amount=None):
        traveller.move_to(at)
        client.refresh_from_db()
        payment_register(
            actor=admin, client=client, amount=amount or client_balance(client) or plan.price
        )
        messages_send_due()

    day = date(2026, 8, 24)
    with time_machine.travel(local(2026, 8, 24, 6, 0), tick=False) as traveller:
        while day <= date(2026, 10, 31):
            traveller.move_to(local(day.year, day.month, day.day, 6, 0))
            before = (len(smtp_server.received), len(api.accepted), api.refused)
            periodic_tasks_run(actor=None, day=day, force=True)
            # Queued at the run hour, inside the quiet hours: nothing leaves yet.
            assert messages_send_due() == {"sent": 0, "failed": 0}
            assert (len(smtp_server.received), len(api.accepted), api.refused) == before
            api.failing = day == date(2026, 10, 25)  # the third invoice day: WhatsApp is down
            for minute in (0, 1, 3):
                traveller.move_to(local(day.year, day.month, day.day, 8, minute))
                messages_send_due()
                api.failing = False  # and back a minute later
            if day.day == 26:
                pay(ana, local(day.year, day.month, day.day, 14, 0))
            if day == date(2026, 9, 4):
                traveller.move_to(local(2026, 9, 4, 10, 0))
                portal_promise_make(client=carla, until=date(2026, 9, 8))
            if day == date(2026, 9, 10):
                pay(carla, local(2026, 9, 10, 10, 0))
            if day == date(2026, 9, 12):
                pay(eli, local(2026, 9, 12, 11, 0), Decimal("100.00"))
            if day == date(2026, 9, 28):
                pay(beto, local(2026, 9, 28, 22, 30))  # its receipt waits for the morning
                assert Message.objects.get(kind="receipt", client=beto, channel="email").status == (
                    "queued"
                )
            day += timedelta(days=1)

    # Each server got exactly the messages the outbox says were sent, each once.
    sent = Message.objects.filter(status="sent")
    assert sorted(m["Message-ID"] for m in smtp_server.received) == sorted(
        sent.filter(channel="email").values_list("provider_id", flat=True)
    )
    assert sorted(call["id"] for call in api.accepted) == sorted(
        sent.filter(channel="whatsapp").values_list("provider_id", flat=True)
    )
    # Nothing failed for good, nothing waits, and nothing arrived in the quiet hours.
    assert not Message.objects.exclude(status="sent").exists()
    arrivals = smtp_server.arrived + [call["at"] for call in api.accepted]
    assert arrivals and all(time(8) <= at.time() < time(21) for at in arrivals)
    # WhatsApp's outage: refused on the third invoice day, then each message sent once.
    assert api.refused > 0
    assert Message.objects.filter(channel="whatsapp", attempts=2).count() == api.refused

    # A message exists exactly when its task acted for that client, on both channels.
    for client in (ana, beto, carla, dora, eli):
        invoices = Invoice.objects.filter(client=client, automatic=True).count()
        notices = AuditEvent.objects.filter(
            object_id=client.pk, action="client.notice_shown", actor=None
        ).count()
        cuts = AuditEvent.objects.filter(
            object_id=client.pk, action="client.cut", actor=None
        ).count()
        receipts = client.payments.count()
        expected = sorted(
            ["invoice"] * invoices
            + ["reminder"] * notices
            + ["cut"] * cuts
            + ["receipt"] * receipts
        )
        assert _kinds_of(client, "email") == _kinds_of(client, "whatsapp") == expected, client
    assert _kinds_of(ana, "email") == ["invoice"] * 3 + ["receipt"] * 3
    # Carla's promise kept her service on: cut once for September's invoice, after it ran out.
    september_cuts = [
        timezone.localtime(event.at).date()
        for event in AuditEvent.objects.filter(object_id=carla.pk, action="client.cut")
        if timezone.localtime(event.at).date() < date(2026, 10, 1)
    ]
    assert len(september_cuts) == 1 and september_cuts[0] > date(2026, 9, 8)
    assert "reminder" not in _kinds_of(dora, "email") and "cut" in _kinds_of(dora, "email")
    assert _kinds_of(eli, "email") == ["receipt"]  # every task off; a receipt goes anyway
    assert _kinds_of(beto, "email").count("cut") >= 1 and "receipt" in _kinds_of(beto, "email")
