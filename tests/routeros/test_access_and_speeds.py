"""Access types, speeds and reduced speed (docs/routers.md), end to end: clients made through the
services, the routers pushed through the real driver and librouteros to the emulator, and the
router looked at as an operator would in Winbox."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from tests.factories import PlanFactory, RouterFactory, ZoneFactory
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing import debt
from wispbill.billing.models import Invoice
from wispbill.billing.services.payments import payment_register
from wispbill.clients.enforcement import router_reconcile
from wispbill.clients.models import Client
from wispbill.clients.services.clients import client_create, client_update
from wispbill.clients.services.plans import plan_update
from wispbill.devtools.emulator import RouterOSEmulator
from wispbill.network.services import router_update

# Real commits: routers are pushed after the commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def router(mikrotik):
    mikrotik.provisioning = True
    mikrotik.save()
    return mikrotik


@pytest.fixture
def zone(router):
    return ZoneFactory(router=router)


@pytest.fixture
def plan():
    return PlanFactory(name="Hogar 10M", upload_kbps=2_000, download_kbps=10_000)


def _static(admin, zone, plan, ip="172.16.0.10", **more):
    return client_create(actor=admin, name="Casa Pérez", ip=ip, zone=zone, plan=plan, **more)


def _pppoe(admin, zone, plan, ip="172.16.0.20", username="ana", **more):
    return client_create(
        actor=admin,
        name="Ana Díaz",
        ip=ip,
        zone=zone,
        plan=plan,
        access="pppoe",
        pppoe_username=username,
        pppoe_password="s3creta",
        **more,
    )


def _queue_for(emulator, ip: str) -> dict:
    [queue] = [q for q in emulator.queues().values() if q["target"] == f"{ip}/32"]
    return queue


def test_static_and_pppoe_clients_are_provisioned_and_a_second_push_writes_nothing(
    admin, router, zone, plan, emulator
):
    casa = _static(admin, zone, plan)
    ana = _pppoe(admin, zone, plan)
    secret = emulator.secrets()["ana"]
    assert (secret["password"], secret["service"], secret["remote-address"]) == (
        "s3creta",
        "pppoe",
        "172.16.0.20",
    )
    assert secret["comment"] == f"wispbill:client:{ana.pk}" and secret["disabled"] == "false"
    assert len(emulator.secrets()) == 1  # a static client has no secret
    for client in (casa, ana):
        queue = _queue_for(emulator, client.ip)
        # 2000k/10000k: the client sends at 2 Mbps and receives at 10 Mbps.
        assert queue["max-limit"] == "2000000/10000000"
        assert queue["comment"] == f"wispbill:client:{client.pk}"
    router.refresh_from_db()
    assert router.sync_status == "ok" and router.last_error == ""
    writes = emulator.writes
    result = router_reconcile(router)
    assert emulator.writes == writes
    assert (result["added"], result["changed"], result["removed"]) == (0, 0, 0)


def test_a_pppoe_username_is_unique_per_router(admin, router, zone, plan):
    _pppoe(admin, zone, plan)
    with pytest.raises(Exception) as refused:
        _pppoe(admin, zone, plan, ip="172.16.0.21")
    assert "pppoe_username" in refused.value.message_dict
    other = ZoneFactory(router=RouterFactory())
    assert _pppoe(admin, other, plan, ip="172.16.0.22").pppoe_username == "ana"


def test_pppoe_client_cut_through_the_address_list_like_a_static_one(
    admin, router, zone, plan, emulator
):
    ana = _pppoe(admin, zone, plan)
    emulator.connect("ana")
    debt.client_cut(actor=admin, client=ana)
    assert emulator.entries("Moroso") == {"172.16.0.20": f"wispbill:client:{ana.pk}"}
    assert emulator.secrets()["ana"]["disabled"] == "false"


def test_disable_secret_really_cuts_the_session_and_reactivation_enables_it(
    admin, router, zone, plan, emulator
):
    router_update(actor=admin, router=router, data={"pppoe_cut": "disable_secret"})
    ana = _pppoe(admin, zone, plan)
    casa = _static(admin, zone, plan)
    emulator.connect("ana")
    assert "ana" in emulator.sessions()
    debt.client_cut(actor=admin, client=ana)
    debt.client_cut(actor=admin, client=casa)
    assert emulator.secrets()["ana"]["disabled"] == "true"
    # The session is gone and, its secret disabled, the client cannot dial back in.
    assert "ana" not in emulator.sessions()
    # Static clients are still cut through the list; the PPPoE client is not listed.
    assert emulator.entries("Moroso") == {casa.ip: f"wispbill:client:{casa.pk}"}
    debt.client_reactivate(actor=admin, client=ana)
    assert emulator.secrets()["ana"]["disabled"] == "false"
    emulator.connect("ana")
    assert "ana" in emulator.sessions()


def test_disable_secret_without_provisioning_still_cuts_through_the_list(
    admin, mikrotik, plan, emulator
):
    router_update(actor=admin, router=mikrotik, data={"pppoe_cut": "disable_secret"})
    ana = _pppoe(admin, ZoneFactory(router=mikrotik), plan)
    debt.client_cut(actor=admin, client=ana)
    assert emulator.entries("Moroso") == {ana.ip: f"wispbill:client:{ana.pk}"}
    assert emulator.secrets() == {}  # wispbill does not keep secrets there


def test_a_late_client_of_a_throttling_zone_gets_the_reduced_speed_until_it_pays(
    admin, router, plan, emulator
):
    zone = ZoneFactory(router=router, cut_action="throttle", throttle_kbps=512)
    ana = _pppoe(admin, zone, plan, start_date=date(2026, 1, 1))
    emulator.connect("ana")
    with time_machine.travel(date(2026, 9, 5), tick=False):
        periodic_tasks_run(actor=None, day=date(2026, 8, 25), force=True)
        summary = periodic_tasks_run(actor=None, day=date(2026, 9, 5), force=True)
    assert (summary.clients_cut, summary.clients_throttled) == (1, 1)
    ana.refresh_from_db()
    assert ana.state == "throttled"
    assert emulator.entries("Reducido") == {ana.ip: f"wispbill:client:{ana.pk}"}
    assert emulator.entries("Moroso") == {}
    assert _queue_for(emulator, ana.ip)["max-limit"] == "512000/512000"
    assert "ana" in emulator.sessions()  # still connected, slowly
    invoice = Invoice.objects.get(client=ana)
    with time_machine.travel(date(2026, 9, 6), tick=False):
        payment_register(actor=admin, client=ana, amount=invoice.total)
    ana.refresh_from_db()
    assert ana.state == "active"
    assert emulator.entries("Reducido") == {}
    assert _queue_for(emulator, ana.ip)["max-limit"] == "2000000/10000000"


def test_a_throttle_is_never_faster_than_the_plan(admin, router, emulator):
    slow_plan = PlanFactory(upload_kbps=256, download_kbps=1_000, price=Decimal("150.00"))
    zone = ZoneFactory(router=router, cut_action="throttle", throttle_kbps=512)
    casa = _static(admin, zone, slow_plan)
    client_update(actor=admin, client=casa, data={"state": "throttled"})
    assert _queue_for(emulator, casa.ip)["max-limit"] == "256000/512000"


def test_a_plan_speed_change_reaches_every_router_with_its_clients(admin, plan, emulator):
    second = RouterOSEmulator(username="wispbill", password="s3cret").start()
    try:
        routers = []
        for port in (emulator.port, second.port):
            router = RouterFactory(
                host="127.0.0.1",
                api_port=port,
                username="wispbill",
                enforcement="mikrotik",
                provisioning=True,
            )
            router.password = "s3cret"
            router.save()
            routers.append(router)
        _static(admin, ZoneFactory(router=routers[0]), plan, ip="172.16.1.1")
        _static(admin, ZoneFactory(router=routers[1]), plan, ip="172.16.2.1")
        plan_update(actor=admin, plan=plan, data={"download_kbps": 20_000})
        assert _queue_for(emulator, "172.16.1.1")["max-limit"] == "2000000/20000000"
        assert _queue_for(second, "172.16.2.1")["max-limit"] == "2000000/20000000"
    finally:
        second.stop()


def test_the_routers_own_objects_are_never_touched(admin, router, zone, plan, emulator):
    emulator.add_secret("enlace-torre", "x", comment="backhaul")
    emulator.add_queue("total", "172.16.0.0/16", "100M/100M")
    emulator.add_by_hand("Moroso", "10.9.9.9", "puesto a mano")
    emulator.add_by_hand("Reducido", "10.9.9.8")
    before = (emulator.secrets(), emulator.queues(), emulator.entries("Moroso"))
    ana = _pppoe(admin, zone, plan)
    debt.client_cut(actor=admin, client=ana)
    debt.client_reactivate(actor=admin, client=ana)
    router_reconcile(router)
    assert emulator.secrets()["enlace-torre"] == before[0]["enlace-torre"]
    assert emulator.queues()["total"] == before[1]["total"]
    assert emulator.entries("Moroso") == {"10.9.9.9": "puesto a mano"}
    assert emulator.entries("Reducido") == {"10.9.9.8": ""}


def test_a_name_the_router_already_uses_is_reported_not_taken(admin, router, zone, plan, emulator):
    emulator.add_secret("ana", "del-router", comment="Ana, puesta a mano")
    ana = _pppoe(admin, zone, plan)
    router.refresh_from_db()
    assert emulator.secrets()["ana"]["password"] == "del-router"
    assert ana.ip in router.failed_addresses and "no es de wispbill" in router.last_error
    assert Client.objects.get(pk=ana.pk).state == "active"


def test_changing_access_moves_the_client_between_secret_and_static(
    admin, router, zone, plan, emulator
):
    ana = _pppoe(admin, zone, plan)
    client_update(actor=admin, client=ana, data={"access": "static"})
    assert emulator.secrets() == {}
    ana.refresh_from_db()
    assert (ana.pppoe_username, ana.pppoe_password) == ("", "")
    client_update(
        actor=admin,
        client=ana,
        data={"access": "pppoe", "pppoe_username": "ana2", "pppoe_password": "nueva"},
    )
    assert emulator.secrets()["ana2"]["password"] == "nueva"
