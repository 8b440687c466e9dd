"""Accounting that stops without a Stop (a tower without power): a session no Interim-Update
reached in time is closed at its last update, and the client shows offline."""

from datetime import timedelta

from django.utils import timezone

from tests.factories import ClientFactory
from wispbill.radius.accounting import STALE_AFTER, sessions_close_stale
from wispbill.radius.models import Session
from wispbill.radius.selectors import client_radius_status


def _session(client, session_id, *, heard_ago):
    at = timezone.now() - heard_ago
    return Session.objects.create(
        client=client,
        username=client.pppoe_username or "x",
        session_id=session_id,
        started_at=at - timedelta(hours=1),
        updated_at=at,
    )


def test_a_session_nothing_was_heard_of_is_closed_at_its_last_update(db, admin_api):
    silent, alive = ClientFactory(), ClientFactory()
    gone = _session(silent, "a1", heard_ago=STALE_AFTER + timedelta(minutes=1))
    _session(alive, "b1", heard_ago=STALE_AFTER - timedelta(minutes=1))
    assert client_radius_status(silent.pk)["online"] is True

    assert sessions_close_stale() == 1
    gone.refresh_from_db()
    assert gone.stopped_at == gone.updated_at
    assert client_radius_status(silent.pk)["online"] is False
    assert client_radius_status(alive.pk)["online"] is True
    online = admin_api.get("/api/v1/sessions/", {"active": "true"}).json()["results"]
    assert [s["session_id"] for s in online] == ["b1"]
    assert admin_api.get(f"/api/v1/clients/{silent.pk}/").json()["radius"]["online"] is False
    assert sessions_close_stale() == 0  # closed once
