"""One path per write rule (issue 17): a client's state changes through
`clients.services.states`, one client (staff, payments, promises) or many at once (the daily
run's cut, throttle and come-back), by the same pipeline, marks, audit and router push."""

import re
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from tests.factories import ClientFactory, RouterFactory, ZoneFactory
from wispbill.audit.models import AuditAction, AuditEvent
from wispbill.clients.models import TRANSITIONS, Client, ClientState
from wispbill.clients.services.states import (
    StateChange,
    StateChanged,
    Transition,
    client_state_set,
    clients_transition,
)
from wispbill.core.clock import business_day
from wispbill.network.models import Router

pytestmark = pytest.mark.django_db
SOURCE = Path(__file__).resolve().parents[2] / "src" / "wispbill"
PAIRS = sorted((before, after) for before, afters in TRANSITIONS.items() for after in afters)
KEPT = (
    "state",
    "suspension_reason",
    "suspended_on",
    "reactivated_on",
    "portal_links_revision",
)


@pytest.fixture
def router() -> Router:
    """An enforced router: a state change marks it for a push (queued after the commit)."""
    return RouterFactory(enforcement="mikrotik")


def _client(state: str, router) -> Client:
    client = ClientFactory(zone=ZoneFactory(router=router), state=state)
    return Client.objects.select_related("zone").get(pk=client.pk)


def _kept(client: Client) -> tuple:
    client.refresh_from_db()
    event = AuditEvent.objects.filter(object_id=client.pk).latest("id")
    return (
        *(getattr(client, name) for name in KEPT),
        event.action,
        event.changes,
        event.reason,
    )


@pytest.mark.parametrize(("before", "after"), PAIRS)
def test_many_clients_move_as_one_client_does(before, after, router):
    """Every move the pipeline allows writes the same row and event for a group as for one
    client: the state, why, the day of the suspension or reactivation, the revoked links."""
    one, many = _client(before, router), _client(before, router)
    transition = Transition(after, AuditAction.CLIENT_CHANGED, "why", "automatic")
    Router.objects.filter(pk=router.pk).update(needs_sync=False)
    with transaction.atomic():
        client_state_set(
            actor=None,
            client=one,
            to_state=after,
            action=transition.action,
            reason=transition.reason,
            suspension_reason=transition.suspension_reason,
        )
    assert Router.objects.get(pk=router.pk).needs_sync
    Router.objects.filter(pk=router.pk).update(needs_sync=False)
    with transaction.atomic():
        moved = clients_transition(
            actor=None,
            day=business_day(),
            moves=[(transition, [StateChange(many.pk, many.name, before)])],
        )
    assert moved == [many.pk]
    assert _kept(many) == _kept(one)
    assert Router.objects.get(pk=router.pk).needs_sync  # its router follows, as for one
    assert _kept(many)[0] == after


def test_a_move_the_pipeline_refuses_refuses_the_whole_group(router):
    active, cancelled = _client(ClientState.ACTIVE, router), _client(ClientState.CANCELLED, router)
    cut = Transition(ClientState.SUSPENDED, AuditAction.CLIENT_CUT, "why", "automatic")
    rows = [
        StateChange(active.pk, active.name, ClientState.ACTIVE),
        StateChange(cancelled.pk, cancelled.name, ClientState.CANCELLED),
    ]
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        clients_transition(actor=None, day=business_day(), moves=[(cut, rows)])
    assert list(refused.value.message_dict) == ["state"]
    assert set(Client.objects.values_list("state", flat=True)) == {"active", "cancelled"}
    assert not AuditEvent.objects.filter(action=AuditAction.CLIENT_CUT).exists()


def test_a_client_no_longer_in_the_state_read_rolls_the_group_back(router):
    first, second = _client(ClientState.ACTIVE, router), _client(ClientState.ACTIVE, router)
    Client.objects.filter(pk=second.pk).update(state=ClientState.SUSPENDED)  # behind its back
    cut = Transition(ClientState.THROTTLED, AuditAction.CLIENT_THROTTLED, "why", "automatic")
    with pytest.raises(StateChanged), transaction.atomic():
        clients_transition(
            actor=None,
            day=business_day(),
            moves=[
                (
                    cut,
                    [
                        StateChange(first.pk, first.name, ClientState.ACTIVE),
                        StateChange(second.pk, second.name, ClientState.ACTIVE),
                    ],
                )
            ],
        )
    assert dict(Client.objects.values_list("pk", "state")) == {
        first.pk: ClientState.ACTIVE,
        second.pk: ClientState.SUSPENDED,
    }
    assert not AuditEvent.objects.filter(action=AuditAction.CLIENT_THROTTLED).exists()


def test_no_other_module_writes_a_clients_state_in_bulk():
    """An UPDATE of `state` elsewhere would skip the pipeline, the marks or the audit (the
    benchmarks in devtools flip states to time the routers, not as the product)."""
    update_of_state = re.compile(r"\.update\((?:[^()]|\([^()]*\))*?\bstate=", re.S)
    found = [
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if not {"migrations", "devtools"} & set(path.parts)
        and path.name != "states.py"
        and update_of_state.search(path.read_text())
    ]
    assert found == []
    assert update_of_state.search((SOURCE / "clients" / "services" / "states.py").read_text())


def test_the_run_day_marks_the_cut_and_the_come_back(router):
    suspended, throttled = _client(ClientState.ACTIVE, router), _client(ClientState.ACTIVE, router)
    day = date(2026, 9, 5)
    with transaction.atomic():
        clients_transition(
            actor=None,
            day=day,
            moves=[
                (
                    Transition(ClientState.SUSPENDED, AuditAction.CLIENT_CUT, "c", "automatic"),
                    [StateChange(suspended.pk, suspended.name, ClientState.ACTIVE, {"id": 7})],
                ),
                (
                    Transition(
                        ClientState.THROTTLED, AuditAction.CLIENT_THROTTLED, "t", "automatic"
                    ),
                    [StateChange(throttled.pk, throttled.name, ClientState.ACTIVE)],
                ),
            ],
        )
    back = date(2026, 9, 9)
    with transaction.atomic():
        clients_transition(
            actor=None,
            day=back,
            moves=[
                (
                    Transition(ClientState.ACTIVE, AuditAction.CLIENT_REACTIVATED, "b"),
                    [
                        StateChange(suspended.pk, suspended.name, ClientState.SUSPENDED),
                        StateChange(throttled.pk, throttled.name, ClientState.THROTTLED),
                    ],
                )
            ],
        )
    suspended.refresh_from_db()
    throttled.refresh_from_db()
    # Only a suspension counts for billing after a cut.
    assert (suspended.suspended_on, suspended.reactivated_on) == (day, back)
    assert (throttled.suspended_on, throttled.reactivated_on) == (None, None)
    assert (suspended.state, suspended.suspension_reason) == (ClientState.ACTIVE, "")
    cut = AuditEvent.objects.get(action=AuditAction.CLIENT_CUT)
    assert (cut.reason, cut.reason_args) == ("c", {"id": 7})
    assert AuditEvent.objects.filter(action=AuditAction.CLIENT_REACTIVATED).count() == 2
