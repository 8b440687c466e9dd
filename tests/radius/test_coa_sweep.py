"""The CoA sweep on its own (without FreeRADIUS): a plan's new speed reaches all its sessions'
router at once, not one round trip after another; a router that does not answer leaves its
sessions to be told again, and they are at the next sweep, once it answers."""

import queue
import threading

import pytest

from tests.factories import PlanFactory, ZoneFactory
from tests.radius.conftest import SECRET
from tests.radius.test_freeradius import _pppoe, _radius_router
from wispbill.clients.models import Plan
from wispbill.devtools.radius_nas import coa_listener
from wispbill.network.models import Router
from wispbill.radius import coa
from wispbill.radius.coa import coa_sweep
from wispbill.radius.models import CoaResult, Sent

pytestmark = pytest.mark.real_clock  # the listener answers after a real delay


class Listener:
    """A router's CoA port answering each request `delay` seconds after it came."""

    def __init__(self, delay: float):
        ports, self.stop, self.counts = queue.Queue(), threading.Event(), [0, 0, 0, 0]
        self.thread = threading.Thread(
            target=coa_listener,
            args=(ports, self.stop, self.counts, SECRET.encode(), delay),
            daemon=True,
        )
        self.thread.start()
        self.port = ports.get(timeout=10)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=10)


@pytest.fixture
def listener():
    port = Listener(delay=0.3)
    yield port
    port.close()


def test_a_plans_new_speed_reaches_every_session_at_once(db, listener):
    router = _radius_router(coa_port=listener.port)
    zone = ZoneFactory(router=router)
    plan = PlanFactory(upload_kbps=1_000, download_kbps=5_000)
    clients = [_pppoe(zone, f"user{n}", "pw", plan=plan, ip=f"10.9.0.{n + 1}") for n in range(60)]
    assert coa_sweep() == 0  # every session as its login made it: nothing to tell

    Plan.objects.filter(pk=plan.pk).update(download_kbps=8_000)
    assert coa_sweep() == 60
    assert listener.counts[0] == 60 and listener.counts[1] == 0
    # The router held them all at once: none waited for another's answer.
    assert listener.counts[3] == 60
    told = Sent.objects.filter(client__in=clients, coa_result=CoaResult.ACKNOWLEDGED)
    assert set(told.values_list("rate_limit", flat=True)) == {"1000k/8000k"}
    assert coa_sweep() == 0  # told once


def test_a_silent_router_is_tried_again_at_the_next_sweep(db, listener, monkeypatch):
    monkeypatch.setattr(coa, "TIMEOUT_SECONDS", 0.5)
    silent_port = Listener(delay=0.0)
    silent_port.close()  # a port nobody answers on
    router = _radius_router(coa_port=silent_port.port)
    plan = PlanFactory(upload_kbps=1_000, download_kbps=5_000)
    ana = _pppoe(ZoneFactory(router=router), "ana", "pw", plan=plan, ip="10.9.1.1")
    coa_sweep()
    Plan.objects.filter(pk=plan.pk).update(download_kbps=6_000)

    assert coa_sweep() == 0
    sent = Sent.objects.get(client=ana)
    assert sent.coa_result == CoaResult.NO_ANSWER and sent.rate_limit == "1000k/5000k"

    Router.objects.filter(pk=router.pk).update(coa_port=listener.port)
    assert coa_sweep() == 1
    sent.refresh_from_db()
    assert sent.coa_result == CoaResult.ACKNOWLEDGED and sent.rate_limit == "1000k/6000k"
    assert listener.counts[0] == 1


def test_a_new_address_ends_the_session_to_log_in_again(db):
    refusing = Listener(delay=0.0)
    try:
        router = _radius_router(coa_port=refusing.port)
        plan = PlanFactory(upload_kbps=1_000, download_kbps=5_000)
        ana = _pppoe(ZoneFactory(router=router), "ana", "pw", plan=plan, ip="10.9.2.1")
        coa_sweep()
        # A CoA cannot move a session to another address: a Disconnect, and a new login.
        type(ana).objects.filter(pk=ana.pk).update(ip="10.9.2.2")
        assert coa_sweep() == 1
        assert refusing.counts[:2] == [0, 1]
        assert Sent.objects.get(client=ana).coa_result == CoaResult.DISCONNECTED
    finally:
        refusing.close()
