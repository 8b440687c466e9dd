"""Authorize once, from a diff: a request that changes two things, one the staff member may
change and one not, is refused as a whole, saying which permission is missing, and changes
nothing (issue 17)."""

import pytest
from rest_framework.test import APIClient

from tests.factories import ClientFactory, RouterFactory, UserFactory, ZoneFactory, grant
from wispbill.audit.models import AuditEvent
from wispbill.clients.models import ClientState
from wispbill.network.models import Enforcement
from wispbill.staff.changes import changes_permissions
from wispbill.staff.permissions import (
    CUT_AND_REACTIVATE,
    MANAGE_CLIENTS,
    MANAGE_ROUTERS,
    TOGGLE_PERIODIC_TASKS,
)
from wispbill.staff.services import api_key_create


def _api(*codenames: str) -> APIClient:
    user = grant(UserFactory(username="mitad"), *codenames)
    client = APIClient()
    _key, plain = api_key_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    return client


def test_the_table_maps_each_key_of_a_change_set_to_what_it_needs():
    assert changes_permissions("client", ["name"]) == [MANAGE_CLIENTS]
    assert changes_permissions("client", ["periodic_tasks.cuts"]) == [TOGGLE_PERIODIC_TASKS]
    assert changes_permissions("client", ["state", "state:restricted"]) == [
        MANAGE_CLIENTS,
        CUT_AND_REACTIVATE,
    ]
    # What the cut does is the switches' business, for a zone and for a client alike.
    assert changes_permissions("zone", ["billing.cut_action"]) == [TOGGLE_PERIODIC_TASKS]
    assert changes_permissions("zone", ["billing.grace_days", "periodic_tasks.notices"]) == [
        TOGGLE_PERIODIC_TASKS,
        MANAGE_ROUTERS,
    ]
    assert changes_permissions("client", []) == []


@pytest.mark.django_db
def test_a_client_edit_with_a_cut_the_staff_member_may_not_make_changes_nothing():
    client = ClientFactory(name="Ana Ruiz")
    api = _api(MANAGE_CLIENTS)

    response = api.patch(
        f"/api/v1/clients/{client.pk}/",
        {"name": "Ana María Ruiz", "state": ClientState.SUSPENDED},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )

    assert response.status_code == 403
    assert "no se cambió nada" in response.json()["detail"]
    client.refresh_from_db()
    assert (client.name, client.state) == ("Ana Ruiz", ClientState.ACTIVE)
    assert not AuditEvent.objects.exists()
    # The allowed half alone goes through.
    response = api.patch(f"/api/v1/clients/{client.pk}/", {"name": "Ana María Ruiz"}, format="json")
    assert response.status_code == 200
    client.refresh_from_db()
    assert client.name == "Ana María Ruiz"


@pytest.mark.django_db
def test_a_zone_edit_with_a_switch_the_staff_member_may_not_turn_changes_nothing():
    zone = ZoneFactory(name="Centro")
    api = _api(MANAGE_ROUTERS)

    response = api.patch(
        f"/api/v1/zones/{zone.pk}/",
        {"name": "Centro norte", "periodic_tasks": {"cuts": False}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 403
    assert "Turn periodic tasks on and off" in response.json()["detail"]
    zone.refresh_from_db()
    assert (zone.name, zone.task_cuts, zone.task_cuts_rev) == ("Centro", True, 0)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_router_edit_that_turns_its_cuts_off_needs_the_switch_permission_for_all_of_it():
    router = RouterFactory(name="Torre", enforcement=Enforcement.MIKROTIK)
    api = _api(MANAGE_ROUTERS)

    response = api.patch(
        f"/api/v1/routers/{router.pk}/",
        {"name": "Torre sur", "enforcement": Enforcement.NONE},
        format="json",
    )

    assert response.status_code == 403
    router.refresh_from_db()
    assert (router.name, router.enforcement) == ("Torre", Enforcement.MIKROTIK)
    assert not AuditEvent.objects.exists()
