"""PPPoE as operators run it: a password required (or generated and shown once), clients
that take their address from the router's pool and are cut at the address they have now, one
client's provisioning problem shown on that client, and a router's control that follows the
credentials typed. Through the real driver and librouteros to the emulator."""

import re

import pytest
from django.test import Client as Browser

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from wispbill.billing import debt
from wispbill.clients.enforcement import router_reconcile
from wispbill.clients.models import Client
from wispbill.clients.services.access import READABLE
from wispbill.clients.services.clients import client_create
from wispbill.network.models import Router

# Real commits: routers are pushed after the commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

POOL = "clientes-pppoe"


@pytest.fixture
def router(mikrotik, emulator):
    """The emulated router, keeping secrets and queues, with a pool for PPPoE clients."""
    emulator.add_pool(POOL, "10.80.0.2-10.80.0.9")
    Router.objects.filter(pk=mikrotik.pk).update(provisioning=True, pppoe_pool=POOL)
    return Router.objects.get(pk=mikrotik.pk)


@pytest.fixture
def zone(router):
    return ZoneFactory(router=router, name="Zona pool")


@pytest.fixture
def plan():
    return PlanFactory()


def _body(zone, plan, **more):
    return {"name": "Ana Díaz", "zone": zone.pk, "plan": plan.pk, "access": "pppoe", **more}


def test_a_pppoe_client_needs_a_password_or_has_one_generated_and_answered_once(
    admin_api, zone, plan
):
    refused = admin_api.post(
        "/api/v1/clients/",
        _body(zone, plan, ip="172.16.7.2", pppoe_username="ana"),
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert refused.status_code == 400
    assert "contraseña" in refused.json()["pppoe_password"][0]
    assert not Client.objects.exists()
    made = admin_api.post(
        "/api/v1/clients/",
        _body(zone, plan, ip="172.16.7.2", pppoe_username="ana", pppoe_password="generate"),
        format="json",
    )
    assert made.status_code == 201, made.json()
    generated = made.json()["pppoe_password_generated"]
    assert len(generated) == 12 and set(generated) <= set(READABLE)
    client = Client.objects.get(pk=made.json()["id"])
    assert client.pppoe_password == generated
    again = admin_api.get(f"/api/v1/clients/{client.pk}/").json()
    assert "pppoe_password_generated" not in again and "pppoe_password" not in again
    other = admin_api.post(
        "/api/v1/clients/",
        _body(zone, plan, ip="172.16.7.3", pppoe_username="beto", pppoe_password="generate"),
        format="json",
    )
    assert other.json()["pppoe_password_generated"] != generated


def test_the_panel_keeps_a_typed_password_after_an_error_and_shows_a_generated_one_once(
    admin, zone, plan
):
    browser = Browser(HTTP_ACCEPT_LANGUAGE="es")
    browser.force_login(admin)
    form = {
        "name": "Ana Díaz", "ip": "127.0.0.1", "zone": zone.pk, "plan": plan.pk,
        "start_date": "01/01/2026", "state": "active", "billing_type": "zone",
        "language": "es", "access": "pppoe", "pppoe_username": "ana",
        "pppoe_password": "tecleada-123", "auto_activate_on_payment": "on",
    }  # fmt: skip
    refused = browser.post("/clients/new/", form)
    assert refused.status_code == 400
    assert 'value="tecleada-123"' in refused.content.decode()
    saved = browser.post(
        "/clients/new/",
        {**form, "ip": "172.16.7.9", "pppoe_password": "", "pppoe_password_generate": "on"},
        follow=True,
    )
    page = saved.content.decode()
    client = Client.objects.get(pppoe_username="ana")
    assert f"Contraseña PPPoE generada: {client.pppoe_password}." in page
    later = browser.get(f"/clients/{client.pk}/").content.decode()
    assert client.pppoe_password not in later


def test_a_pool_client_is_cut_and_warned_at_the_address_it_has_now(
    admin, router, zone, plan, emulator
):
    ana = client_create(
        actor=admin, name="Ana Díaz", ip=None, zone=zone, plan=plan, access="pppoe",
        pppoe_username="ana", pppoe_password="s3creta",
    )  # fmt: skip
    assert ana.ip is None
    assert emulator.secrets()["ana"]["remote-address"] == POOL
    emulator.connect("ana")
    first = emulator.sessions()["ana"]["address"]
    assert first.startswith("10.80.0.")
    debt.client_cut(actor=admin, client=ana)
    router_reconcile(router)
    assert emulator.entries(router.cut_list) == {first: f"wispbill:client:{ana.pk}"}
    # It hangs up, someone else takes its address, and it comes back with another one.
    emulator.disconnect("ana")
    emulator.add_secret("vecino", "x", remote_address=POOL)
    emulator.connect("vecino")
    emulator.connect("ana")
    second = emulator.sessions()["ana"]["address"]
    assert second != first
    router_reconcile(router)
    assert emulator.entries(router.cut_list) == {second: f"wispbill:client:{ana.pk}"}
    debt.client_reactivate(actor=admin, client=ana)
    assert emulator.entries(router.cut_list) == {}


def test_an_ip_is_required_unless_a_pool_gives_one_and_a_pool_is_a_routeros_name(
    admin_api, zone, plan
):
    other_router_zone = ZoneFactory()
    static = admin_api.post(
        "/api/v1/clients/",
        {"name": "Sin IP", "zone": zone.pk, "plan": plan.pk},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert static.status_code == 400 and "ip" in static.json()
    no_pool = admin_api.post(
        "/api/v1/clients/",
        _body(other_router_zone, plan, pppoe_username="sinpool", pppoe_password="x-123456"),
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert no_pool.status_code == 400 and "pool" in no_pool.json()["ip"][0]
    assert not Client.objects.exists()
    bad = admin_api.patch(
        f"/api/v1/zones/{zone.pk}/", {"pppoe_pool": "mi pool; /system reboot"}, format="json"
    )
    assert bad.status_code == 400 and "pppoe_pool" in bad.json()
    good = admin_api.patch(f"/api/v1/zones/{zone.pk}/", {"pppoe_pool": "zona-1"}, format="json")
    assert good.status_code == 200 and good.json()["pppoe_pool"] == "zona-1"


def test_one_clients_problem_is_shown_on_it_and_counted_on_a_router_that_answers(
    admin, router, zone, plan, emulator
):
    # A client whose password wispbill never had (an old import): its secret cannot be made.
    lost = ClientFactory(
        name="Sin Clave", zone=zone, plan=plan, access="pppoe", pppoe_username="sinclave",
        ip="172.16.8.2",
    )  # fmt: skip
    fine = ClientFactory(name="Con IP", zone=zone, plan=plan, ip="172.16.8.3")
    router_reconcile(router)
    router.refresh_from_db()
    assert router.sync_status == "error" and router.failed_addresses == ["172.16.8.2"]
    browser = Browser(HTTP_ACCEPT_LANGUAGE="es")
    browser.force_login(admin)
    router_page = browser.get(f"/routers/{router.pk}/").content.decode()
    assert "no se ha podido llegar" not in router_page.lower()
    assert "1 cliente no se pudo configurar" in router_page
    lost_page = browser.get(f"/clients/{lost.pk}/").content.decode()
    problem = re.search(r'data-testid="client-sync-problem">([^<]*)<', lost_page)
    assert problem and "contraseña PPPoE" in problem.group(1)
    assert (
        'data-testid="client-sync-problem"'
        not in browser.get(f"/clients/{fine.pk}/").content.decode()
    )
    assert "172.16.8.3/32" in {q["target"] for q in emulator.queues().values()}


def test_a_new_routers_control_follows_the_credentials_given(admin_api):
    managed = admin_api.post(
        "/api/v1/routers/",
        {"name": "Torre", "host": "192.0.2.10", "username": "api", "password": "clave"},
        format="json",
    )
    bare = admin_api.post(
        "/api/v1/routers/", {"name": "Cerro", "host": "192.0.2.11"}, format="json"
    )
    chosen = admin_api.post(
        "/api/v1/routers/",
        {"name": "Loma", "host": "192.0.2.12", "username": "api", "password": "clave",
         "enforcement": "none"},
        format="json",
    )  # fmt: skip
    assert (managed.json()["enforcement"], bare.json()["enforcement"]) == ("mikrotik", "none")
    assert chosen.json()["enforcement"] == "none"
    assert Router.objects.get(name="Torre").password == "clave"
