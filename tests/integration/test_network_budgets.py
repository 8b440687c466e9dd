"""Query budgets for what this part of the product adds: the count does not grow with the
clients a router holds, the rows an import checks, or the rows a mass update changes."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext

from tests.factories import ClientFactory, OwnClientFactory, PlanFactory, RouterFactory, ZoneFactory
from wispbill.automation.services.mass_updates import mass_update_apply
from wispbill.clients.enforcement import router_desired_state
from wispbill.clients.services.bulk import clients_check_many

pytestmark = pytest.mark.django_db


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def _pppoe(zone, n):
    client = ClientFactory(zone=zone, access="pppoe", pppoe_username=f"u{n}", state="throttled")
    client.pppoe_password = "pw"
    client.save()


def test_what_a_router_must_hold_costs_the_same_queries_for_5_or_40_clients(
    django_assert_num_queries,
):
    router = RouterFactory(enforcement="mikrotik", provisioning=True)
    zone = ZoneFactory(router=router, cut_action="throttle")
    for n in range(5):
        _pppoe(zone, n)
    small = _queries(lambda: router_desired_state(router))
    for n in range(5, 40):
        _pppoe(zone, n)
    OwnClientFactory.create_batch(3, zone=zone)
    with django_assert_num_queries(small):
        desired = router_desired_state(router)
    assert len(desired.secrets) == 40 and len(desired.queues) == 43


def test_checking_an_import_costs_the_same_queries_for_5_or_50_rows(admin):
    zone, plan = ZoneFactory(), PlanFactory(price=Decimal("1.00"))

    def rows(count, offset):
        return [
            {
                "name": f"C{n}",
                "ip": f"172.18.{n // 250}.{n % 250 + 1}",
                "zone": zone,
                "plan": plan,
                "access": "pppoe",
                "pppoe_username": f"u{n}",
            }
            for n in range(offset, offset + count)
        ]

    small = _queries(lambda: clients_check_many(actor=admin, rows=rows(5, 0)))
    assert _queries(lambda: clients_check_many(actor=admin, rows=rows(50, 100))) == small


def test_the_router_page_costs_the_same_queries_for_3_or_30_clients(admin):
    router = RouterFactory(provisioning=True)
    zone = ZoneFactory(router=router)
    ClientFactory.create_batch(3, zone=zone)
    browser = Browser()
    browser.force_login(admin)
    browser.get(f"/routers/{router.pk}/")
    small = _queries(lambda: browser.get(f"/routers/{router.pk}/"))
    ClientFactory.create_batch(27, zone=zone)
    response = None

    def page():
        nonlocal response
        response = browser.get(f"/routers/{router.pk}/")

    assert _queries(page) == small
    assert b'data-testid="queue-count">30<' in response.content


def test_a_mass_update_of_cut_action_costs_the_same_queries_for_3_or_30_rows(admin):
    zones = ZoneFactory.create_batch(2)
    OwnClientFactory(zone=zones[0])
    values = {"cut_action": "throttle", "throttle_kbps": 256}
    small = _queries(lambda: mass_update_apply(actor=admin, all_zones=True, values=values))
    ZoneFactory.create_batch(15)
    OwnClientFactory.create_batch(12, zone=zones[1])
    values = {"cut_action": "suspend", "throttle_kbps": 300}
    mass_update = None

    def apply():
        nonlocal mass_update
        mass_update = mass_update_apply(actor=admin, all_zones=True, values=values)

    assert _queries(apply) == small
    assert mass_update.zones_changed == 17 and mass_update.clients_changed == 13
