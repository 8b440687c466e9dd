"""Accounting (docs/contract.md, "RADIUS routers"): FreeRADIUS stores the routers' Start,
Interim-Update and Stop, and the API lists the sessions."""

from datetime import UTC, datetime

import pytest

from tests.factories import ZoneFactory
from tests.radius.conftest import needs_freeradius
from tests.radius.test_freeradius import _pppoe, _radius_router
from wispbill.radius.models import Session

pytestmark = [pytest.mark.slow, needs_freeradius]


def test_sessions_are_stored_as_routers_account_them(start_radius, admin_api):
    router = _radius_router()
    zone = ZoneFactory(router=router)
    ana = _pppoe(zone, "ana", "pw-ana", ip="10.40.0.5")
    nas = start_radius().nas()

    assert nas.account("Start", "ana", "81a00001", Framed_IP_Address="10.40.0.5")
    assert nas.account("Start", "ana", "81a00001")  # sent again: still one session
    assert nas.account("Start", "ana", "81a00002", Framed_IP_Address="10.40.0.5")
    assert nas.account(
        "Interim-Update",
        "ana",
        "81a00001",
        Acct_Input_Octets=1_000,
        Acct_Input_Gigawords=1,
        Acct_Output_Octets=5_000,
    )
    assert nas.account("Stop", "ana", "81a00002", Acct_Output_Octets=7)
    # A Stop whose Start never came (and a name nobody has) is kept too.
    assert nas.account("Stop", "x' OR '1'='1", "lost'; DROP TABLE radius_session; --")

    assert Session.objects.count() == 3
    first = Session.objects.get(session_id="81a00001")
    assert (first.client_id, first.router_id, first.ip) == (ana.pk, router.pk, "10.40.0.5")
    assert (first.input_bytes, first.output_bytes) == (2**32 + 1_000, 5_000)
    assert first.stopped_at is None
    # Stamped by FreeRADIUS, which lives at the test's instant: within a day of it.
    assert abs((first.started_at - datetime.now(UTC)).total_seconds()) < 86_400
    assert Session.objects.get(session_id="81a00002").stopped_at is not None
    stranger = Session.objects.get(client__isnull=True)
    assert stranger.stopped_at is not None and "DROP" in stranger.session_id

    online = admin_api.get("/api/v1/sessions/", {"active": "true"}).json()["results"]
    assert [s["session_id"] for s in online] == ["81a00001"]
    assert online[0]["client"] == ana.pk and online[0]["router"] == router.pk
    assert online[0]["input_bytes"] == 2**32 + 1_000
    mine = admin_api.get("/api/v1/sessions/", {"client": ana.pk}).json()["results"]
    assert {s["session_id"] for s in mine} == {"81a00001", "81a00002"}
    assert admin_api.get("/api/v1/sessions/", {"router": router.pk}).json()["count"] == 3
    assert admin_api.get("/api/v1/sessions/", {"active": "maybe"}).status_code == 400
