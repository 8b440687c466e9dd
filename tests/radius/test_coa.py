"""Live sessions follow their clients (docs/contract.md, "RADIUS routers"): after a change is
committed, `wispbill radius` sends the router a CoA-Request with the new attributes, and a
Disconnect-Request when the router refuses it or the client may no longer be online. A pyrad
listener on loopback stands in for the router's CoA port."""

import socket
import threading
import time

import pytest
from django.test import Client as WebClient
from pyrad import packet
from pyrad.dictionary import Dictionary

from tests.factories import PlanFactory, ZoneFactory
from tests.radius.conftest import DICTIONARY, SECRET, accepted, needs_freeradius
from tests.radius.test_freeradius import _pppoe, _radius_router
from wispbill.clients.models import Client, ClientState

pytestmark = [pytest.mark.slow, needs_freeradius]
WAIT_SECONDS = 60  # how long the sweep may take to notice, on a loaded machine


class RouterCoaPort:
    """Answers CoA-Requests with `coa_answer` (ACK or NAK) and acknowledges every
    Disconnect-Request; keeps what it got as (code, {attribute: value})."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.dictionary = Dictionary(str(DICTIONARY))
        self.received: list[tuple[int, dict]] = []
        self.coa_answer = packet.CoAACK
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                data, source = self.socket.recvfrom(4096)
            except TimeoutError:
                continue
            request = packet.CoAPacket(packet=data, secret=SECRET.encode(), dict=self.dictionary)
            if not request.VerifyCoARequest():
                continue  # a wrong secret gets nothing
            attributes = {key: request[key][0] for key in request.keys()}  # noqa: SIM118
            self.received.append((request.code, attributes))
            reply = request.CreateReply()
            reply.code = (
                self.coa_answer if request.code == packet.CoARequest else packet.DisconnectACK
            )
            self.socket.sendto(reply.ReplyPacket(), source)

    def wait_for(self, count: int) -> list[tuple[int, dict]]:
        deadline = time.monotonic() + WAIT_SECONDS
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return list(self.received)

    def close(self):
        self.running = False
        self.thread.join()
        self.socket.close()


@pytest.fixture
def coa_port():
    port = RouterCoaPort()
    yield port
    port.close()


def _last_coa(api, client) -> str | None:
    return api.get(f"/api/v1/clients/{client.pk}/").json()["radius"]["last_coa_result"]


def test_sessions_get_their_new_attributes_after_the_change(
    start_radius, admin_api, admin, coa_port
):
    router = _radius_router(coa_port=coa_port.port)
    zone = ZoneFactory(router=router, throttle_kbps=512)
    plan = PlanFactory(upload_kbps=2_000, download_kbps=10_000)
    ana = _pppoe(zone, "ana", "pw-ana", plan=plan, ip="10.30.0.5")
    beto = _pppoe(zone, "beto", "pw-beto", plan=plan, ip="10.30.0.6")
    nas = start_radius().nas()
    assert accepted(nas.login("ana", "pw-ana"))["Mikrotik-Rate-Limit"] == "2000k/10000k"

    # A bulk write, as the daily run makes: no signal, the sweep sees it all the same.
    Client.objects.filter(pk=ana.pk).update(state=ClientState.THROTTLED)
    [(code, attributes)] = coa_port.wait_for(1)
    assert code == packet.CoARequest
    assert attributes["User-Name"] == "ana"
    assert attributes["Mikrotik-Rate-Limit"] == "512k/512k"
    assert attributes["Framed-IP-Address"] == "10.30.0.5"
    # What came of it shows on the client, in the API and on its page.
    deadline = time.monotonic() + WAIT_SECONDS
    while _last_coa(admin_api, ana) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _last_coa(admin_api, ana) == "acknowledged"
    assert _last_coa(admin_api, beto) is None
    web = WebClient()
    web.force_login(admin)
    page = web.get(f"/clients/{ana.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Última CoA" in page and "aceptada" in page

    # The router refuses the CoA: the session is ended, to come back with the new speed.
    coa_port.coa_answer = packet.CoANAK
    Client.objects.filter(pk=ana.pk).update(state=ClientState.ACTIVE)
    received = coa_port.wait_for(3)
    assert [code for code, _a in received[1:]] == [
        packet.CoARequest,
        packet.DisconnectRequest,
    ]
    assert received[2][1]["User-Name"] == "ana"
    deadline = time.monotonic() + WAIT_SECONDS
    while _last_coa(admin_api, ana) != "disconnected" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _last_coa(admin_api, ana) == "disconnected"

    # Cancelled: no CoA can say that; the session is ended.
    Client.objects.filter(pk=beto.pk).update(state=ClientState.CANCELLED)
    received = coa_port.wait_for(4)
    assert received[3] == (packet.DisconnectRequest, {"User-Name": "beto"})
    # Each change was told once: nothing more comes while nothing changes.
    time.sleep(12)
    assert len(coa_port.received) == 4
