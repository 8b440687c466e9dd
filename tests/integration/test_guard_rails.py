"""Guard rails: query budgets that an N+1 breaks, the queue tasks called directly, and the rules
that had no test of their own."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext

from tests.factories import ClientFactory, OwnClientFactory, RouterFactory, ZoneFactory
from wispbill.automation.models import TaskState
from wispbill.automation.selectors import next_run_at
from wispbill.automation.services.mass_updates import mass_update_apply
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.automation.tasks import scheduler_tick
from wispbill.billing.models import Invoice
from wispbill.clients.services.zones import zone_delete
from wispbill.core.models import CompanySettings
from wispbill.network.models import Router
from wispbill.network.services import router_create, router_update
from wispbill.staff.services import staff_update

pytestmark = pytest.mark.django_db
MX = ZoneInfo("America/Mexico_City")


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def _browser(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


# --- query budgets: the count does not grow with the rows shown or touched -------------------


def test_clients_list_page_costs_the_same_queries_for_5_or_40_rows(
    admin, django_assert_num_queries
):
    browser = _browser(admin)
    zone = ZoneFactory()
    ClientFactory.create_batch(5, zone=zone)
    OwnClientFactory.create_batch(2, zone=zone)
    browser.get("/clients/")  # warm the session and the company row
    small = _queries(lambda: browser.get("/clients/"))
    ClientFactory.create_batch(33, zone=ZoneFactory())
    with django_assert_num_queries(small):
        response = browser.get("/clients/")
    assert response.status_code == 200 and response.content.count(b'class="client-row"') == 40


def test_periodic_tasks_page_costs_the_same_queries_for_3_or_30_rows(
    admin, django_assert_num_queries
):
    browser = _browser(admin)
    ZoneFactory.create_batch(2)
    OwnClientFactory()
    periodic_tasks_run(actor=None, force=True, day=date(2026, 9, 1))
    browser.get("/periodic-tasks/")
    small = _queries(lambda: browser.get("/periodic-tasks/"))
    ZoneFactory.create_batch(17)
    OwnClientFactory.create_batch(10)
    periodic_tasks_run(actor=None, force=True, day=date(2026, 9, 2))
    with django_assert_num_queries(small):
        response = browser.get("/periodic-tasks/")
    assert response.status_code == 200


def test_one_engine_batch_costs_the_same_queries_for_10_or_60_clients(django_assert_num_queries):
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    ClientFactory.create_batch(10, zone=zone, start_date=date(2026, 1, 1))
    CompanySettings.load()
    day = date(2026, 8, 25)
    with time_machine.travel(day, tick=False):
        small = _queries(lambda: periodic_tasks_run(actor=None, force=True, day=day))
    assert Invoice.objects.count() == 10
    Invoice.objects.all().delete()
    TaskState.objects.all().delete()
    ClientFactory.create_batch(50, zone=zone, start_date=date(2026, 1, 1))
    with time_machine.travel(day, tick=False), django_assert_num_queries(small):
        periodic_tasks_run(actor=None, force=True, day=day)
    assert Invoice.objects.count() == 60


def test_a_mass_update_costs_the_same_queries_for_3_or_30_rows(admin, django_assert_num_queries):
    zones = ZoneFactory.create_batch(2)
    OwnClientFactory(zone=zones[0])
    small = _queries(lambda: mass_update_apply(actor=admin, all_zones=True, values={"cuts": False}))
    ZoneFactory.create_batch(15)
    OwnClientFactory.create_batch(12, zone=zones[1])
    with django_assert_num_queries(small):
        mass_update = mass_update_apply(actor=admin, all_zones=True, values={"notices": False})
    assert mass_update.zones_changed == 17 and mass_update.clients_changed == 13


def _payments(n: int, admin) -> None:
    from decimal import Decimal

    from wispbill.billing.services.payments import payment_register

    for client in ClientFactory.create_batch(n, zone=ZoneFactory()):
        payment_register(actor=admin, client=client, amount=Decimal("100.00"), reference="R")


@pytest.mark.parametrize("page", ["/payments/", "/payments/cash-report/", "/"])
def test_money_pages_cost_the_same_queries_for_5_or_40_payments(
    admin, page, django_assert_num_queries
):
    browser = _browser(admin)
    _payments(5, admin)
    browser.get(page)
    small = _queries(lambda: browser.get(page))
    _payments(35, admin)
    with django_assert_num_queries(small):
        response = browser.get(page)
    assert response.status_code == 200


def test_the_audit_log_costs_the_same_queries_for_5_or_40_events_of_every_kind(
    admin, django_assert_num_queries
):
    from decimal import Decimal

    from wispbill.billing.debt import client_cut
    from wispbill.billing.services.payments import payment_register
    from wispbill.clients.services.clients import client_update

    def events(n: int) -> None:
        for _ in range(n):
            client = ClientFactory()
            client_update(actor=admin, client=client, data={"zone": ZoneFactory()})
            client_cut(actor=admin, client=client)
            payment_register(actor=admin, client=client, amount=Decimal("5.00"))
        mass_update_apply(actor=admin, all_zones=True, values={"cuts": False})

    browser = _browser(admin)
    events(2)
    browser.get("/audit/")
    small = _queries(lambda: browser.get("/audit/"))
    events(12)
    with django_assert_num_queries(small):
        response = browser.get("/audit/")
    assert response.status_code == 200 and response.content.count(b'class="audit-row"') == 50


# --- the queue tasks, called directly --------------------------------------------------------


def test_the_scheduler_tick_runs_the_day_once_after_the_run_hour():
    company = CompanySettings.load()
    company.run_hour = 6
    company.save()
    ClientFactory(zone=ZoneFactory(), start_date=date(2020, 1, 1))
    with time_machine.travel(datetime(2026, 9, 10, 5, 55, tzinfo=MX), tick=False):
        scheduler_tick()
    assert Invoice.objects.count() == 0
    with time_machine.travel(datetime(2026, 9, 10, 6, 0, tzinfo=MX), tick=False):
        scheduler_tick()
        scheduler_tick()
    assert Invoice.objects.count() == 1
    assert CompanySettings.load().last_daily_run == date(2026, 9, 10)


def test_a_failing_router_books_one_retry_with_back_off(emulator_router):
    from wispbill.clients.tasks import reconcile_router_task

    router, emulator = emulator_router
    emulator.go_down()
    reconcile_router_task(router.pk, False)
    router.refresh_from_db()
    assert router.sync_status == "error" and router.sync_failures == 1
    first_retry = router.retry_at
    assert first_retry is not None
    reconcile_router_task(router.pk, False)  # still down: the booked retry is kept
    router.refresh_from_db()
    assert router.sync_failures == 2 and router.retry_at == first_retry
    emulator.come_back()
    reconcile_router_task(router.pk, False)
    router.refresh_from_db()
    assert router.sync_status == "ok" and router.sync_failures == 0


def test_the_every_router_pass_reconciles_each_enforced_router(emulator_router):
    from wispbill.clients.tasks import reconcile_all_routers

    router, emulator = emulator_router
    unmanaged = RouterFactory(enforcement="none")
    client = ClientFactory(zone=ZoneFactory(router=router), state="suspended")
    Router.objects.filter(pk=router.pk).update(needs_sync=False)
    reconcile_all_routers()
    assert emulator.entries("Moroso") == {client.ip: f"wispbill:client:{client.pk}"}
    unmanaged.refresh_from_db()
    assert unmanaged.last_sync_at is None


@pytest.fixture
def emulator_router(db):
    from wispbill.devtools.emulator import RouterOSEmulator

    emulator = RouterOSEmulator(username="wispbill", password="s3cret").start()
    router = RouterFactory(
        host="127.0.0.1", api_port=emulator.port, username="wispbill", enforcement="mikrotik"
    )
    router.password = "s3cret"
    router.save()
    yield router, emulator
    emulator.stop()


# --- rules that had no test ------------------------------------------------------------------


def test_a_zone_with_clients_cannot_be_deleted(admin):
    zone = ZoneFactory()
    ClientFactory(zone=zone)
    with pytest.raises(ValidationError):
        zone_delete(actor=admin, zone=zone)
    assert type(zone).objects.filter(pk=zone.pk).exists()


def test_an_admin_cannot_demote_or_deactivate_themself(admin):
    for change in ({"is_admin": False}, {"is_active": False}):
        with pytest.raises(ValidationError):
            staff_update(actor=admin, user=admin, **change)
    admin.refresh_from_db()
    assert admin.is_superuser and admin.is_active


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"enforcement": "mikrotik", "host": ""}, "host"),
        ({"api_port": 0}, "api_port"),
        ({"api_port": 70000}, "api_port"),
        ({"cut_list": "Moroso", "notice_list": "Moroso"}, "notice_list"),
    ],
)
def test_router_validation(admin, fields, field):
    base = {"name": "Torre", "host": "192.0.2.1", "enforcement": "none"}
    with pytest.raises(ValidationError) as refused:
        router_create(actor=admin, **{**base, **fields})
    assert field in refused.value.message_dict
    router = router_create(actor=admin, **base)
    with pytest.raises(ValidationError):
        router_update(actor=admin, router=router, data=fields)
    router.refresh_from_db()
    assert router.host == "192.0.2.1" and router.api_port == 8728


def test_next_run_times():
    def at(hour, minute=0, day=10):
        return datetime(2026, 9, day, hour, minute, tzinfo=MX)

    # Before the run hour: today's run hour.
    assert next_run_at(enabled=True, last_run_date=None, run_hour=6, now=at(5)) == at(6)
    # Past the run hour and not run yet today: the next scheduler tick (every five minutes).
    assert next_run_at(
        enabled=True, last_run_date=date(2026, 9, 9), run_hour=6, now=at(7, 2)
    ) == at(7, 5)
    # Already run today: tomorrow's run hour.
    assert next_run_at(enabled=True, last_run_date=date(2026, 9, 10), run_hour=6, now=at(7)) == at(
        6
    ) + timedelta(days=1)
    # A switch that is off never runs by itself.
    assert next_run_at(enabled=False, last_run_date=None, run_hour=6, now=at(5)) is None
