"""The notice page tells the client the truth: its real state, a cut date only when a cut is
really coming, dates as people write them; "Understood" takes it off its router's notice
list until the next day; staff preview it."""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client as Browser
from django.test import override_settings

from tests.factories import ClientFactory, PlanFactory, RouterFactory, ZoneFactory
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.services.payments import payment_register
from wispbill.clients.enforcement import router_desired_state, router_reconcile
from wispbill.clients.models import Client
from wispbill.clients.services.zones import zone_update
from wispbill.devtools.emulator import RouterOSEmulator

pytestmark = pytest.mark.django_db
MX = ZoneInfo(settings.TIME_ZONE)


def on(day: date):
    return time_machine.travel(datetime(day.year, day.month, day.day, 12, tzinfo=MX), tick=False)


def page(client: Client, **headers) -> str:
    return Browser().get("/aviso/", REMOTE_ADDR=client.ip, **headers).content.decode()


def headline(html: str) -> str:
    return re.search(r'data-headline="(\w+)"', html).group(1)


@pytest.fixture
def warned(db):
    """Ana owes September's $399.00 (due 5 Sep, notice from 3 Sep), and sees the notice."""
    zone = ZoneFactory(
        name="Zona día 1", router__name="Torre Norte", pay_day=1, invoice_lead_days=7,
        notice_offset_days=2, grace_days=4,
    )  # fmt: skip
    client = ClientFactory(
        zone=zone, name="Ana Pérez", start_date=date(2026, 1, 1),
        plan=PlanFactory(price=Decimal("399.00")),
    )  # fmt: skip
    for day in (date(2026, 8, 25), date(2026, 9, 3)):
        periodic_tasks_run(actor=None, day=day, force=True)
    client.refresh_from_db()
    assert client.notice_active
    return client


def test_a_warned_client_reads_what_it_owes_and_the_day_of_the_cut(warned):
    with on(date(2026, 9, 3)):
        html = page(warned)
    assert headline(html) == "warned" and "Ana Pérez, tienes un pago pendiente" in html
    assert "$399.00" in html
    assert "Paga antes del 5 de septiembre de 2026 para conservar tu servicio" in html
    assert "2026-09-05" not in html
    with on(date(2026, 9, 3)):
        english = page(warned, HTTP_ACCEPT_LANGUAGE="en")
    assert "Pay before September 5, 2026" in english


def test_no_past_date_is_a_threat_when_cuts_are_off(warned, admin):
    zone_update(actor=admin, zone=warned.zone, switches={"cuts": False})
    with on(date(2026, 10, 20)):
        html = page(warned)
    assert headline(html) == "warned"
    assert "Venció el 5 de septiembre de 2026." in html
    assert "suspend" not in html and "Paga antes" not in html


def test_a_promise_moves_the_cut_after_it(warned):
    from wispbill.billing.debt import client_promise

    with on(date(2026, 9, 4)):
        client_promise(actor=None, client=warned, until=date(2026, 9, 8))
        html = page(warned)
    assert "Prometiste pagar a más tardar el 8 de septiembre de 2026" in html
    assert "Paga antes del 9 de septiembre de 2026" in html


def test_suspended_throttled_and_nothing_owed_each_have_their_headline(warned):
    periodic_tasks_run(actor=None, day=date(2026, 9, 5), force=True)
    warned.refresh_from_db()
    assert warned.state == "suspended"
    with on(date(2026, 9, 5)):
        html = page(warned)
    assert headline(html) == "suspended" and "tu servicio de internet está suspendido" in html
    assert "Venció el 5 de septiembre de 2026." in html
    assert "Entendido" not in html  # nothing to dismiss: the service is cut

    Client.objects.filter(pk=warned.pk).update(state="throttled")
    with on(date(2026, 9, 5)):
        html = page(warned)
    assert headline(html) == "throttled" and "tu servicio tiene velocidad reducida" in html

    Client.objects.filter(pk=warned.pk).update(state="active", notice_active=True)
    payment_register(actor=None, client=warned, amount=Decimal("450.00"))
    Client.objects.filter(pk=warned.pk).update(notice_active=True)  # the router is not there yet
    with on(date(2026, 9, 6)):
        html = page(warned)
    assert headline(html) == "clear" and "Ana Pérez, no debes nada" in html
    assert "pago pendiente" not in html and "Monto a pagar" not in html
    assert "Tienes $51.00 a favor" in html


@pytest.fixture
def emulator():
    device = RouterOSEmulator(username="wispbill", password="s3cret").start()
    yield device
    device.stop()


def test_understood_takes_the_client_off_the_notice_list_until_the_next_day(emulator):
    router = RouterFactory(
        host="127.0.0.1", api_port=emulator.port, username="wispbill", enforcement="mikrotik"
    )
    router.password = "s3cret"
    router.save()
    zone = ZoneFactory(router=router, pay_day=1, invoice_lead_days=7, notice_offset_days=2,
                       grace_days=4)  # fmt: skip
    client = ClientFactory(zone=zone, name="Beto Ruiz", start_date=date(2026, 1, 1))
    with on(date(2026, 9, 3)):
        for day in (date(2026, 8, 25), date(2026, 9, 3)):
            periodic_tasks_run(actor=None, day=day, force=True)
        router_reconcile(router)
        assert client.ip in emulator.entries("Aviso")
        html = page(client)
        token = re.search(r'name="token" value="([^"]+)"', html).group(1)
        # A token made for another day, or for another client, dismisses nothing.
        Browser().post("/aviso/", {"token": "forged"}, REMOTE_ADDR=client.ip)
        assert Client.objects.get(pk=client.pk).notice_dismissed_on is None
        answer = Browser().post("/aviso/", {"token": token}, REMOTE_ADDR=client.ip)
        assert answer.status_code == 302
        client.refresh_from_db()
        assert client.notice_dismissed_on == date(2026, 9, 3) and client.notice_active
        router_reconcile(router)
        assert client.ip not in emulator.entries("Aviso")
        assert "Listo: hoy ya no volverás a ver este aviso" in page(client)
    with on(date(2026, 9, 4)):
        periodic_tasks_run(actor=None, day=date(2026, 9, 4), force=True)
        client.refresh_from_db()
        assert client.notice_dismissed_on is None
        assert any(entry.address == client.ip for entry in router_desired_state(router).entries)
        router_reconcile(router)
        assert client.ip in emulator.entries("Aviso")
        assert "Entendido, seguir navegando" in page(client)


def test_staff_preview_a_clients_notice_page(warned, staff):
    browser = Browser()
    assert browser.get(f"/clients/{warned.pk}/notice/").status_code == 302  # log in first
    browser.force_login(staff)
    with on(date(2026, 9, 3)):
        html = browser.get(f"/clients/{warned.pk}/notice/").content.decode()
        client_page = browser.get(f"/clients/{warned.pk}/").content.decode()
    assert "Vista previa: así ve Ana Pérez su página de aviso" in html
    assert re.search(r'<button type="submit" disabled[^>]*data-testid="dismiss"', html)
    assert "$399.00" in html and "Paga antes del 5 de septiembre de 2026" in html
    assert f'href="/clients/{warned.pk}/notice/"' in client_page
    # Staff who read the panel in English get the banner in English; the page stays in the
    # client's language.
    browser.cookies["django_language"] = "en"
    with on(date(2026, 9, 3)):
        html = browser.get(f"/clients/{warned.pk}/notice/").content.decode()
    assert "Preview: this is the notice page as Ana Pérez sees it now" in html
    assert 'title="Only the client can do this, from its own connection."' in html
    assert "Paga antes del 5 de septiembre de 2026" in html


@override_settings(NOTICE_PORT=8099)
def test_understood_on_the_notice_port_returns_to_the_address_asked_for(warned):
    notice_port = {"SERVER_PORT": "8099", "REMOTE_ADDR": warned.ip, "HTTP_HOST": "example.com"}
    with on(date(2026, 9, 3)):
        html = Browser().get("/news/today?x=1", **notice_port).content.decode()
        token = re.search(r'name="token" value="([^"]+)"', html).group(1)
        done = Browser().post("/news/today?x=1", {"token": token}, **notice_port)
        assert done.status_code == 302 and done["Location"] == "/news/today?x=1"
        html = Browser().get("/news/today?x=1", **notice_port).content.decode()
    assert "Listo: hoy ya no volverás a ver este aviso" in html
    assert "example.com" not in html  # nothing on the notice port is built from its host


def test_where_the_cut_reduces_the_speed_the_notice_says_so_and_can_be_dismissed(warned):
    Client.objects.filter(pk=warned.pk).update(
        billing_type="own", billing_mode="prepaid", pay_day=1, invoice_lead_days=7,
        notice_offset_days=2, grace_days=4, cut_action="throttle", throttle_kbps=512,
    )  # fmt: skip
    with on(date(2026, 9, 3)):
        html = page(warned)
    assert "Paga antes del 5 de septiembre de 2026 para conservar tu velocidad completa" in html
    Client.objects.filter(pk=warned.pk).update(state="throttled")
    with on(date(2026, 9, 6)):
        html = page(warned)
        token = re.search(r'name="token" value="([^"]+)"', html).group(1)
        Browser().post("/aviso/", {"token": token}, REMOTE_ADDR=warned.ip)
        warned.refresh_from_db()
        desired = router_desired_state(warned.zone.router).entries
    assert warned.notice_dismissed_on == date(2026, 9, 6)
    lists = {entry.list for entry in desired if entry.address == warned.ip}
    assert lists == {warned.zone.router.throttle_list}  # still slow, no longer sent to the notice
