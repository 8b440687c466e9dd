"""Import from a router (docs/contract.md): a network built by hand becomes plans and clients; the
preview writes nothing anywhere, the import takes the router's objects over instead of
duplicating them, and a second import creates nothing."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from wispbill.audit.models import AuditEvent
from wispbill.clients.models import Client, Plan
from wispbill.network.drivers.mikrotik import MikrotikDriver

pytestmark = pytest.mark.django_db(transaction=True)


def _network(emulator):
    """A WISP's router before wispbill: PPPoE and static clients, an admin's own objects."""
    emulator.add_profile("plan-10M", "2M/10M")
    emulator.add_secret("ana", "pw-ana", remote_address="172.16.0.2", comment="Ana Díaz")
    emulator.add_secret("beto", "pw-beto", remote_address="172.16.0.3", profile="plan-10M")
    emulator.add_secret("sin-ip", "pw3")
    emulator.add_secret("enlace", "x", service="l2tp", remote_address="10.99.0.1")
    emulator.add_queue("Ana Díaz", "172.16.0.2/32", "2M/10M", burst_limit="4M/20M")
    emulator.add_queue("Casa Pérez", "192.168.88.20/32", "512k/2M")
    emulator.add_queue("doble-1", "192.168.88.30/32", "1M/5M")
    emulator.add_queue("doble-2", "192.168.88.30", "1M/6M")
    emulator.add_queue("total", "172.16.0.0/16", "100M/100M")
    emulator.add_lease("192.168.88.20", "AA:BB:CC:00:00:01", host_name="casa-perez")
    emulator.add_by_hand("Moroso", "172.16.0.3", "debe marzo")
    emulator.add_by_hand("Aviso", "192.168.88.20")


@pytest.fixture
def zone(mikrotik):
    mikrotik.provisioning = True
    mikrotik.save()
    return ZoneFactory(router=mikrotik)


def _import(api, router, zone, confirm):
    response = api.post(
        f"/api/v1/routers/{router.pk}/import/",
        {"zone": zone.pk, "confirm": confirm},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


def test_preview_proposes_plans_clients_and_conflicts_and_writes_nothing(
    admin_api, mikrotik, zone, emulator
):
    _network(emulator)
    ClientFactory(ip="10.99.0.50", plan=PlanFactory(upload_kbps=1_000, download_kbps=1_000))
    audit_before = AuditEvent.objects.count()
    answer = _import(admin_api, mikrotik, zone, confirm=False)
    assert emulator.writes == 0
    assert Client.objects.count() == 1 and AuditEvent.objects.count() == audit_before
    clients = {c["ip"]: c for c in answer["clients"]}
    assert set(clients) == {"172.16.0.2", "172.16.0.3", "192.168.88.20"}
    ana = clients["172.16.0.2"]
    assert (ana["name"], ana["access"], ana["pppoe_username"], ana["state"]) == (
        "Ana Díaz",
        "pppoe",
        "ana",
        "active",
    )
    # Beto has no queue: its PPP profile's rate limit is its speed; it is in the cut list.
    beto = clients["172.16.0.3"]
    assert (beto["name"], beto["state"], beto["download_kbps"], beto["upload_kbps"]) == (
        "beto",
        "suspended",
        10_000,
        2_000,
    )
    casa = clients["192.168.88.20"]
    assert (casa["access"], casa["notice"], casa["download_kbps"]) == ("static", True, 2_000)
    assert "pppoe_password" not in ana  # passwords never leave in an answer
    assert sorted(
        (p["download_kbps"], p["upload_kbps"], p["existing"]) for p in answer["plans"]
    ) == [
        (2_000, 512, None),
        (10_000, 2_000, None),
    ]
    codes = {c["code"] for c in answer["conflicts"]}
    assert {"two_queues", "no_remote_address", "not_pppoe"} <= codes
    assert next(c for c in answer["conflicts"] if c["code"] == "two_queues")["ip"] == (
        "192.168.88.30"
    )


def test_import_takes_the_objects_over_and_a_second_import_creates_nothing(
    admin_api, mikrotik, zone, emulator
):
    _network(emulator)
    reused = PlanFactory(name="Hogar 10", upload_kbps=2_000, download_kbps=10_000)
    before = {q[".id"] for q in emulator.queues().values()}
    secrets = len(emulator.secrets())
    result = _import(admin_api, mikrotik, zone, confirm=True)
    assert (result["plans_created"], result["clients_created"]) == (1, 3)
    ana = Client.objects.get(ip="172.16.0.2")
    assert (ana.plan, ana.pppoe_password, ana.zone) == (reused, "pw-ana", zone)
    assert Plan.objects.get(download_kbps=2_000).price == Decimal("0.00")
    beto = Client.objects.get(ip="172.16.0.3")
    assert beto.state == "suspended" and Client.objects.get(ip="192.168.88.20").notice_active
    # Taken over, not duplicated: the same objects, now with wispbill's comments; the one
    # queue added is Beto's, who had none (its speed came from its PPP profile).
    assert len(emulator.secrets()) == secrets
    [added] = [q for q in emulator.queues().values() if q[".id"] not in before]
    assert added["target"] == "172.16.0.3/32" and added["max-limit"] == "2000000/10000000"
    assert emulator.secrets()["ana"]["comment"] == f"wispbill:client:{ana.pk}"
    queue = emulator.queues()["Ana Díaz"]
    assert queue["comment"] == f"wispbill:client:{ana.pk}"
    assert queue["burst-limit"] == "4000000/20000000"  # the operator's burst is kept
    assert emulator.entries("Moroso") == {"172.16.0.3": f"wispbill:client:{beto.pk}"}
    assert emulator.secrets()["enlace"].get("comment", "") == ""
    assert "comment" not in emulator.queues()["total"]
    writes = emulator.writes
    again = _import(admin_api, mikrotik, zone, confirm=True)
    assert (again["plans_created"], again["clients_created"]) == (0, 0)
    assert Client.objects.count() == 3
    assert emulator.writes == writes  # nothing to take over, nothing to push
    preview = _import(admin_api, mikrotik, zone, confirm=False)
    assert preview["clients"] == [] and preview["already_managed"] >= 7


def test_the_imported_network_keeps_working(admin_api, mikrotik, zone, emulator):
    from wispbill.billing import debt

    _network(emulator)
    _import(admin_api, mikrotik, zone, confirm=True)
    ana = Client.objects.get(ip="172.16.0.2")
    debt.client_cut(actor=None, client=ana)
    assert emulator.entries("Moroso")["172.16.0.2"] == f"wispbill:client:{ana.pk}"
    beto = Client.objects.get(ip="172.16.0.3")
    debt.client_reactivate(actor=None, client=beto)
    assert "172.16.0.3" not in emulator.entries("Moroso")


def test_the_cli_previews_without_writing_and_imports_with_yes(mikrotik, zone, emulator, capsys):
    _network(emulator)
    call_command("import-router", router=mikrotik.pk, zone=zone.pk)
    out = capsys.readouterr().out
    assert "Ana Díaz" in out and "Nothing was written" in out
    assert emulator.writes == 0 and Client.objects.count() == 0
    call_command("import-router", router=mikrotik.pk, zone=zone.pk, yes=True, json=True)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["clients_created"] == 3 and Client.objects.count() == 3


def test_import_needs_manage_routers(nobody_api, mikrotik, zone, emulator):
    _network(emulator)
    response = nobody_api.post(
        f"/api/v1/routers/{mikrotik.pk}/import/", {"zone": zone.pk, "confirm": True}, format="json"
    )
    assert response.status_code == 403
    assert Client.objects.count() == 0 and emulator.writes == 0


def test_a_zone_of_another_router_is_refused(admin_api, mikrotik, emulator):
    other = ZoneFactory()
    response = admin_api.post(
        f"/api/v1/routers/{mikrotik.pk}/import/", {"zone": other.pk}, format="json"
    )
    assert response.status_code == 400 and "zone" in response.json()


def test_an_unreachable_router_is_a_502(admin_api, mikrotik, zone, emulator):
    emulator.go_down()
    response = admin_api.post(
        f"/api/v1/routers/{mikrotik.pk}/import/", {"zone": zone.pk}, format="json"
    )
    assert response.status_code == 502 and Client.objects.count() == 0


def test_a_router_that_fails_while_taking_over_leaves_nothing_imported(
    admin_api, mikrotik, zone, emulator
):
    _network(emulator)
    taken = []

    def line_drops(command, attrs):
        if attrs.get("comment", "").startswith("wispbill:"):
            taken.append(attrs[".id"])
            if len(taken) == 5:  # four of the seven objects are marked, then the line drops
                raise ConnectionError("cable cut")

    emulator.trap_when = line_drops
    response = admin_api.post(
        f"/api/v1/routers/{mikrotik.pk}/import/", {"zone": zone.pk, "confirm": True}, format="json"
    )
    assert response.status_code == 502 and Client.objects.count() == 0
    assert emulator.secrets()["ana"]["comment"] == "Ana Díaz"  # given back as it was
    with MikrotikDriver(mikrotik) as driver:
        inventory = driver.read_inventory(("Moroso",))
    assert not any(s.owned for s in inventory.secrets)
    assert not any(q.owned for q in inventory.queues)


def test_a_disabled_secret_is_suspended_only_where_cuts_disable_secrets(
    admin_api, mikrotik, zone, emulator
):
    emulator.add_secret("carla", "pw", remote_address="172.16.0.9", disabled=True)
    emulator.add_queue("carla", "172.16.0.9/32", "1M/5M")
    answer = _import(admin_api, mikrotik, zone, confirm=False)
    assert answer["clients"] == []
    assert [c["code"] for c in answer["conflicts"]] == ["disabled_secret"]
    mikrotik.pppoe_cut = "disable_secret"
    mikrotik.save()
    _import(admin_api, mikrotik, zone, confirm=True)
    carla = Client.objects.get(ip="172.16.0.9")
    assert carla.state == "suspended"
    assert emulator.secrets()["carla"]["disabled"] == "true"  # still cut after the sync
