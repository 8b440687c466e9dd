"""FreeRADIUS, run by `wispbill radius`, answers a router's PPPoE logins from wispbill's
database (docs/contract.md, "RADIUS routers"): on SQLite and on PostgreSQL alike."""

import pytest

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from tests.radius.conftest import SECRET, accepted, needs_freeradius
from wispbill.clients.models import Access, Client, ClientState
from wispbill.network.services import router_create, router_update
from wispbill.radius.models import Credential

pytestmark = [pytest.mark.slow, needs_freeradius]


def _radius_router(**kwargs):
    return router_create(
        actor=None,
        name=kwargs.pop("name", "Torre"),
        host=kwargs.pop("host", "127.0.0.1"),
        allow_local_host=True,
        aaa="radius",
        radius_secret=SECRET,
        cut_list="Moroso",
        notice_list="Aviso",
        **kwargs,
    )


def _pppoe(zone, username, password, **kwargs):
    client = ClientFactory.build(
        zone=zone,
        plan=kwargs.pop("plan", None) or PlanFactory(),
        access=Access.PPPOE,
        pppoe_username=username,
        **kwargs,
    )
    client.plan.save()
    client.pppoe_password = password
    client.save()
    return client


def test_logins_are_answered_from_the_clients_and_their_plans(start_radius):
    router = _radius_router()
    zone = ZoneFactory(router=router, throttle_kbps=512)
    plan = PlanFactory(upload_kbps=2_000, download_kbps=10_000)
    active = _pppoe(zone, "ana", "pw-ana", plan=plan, ip="10.20.0.5")
    throttled = _pppoe(zone, "beto", "pw-beto", plan=plan, ip="10.20.0.6")
    Client.objects.filter(pk=throttled.pk).update(state=ClientState.THROTTLED)
    cut = _pppoe(zone, "carla", "pw-carla", plan=plan, ip="10.20.0.7")
    Client.objects.filter(pk=cut.pk).update(state=ClientState.SUSPENDED)
    gone = _pppoe(zone, "dora", "pw-dora", plan=plan, ip="10.20.0.8")
    Client.objects.filter(pk=gone.pk).update(state=ClientState.CANCELLED)
    warned = _pppoe(zone, "eva", "pw-eva", plan=plan, ip="10.20.0.9")
    Client.objects.filter(pk=warned.pk).update(notice_active=True)
    # The same username on a router whose logins are not RADIUS's: it gets nothing here.
    ClientFactory(access=Access.STATIC, ip="10.20.0.10", zone=zone, plan=plan)

    nas = start_radius().nas()

    expected = {
        "Framed-IP-Address": "10.20.0.5",
        "Mikrotik-Rate-Limit": "2000k/10000k",
    }
    assert accepted(nas.login("ana", "pw-ana")) == expected
    assert accepted(nas.login("ana", "pw-ana", chap=True)) == expected
    # Throttled: the zone's reduced speed, both ways (never above the plan's).
    assert accepted(nas.login("beto", "pw-beto"))["Mikrotik-Rate-Limit"] == "512k/512k"
    # Suspended on a router that lists its cut clients: in, but in the cut list.
    assert accepted(nas.login("carla", "pw-carla"))["Mikrotik-Address-List"] == "Moroso"
    assert accepted(nas.login("eva", "pw-eva"))["Mikrotik-Address-List"] == "Aviso"
    for username, password in [
        ("ana", "wrong"),
        ("ana", "pw-beto"),
        ("nadie", "pw-ana"),
        ("dora", "pw-dora"),  # cancelled
    ]:
        reply = nas.login(username, password)
        assert reply is not None and accepted(reply) is None, username
    assert accepted(nas.login("ana", "wrong", chap=True)) is None

    # Changes reach the next login with no restart: the view reads the clients live.
    router_update(actor=None, router=router, data={"radius_cut": "reject"})
    reply = nas.login("carla", "pw-carla")
    assert reply is not None and accepted(reply) is None
    Client.objects.filter(pk=throttled.pk).update(state=ClientState.ACTIVE)
    assert accepted(nas.login("beto", "pw-beto"))["Mikrotik-Rate-Limit"] == "2000k/10000k"
    active.pppoe_password = "new-pw"
    active.save()
    assert accepted(nas.login("ana", "pw-ana")) is None
    assert accepted(nas.login("ana", "new-pw")) == expected


def test_strangers_and_wrong_secrets_get_no_answer(start_radius):
    router = _radius_router()
    zone = ZoneFactory(router=router)
    _pppoe(zone, "ana", "pw-ana", ip="10.21.0.5")
    server = start_radius()
    # Silence is the answer: one try, two seconds, is enough to hear none on loopback.
    wrong_secret, stranger = server.nas(secret="not-the-secret"), server.nas(source="127.0.0.2")
    for nas in (wrong_secret, stranger):
        nas.client.retries, nas.client.timeout = 1, 2
    assert wrong_secret.login("ana", "pw-ana") is None
    # 127.0.0.2 is no router's host: FreeRADIUS does not know it.
    assert stranger.login("ana", "pw-ana") is None
    assert accepted(server.nas().login("ana", "pw-ana")) is not None


def test_usernames_reach_sql_only_as_data(start_radius):
    router = _radius_router()
    zone = ZoneFactory(router=router)
    odd = _pppoe(zone, "o'brien%_x", "pw-odd", ip="10.22.0.5")
    _pppoe(zone, "josé", "pw-jose", ip="10.22.0.6")
    nas = start_radius().nas()
    assert accepted(nas.login("o'brien%_x", "pw-odd"))["Framed-IP-Address"] == "10.22.0.5"
    assert accepted(nas.login("josé", "pw-jose"))["Framed-IP-Address"] == "10.22.0.6"
    attacks = [
        "x' OR '1'='1",
        "' OR 1=1 --",
        "o'brien%",  # a LIKE pattern would match the real one
        "o'brien%_x' OR username LIKE '%",
        "'; DROP TABLE radius_credential; --",
        "'; UPDATE clients_client SET state='active'; --",
        "%{User-Password}",
        "o'brien%_x ",
        "ana maría",
        "ünïcødé ✓",
        "a" * 253,  # the longest a User-Name can be (a 300-character one cannot be sent)
        "o=27brien=25_x",  # the escaped form itself is not the name
    ]
    for username in attacks:
        for password in ("pw-odd", "' OR '1'='1"):
            reply = nas.login(username, password)
            assert reply is not None and accepted(reply) is None, username
    # Nothing was executed: the credentials and the clients are as they were.
    assert Credential.objects.count() == 2
    assert Client.objects.get(pk=odd.pk).state == ClientState.ACTIVE
    assert accepted(nas.login("o'brien%_x", "pw-odd")) is not None
