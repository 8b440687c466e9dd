"""No protocol smuggling through settings (issue 16): a staff user who may manage routers
cannot make wispbill write lines of its choosing to this server's Redis or mail server, nor
scan ports with the connection test; a forged task in the Redis queue is never unpickled."""

import os
import pickle
import socket
import threading
from html import unescape

import pytest
import redis
from django.conf import settings
from django.test import Client as Browser
from huey import PriorityRedisHuey
from huey.serializer import SignedSerializer

from tests.dump import database_dump
from tests.factories import RouterFactory, UserFactory, grant
from tests.messaging_fixtures import local
from wispbill.core.models import CompanySettings
from wispbill.messaging.models import Kind, Message, MessageStatus
from wispbill.messaging.sending import messages_send_due
from wispbill.messaging.services import message_enqueue
from wispbill.network.drivers import mikrotik
from wispbill.network.models import Router
from wispbill.staff.permissions import MANAGE_ROUTERS
from wispbill.staff.services import api_key_create

pytestmark = pytest.mark.django_db
REDIS_URL = "redis://127.0.0.1:6379/14"
SMUGGLED_KEY = "wispbill-smuggled"
# What an attacker types: the login's lines end and Redis commands begin.
SMUGGLE = f"api\r\nSELECT 14\r\nSET {SMUGGLED_KEY} 1\r\nQUIT\r\n"
CONTROL_ES = "No se permiten saltos de línea, tabuladores ni otros caracteres de control"


@pytest.fixture
def store():
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def technician(db):
    """A staff member who may manage routers, and nothing else: the attacker of issue 16."""
    return grant(UserFactory(username="tecnico"), MANAGE_ROUTERS)


@pytest.fixture
def technician_api(technician):
    from rest_framework.test import APIClient

    client = APIClient()
    _key, plain = api_key_create(user=technician)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}", HTTP_ACCEPT_LANGUAGE="es")
    return client


@pytest.fixture
def technician_panel(technician):
    browser = Browser(HTTP_ACCEPT_LANGUAGE="es")
    browser.force_login(technician)
    return browser


class Listener:
    """A raw TCP listener on loopback that records every byte it is sent."""

    def __init__(self, reply: bytes = b"", close_at_once: bool = False):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.connections = 0
        self.reply, self.close_at_once = reply, close_at_once
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                peer, _address = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with peer:
                if self.close_at_once:
                    continue
                if self.reply:
                    peer.sendall(self.reply)
                peer.settimeout(5)
                try:
                    while chunk := peer.recv(4096):
                        self.received += chunk
                except OSError:
                    pass

    def close(self):
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ATTEMPTS = [
    ({"username": SMUGGLE}, "username", CONTROL_ES),
    ({"password": SMUGGLE}, "password", CONTROL_ES),
    ({"name": "Torre\nNorte"}, "name", CONTROL_ES),
    ({"cut_list": "Mor\r\noso"}, "cut_list", CONTROL_ES),
    ({"host": "169.254.169.254"}, "host", "enlace local"),
    ({"host": "fe80::1"}, "host", "enlace local"),
    ({"host": "127.0.0.1", "api_port": 18728}, "host", "este mismo servidor"),
    ({"host": "localhost"}, "host", "este mismo servidor"),
    ({"host": "127.1"}, "host", "Escriba un nombre de host"),
    ({"host": "0x7f000001"}, "host", "Escriba un nombre de host"),
    ({"host": "224.0.0.1"}, "host", "multidifusión"),
    ({"host": "0.0.0.0"}, "host", "ninguna máquina"),
    ({"host": "10.0.0.9", "api_port": 6379}, "api_port", "Redis"),
    ({"host": "10.0.0.9", "api_port": 25}, "api_port", "SMTP"),
    ({"host": "10.0.0.9", "api_port": 5432}, "api_port", "PostgreSQL"),
]


def test_the_api_refuses_smuggling_in_router_settings(technician_api, store, listener):
    existing = RouterFactory(name="Torre", host="10.0.0.1", allow_local_host=False)
    before = database_dump()
    for change, field, text in ATTEMPTS:
        body = {"name": "Nueva", "host": "10.0.0.8", "username": "api", "password": "x"}
        body.update(change)
        response = technician_api.post("/api/v1/routers/", body, format="json")
        assert response.status_code == 400, change
        assert any(text in message for message in response.json()[field]), response.json()
        patch = {**change, "password": change.get("password", "x")}
        response = technician_api.patch(f"/api/v1/routers/{existing.pk}/", patch, format="json")
        assert response.status_code == 400, change
        assert any(text in message for message in response.json()[field]), response.json()
    # Both at once: Redis's own address and port.
    body = {"name": "Nueva", "host": "127.0.0.1", "api_port": 6379, "username": "a"}
    answer = technician_api.post("/api/v1/routers/", body, format="json").json()
    assert set(answer) == {"host", "api_port"}
    # Only an administrator may allow a host on this server.
    body = {"name": "Nueva", "host": "127.0.0.1", "api_port": 6379, "allow_local_host": True}
    response = technician_api.post("/api/v1/routers/", body, format="json")
    assert response.status_code == 403
    assert database_dump() == before
    assert store.get(SMUGGLED_KEY) is None
    assert listener.connections == 0


def test_an_admin_may_allow_the_emulator_but_staff_may_not_move_it(admin_api, technician_api):
    body = {"name": "Emulador", "host": "127.0.0.1", "api_port": 18728, "allow_local_host": True}
    response = admin_api.post("/api/v1/routers/", body, format="json")
    assert response.status_code == 201 and response.json()["allow_local_host"] is True
    url = f"/api/v1/routers/{response.json()['id']}/"
    # Moved to Redis's port by someone who is not an administrator: refused as a whole.
    response = technician_api.patch(url, {"api_port": 6379, "password": "x"}, format="json")
    assert response.status_code == 403
    assert Router.objects.get(name="Emulador").api_port == 18728
    # Renaming it is still theirs to do.
    assert technician_api.patch(url, {"name": "Emulador 2"}, format="json").status_code == 200


def test_a_new_pinned_certificate_needs_the_password(technician_api):
    router = RouterFactory(host="10.0.0.1", use_tls=True, allow_local_host=False)
    url = f"/api/v1/routers/{router.pk}/"
    response = technician_api.patch(url, {"tls_fingerprint": "ab" * 32}, format="json")
    assert response.status_code == 400 and "contraseña" in response.json()["password"][0]
    assert Router.objects.get(pk=router.pk).tls_fingerprint == ""
    body = {"tls_fingerprint": "AB:" * 31 + "AB", "password": "nueva"}
    assert technician_api.patch(url, body, format="json").status_code == 200
    # The same pin typed another way is no change: no password needed.
    same = {"tls_fingerprint": "ab" * 32}
    assert technician_api.patch(url, same, format="json").status_code == 200


def _router_post(**change) -> dict:
    post = {
        "name": "Nueva",
        "host": "10.0.0.8",
        "api_port": 8728,
        "username": "api",
        "password": "x",
        "enforcement": "mikrotik",
        "cut_list": "Moroso",
        "notice_list": "Aviso",
        "throttle_list": "Reducido",
        "pppoe_cut": "address_list",
    }
    post.update(change)
    return post


def test_the_panel_refuses_smuggling_in_router_settings(technician_panel, store, listener):
    RouterFactory(name="Torre", host="10.0.0.1", allow_local_host=False)
    before = database_dump()
    for change, _field, text in ATTEMPTS:
        page = technician_panel.post("/routers/new/", _router_post(**change))
        assert page.status_code == 400, change
        assert text in unescape(page.content.decode()), change
    page = technician_panel.post("/routers/new/", _router_post(host="127.0.0.1", api_port=6379))
    assert page.status_code == 400
    assert "Redis" in unescape(page.content.decode())
    assert database_dump() == before
    assert store.get(SMUGGLED_KEY) is None
    assert listener.connections == 0


def test_a_stored_router_with_smuggled_lines_never_reaches_the_wire(admin_api, store, listener):
    """A row from before the checks (or written around them): the driver refuses it before
    it writes a byte, to Redis or to anything else."""
    to_redis = RouterFactory(
        host="127.0.0.1", api_port=6379, enforcement="mikrotik", allow_local_host=True
    )
    to_listener = RouterFactory(
        host="127.0.0.1", api_port=listener.port, enforcement="mikrotik", allow_local_host=True
    )
    for router in (to_redis, to_listener):
        Router.objects.filter(pk=router.pk).update(username=SMUGGLE)
        for action in ("test-connection", "reconcile"):
            response = admin_api.post(f"/api/v1/routers/{router.pk}/{action}/")
            assert response.status_code == 502, action
    # A password holding the lines does no better.
    router = Router.objects.get(pk=to_listener.pk)
    router.username = "api"
    router.password = SMUGGLE
    router.save()
    assert admin_api.post(f"/api/v1/routers/{router.pk}/test-connection/").status_code == 502
    assert store.get(SMUGGLED_KEY) is None
    assert listener.connections == 0 and bytes(listener.received) == b""
    # And a router at Redis's port that an administrator did not allow is not dialled at all.
    Router.objects.filter(pk=to_redis.pk).update(username="api", allow_local_host=False)
    response = admin_api.post(f"/api/v1/routers/{to_redis.pk}/test-connection/")
    assert response.status_code == 502 and response.json()["ok"] is False


def test_the_connection_test_cannot_tell_ports_apart(admin_api, monkeypatch):
    """Refused, closed at once, answered by a line service, or silent: one message."""
    monkeypatch.setattr(mikrotik, "TIMEOUT", 1)
    closing = Listener(close_at_once=True)
    talking = Listener(reply=b"-ERR unknown command '/login'\r\n", close_at_once=True)
    silent = Listener()
    ports = [_free_port(), closing.port, talking.port, silent.port]
    details = set()
    try:
        for port in ports:
            router = RouterFactory(
                host="127.0.0.1", api_port=port, enforcement="mikrotik", username="api"
            )
            for action in ("test-connection", "reconcile"):
                response = admin_api.post(f"/api/v1/routers/{router.pk}/{action}/")
                assert response.status_code == 502
                details.add(response.json()["detail"].replace(str(port), "PORT"))
            router.refresh_from_db()
            details.add(router.last_error.replace(str(port), "PORT"))
    finally:
        for server in (closing, talking, silent):
            server.close()
    assert details == {"no se pudo conectar con 127.0.0.1:PORT"}


def test_a_sender_name_with_a_line_break_is_refused_and_never_retried(
    admin_api, smtp_server, billed_client, noon
):
    response = admin_api.patch(
        "/api/v1/company/",
        {"name": "Red Norte\r\nBcc: todos@example.com"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 400 and CONTROL_ES in response.json()["name"][0]
    assert CompanySettings.load().name == "Red Norte"
    # A row written around the check: the message fails at once, with a reason, unsent.
    CompanySettings.objects.update(name="Red Norte\r\nBcc: todos@example.com")
    client, invoice = billed_client
    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    assert messages_send_due() == {"sent": 0, "failed": 1}
    message = Message.objects.get(channel="email")
    assert message.status == MessageStatus.FAILED and message.attempts == 1
    assert "company" in message.last_error
    noon.move_to(local(2026, 9, 3, 12, 0))
    assert messages_send_due() == {"sent": 0, "failed": 0}
    assert smtp_server.received == [] and smtp_server.logins == []


def test_smtp_settings_with_line_breaks_turn_the_channel_off(settings, smtp_server, billed_client):
    client, invoice = billed_client
    url = settings.WISPBILL_EMAIL_URL
    smuggled_user = url.replace("billing:", "billing%0D%0ARCPT%20TO:<todos@example.com>:")
    for email_url, from_email in (
        (url, "facturas@isp.example\r\nRCPT TO:<todos@example.com>"),
        (smuggled_user, "facturas@isp.example"),
    ):
        settings.WISPBILL_EMAIL_URL, settings.WISPBILL_FROM_EMAIL = email_url, from_email
        Message.objects.all().delete()
        message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
        [message] = Message.objects.filter(channel="email")
        assert message.status == MessageStatus.FAILED
        assert "WISPBILL_FROM_EMAIL" in message.last_error
        assert messages_send_due() == {"sent": 0, "failed": 0}
    assert smtp_server.received == [] and smtp_server.logins == []


class Planted:
    """What a forged task would do if it were ever unpickled: make a directory."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_a_forged_task_in_the_redis_queue_is_refused(store, tmp_path):
    """The consumer's own path (dequeue, with wispbill's signed serializer) over the real
    Redis: a plain pickle, or one signed with another key, is refused, never unpickled."""
    marker = tmp_path / "pwned"
    serializer = settings.HUEY["serializer"]
    queue = PriorityRedisHuey("wispbill", url=REDIS_URL, serializer=serializer)
    foreign = SignedSerializer(secret="not-our-key", salt="wispbill.tasks")
    for forged in (
        pickle.dumps(Planted(str(marker))),
        foreign.serialize(Planted(str(marker))),
    ):
        queue.storage.enqueue(forged)
        with pytest.raises(ValueError):
            queue.dequeue()
        assert not marker.exists()
        assert queue.pending_count() == 0
    # What wispbill itself queues still goes through.
    queue.storage.enqueue(serializer.serialize({"task": "legit"}))
    assert serializer.deserialize(queue.storage.dequeue()) == {"task": "legit"}


def test_only_an_admin_can_tick_the_local_host_box_in_the_panel(technician_panel, admin):
    page = technician_panel.get("/routers/new/").content.decode()
    [box] = [tag for tag in page.split("<input") if 'name="allow_local_host"' in tag]
    assert "disabled" in box.split(">")[0]
    # Ticked anyway: ignored, and the loopback host is refused.
    post = _router_post(host="127.0.0.1", api_port=18728, allow_local_host="on")
    page = technician_panel.post("/routers/new/", post)
    assert page.status_code == 400 and not Router.objects.exists()
    boss = Browser(HTTP_ACCEPT_LANGUAGE="es")
    boss.force_login(admin)
    page = boss.get("/routers/new/").content.decode()
    [box] = [tag for tag in page.split("<input") if 'name="allow_local_host"' in tag]
    assert "disabled" not in box.split(">")[0]
    assert boss.post("/routers/new/", post).status_code == 302
    assert Router.objects.get(name="Nueva").allow_local_host
