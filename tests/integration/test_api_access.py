"""The API side of access types and router options (docs/routers.md): PPPoE clients with a
write-only password, the router's new fields, and the contract's refusals."""

import pytest

from tests.factories import PlanFactory, RouterFactory, ZoneFactory
from wispbill.clients.models import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def zone():
    return ZoneFactory(router=RouterFactory(name="Torre"))


def _client(api, zone, **more):
    body = {"name": "Ana", "ip": "172.16.5.1", "zone": zone.pk, "plan": PlanFactory().pk, **more}
    return api.post("/api/v1/clients/", body, format="json")


def test_a_pppoe_client_keeps_its_password_write_only_and_encrypted(admin_api, zone):
    response = _client(
        admin_api, zone, access="pppoe", pppoe_username="ana", pppoe_password="s3creta"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["access"], body["pppoe_username"]) == ("pppoe", "ana")
    assert "pppoe_password" not in body
    client = Client.objects.get(pk=body["id"])
    assert client.pppoe_password == "s3creta"
    assert "s3creta" not in client.pppoe_password_encrypted
    listed = admin_api.get(f"/api/v1/clients/{client.pk}/").json()
    assert "pppoe_password" not in listed and listed["access"] == "pppoe"


def test_static_is_the_default_and_pppoe_needs_a_username_unique_per_router(admin_api, zone):
    assert _client(admin_api, zone).json()["access"] == "static"
    missing = _client(admin_api, zone, ip="172.16.5.2", access="pppoe")
    assert missing.status_code == 400 and "pppoe_username" in missing.json()
    first = {"access": "pppoe", "pppoe_username": "beto", "pppoe_password": "clave-1"}
    assert _client(admin_api, zone, ip="172.16.5.3", **first).status_code == 201
    taken = _client(admin_api, zone, ip="172.16.5.4", **first)
    assert taken.status_code == 400 and "beto" in taken.json()["pppoe_username"][0]
    bad = _client(admin_api, zone, ip="172.16.5.5", access="wifi")
    assert bad.status_code == 400 and "access" in bad.json()


def test_routers_carry_provisioning_pppoe_cut_throttle_list_and_fingerprint(admin_api):
    response = admin_api.post(
        "/api/v1/routers/",
        {"name": "Cerro", "host": "192.0.2.9", "username": "api", "password": "x"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["provisioning"], body["pppoe_cut"], body["throttle_list"]) == (
        False,
        "address_list",
        "Reducido",
    )
    assert body["tls_fingerprint"] == "" and "password" not in body
    changed = admin_api.patch(
        f"/api/v1/routers/{body['id']}/",
        {"provisioning": True, "pppoe_cut": "disable_secret", "throttle_list": "Lentos"},
        format="json",
    )
    assert changed.status_code == 200
    assert (changed.json()["pppoe_cut"], changed.json()["throttle_list"]) == (
        "disable_secret",
        "Lentos",
    )
    clash = admin_api.patch(
        f"/api/v1/routers/{body['id']}/", {"throttle_list": "Moroso"}, format="json"
    )
    assert clash.status_code == 400 and "throttle_list" in clash.json()
    bad = admin_api.patch(f"/api/v1/routers/{body['id']}/", {"pppoe_cut": "x"}, format="json")
    assert bad.status_code == 400
