"""The HTTP API of docs/contract.md, driven as an integration would, with admin and staff keys."""

import pytest
from rest_framework.test import APIClient

from tests.factories import ClientFactory, OwnClientFactory, PlanFactory, RouterFactory, ZoneFactory
from wispbill.network.models import Zone
from wispbill.staff.permissions import CODENAMES

pytestmark = pytest.mark.django_db

SCHEDULE = {
    "mode": "prepaid",
    "pay_day": 1,
    "invoice_lead_days": 7,
    "notice_offset_days": 2,
    "grace_days": 4,
}


def test_missing_or_invalid_key_is_401():
    assert APIClient().get("/api/v1/clients/").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Api-Key wb_nothing_here")
    assert bad.get("/api/v1/clients/").status_code == 401
    bad.credentials(HTTP_AUTHORIZATION="Bearer abc")
    assert bad.get("/api/v1/zones/").status_code == 401


def test_plans_and_routers_round_trip(admin_api):
    plan = admin_api.post(
        "/api/v1/plans/",
        {"name": "Hogar", "price": "399.5", "download_kbps": 10000, "upload_kbps": 2000},
        format="json",
    )
    assert plan.status_code == 201, plan.json()
    assert plan.json()["price"] == "399.50"
    router = admin_api.post(
        "/api/v1/routers/",
        {
            "name": "Torre",
            "host": "192.0.2.1",
            "username": "api",
            "password": "s3cret",
            "enforcement": "none",
        },
        format="json",
    )
    assert router.status_code == 201, router.json()
    body = router.json()
    assert "password" not in body
    assert (body["api_port"], body["cut_list"], body["notice_list"], body["sync_status"]) == (
        8728,
        "Moroso",
        "Aviso",
        "ok",
    )


def test_router_password_is_stored_encrypted(admin_api):
    from wispbill.network.models import Router

    response = admin_api.post(
        "/api/v1/routers/",
        {"name": "R", "host": "192.0.2.9", "password": "plain-secret"},
        format="json",
    )
    router = Router.objects.get(pk=response.json()["id"])
    assert "plain-secret" not in router.password_encrypted
    assert router.password == "plain-secret"


def test_new_zone_starts_with_every_task_on(admin_api):
    router = RouterFactory()
    response = admin_api.post(
        "/api/v1/zones/",
        {"router": router.pk, "name": "Zona día 1", "billing": SCHEDULE},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["periodic_tasks"] == {"invoices": True, "notices": True, "cuts": True}
    # A schedule written without what the cut does gets the defaults: suspend, 512 kbps.
    assert response.json()["billing"] == {**SCHEDULE, "cut_action": "suspend", "throttle_kbps": 512}


@pytest.mark.parametrize(
    ("billing", "field"),
    [
        ({**SCHEDULE, "pay_day": 32}, "pay_day"),
        ({**SCHEDULE, "notice_offset_days": 5, "grace_days": 4}, "notice_offset_days"),
        ({**SCHEDULE, "invoice_lead_days": 3, "notice_offset_days": -5}, "notice_offset_days"),
        ({**SCHEDULE, "mode": "weekly"}, "mode"),
    ],
)
def test_bad_schedules_are_400_on_their_field(admin_api, billing, field):
    router = RouterFactory()
    response = admin_api.post(
        "/api/v1/zones/", {"router": router.pk, "name": "Z", "billing": billing}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["billing"]
    assert not Zone.objects.exists()


def test_staff_without_permission_cannot_touch_a_switch_nor_the_rest_of_that_request(staff_api):
    zone = ZoneFactory(name="Zona día 1")
    response = staff_api.patch(
        f"/api/v1/zones/{zone.pk}/",
        {"name": "Otro nombre", "periodic_tasks": {"cuts": False}},
        format="json",
    )
    assert response.status_code == 403
    zone.refresh_from_db()
    assert (zone.name, zone.task_cuts) == ("Zona día 1", True)
    # The same edit without the switch is theirs to make.
    response = staff_api.patch(f"/api/v1/zones/{zone.pk}/", {"name": "Otro nombre"}, format="json")
    assert response.status_code == 200


def test_staff_with_the_permission_can_toggle(toggler_api):
    client = OwnClientFactory()
    response = toggler_api.patch(
        f"/api/v1/clients/{client.pk}/", {"periodic_tasks": {"notices": False}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["effective_periodic_tasks"] == {
        "invoices": True,
        "notices": False,
        "cuts": True,
    }


def test_staff_cannot_create_an_own_billing_client_with_a_task_off(staff_api):
    zone, plan = ZoneFactory(), PlanFactory()
    body = {
        "name": "Ana",
        "ip": "10.9.0.5",
        "zone": zone.pk,
        "plan": plan.pk,
        "billing_type": "own",
        "billing": SCHEDULE,
        "periodic_tasks": {"cuts": False},
    }
    assert staff_api.post("/api/v1/clients/", body, format="json").status_code == 403
    body.pop("periodic_tasks")
    response = staff_api.post("/api/v1/clients/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["periodic_tasks"] == {"invoices": True, "notices": True, "cuts": True}


def test_client_shape_for_zone_and_own_billing(admin_api):
    zone = ZoneFactory(task_notices=False)
    follower = admin_api.get(f"/api/v1/clients/{ClientFactory(zone=zone).pk}/").json()
    assert (follower["billing"], follower["periodic_tasks"]) == (None, None)
    assert follower["effective_periodic_tasks"]["notices"] is False
    assert follower["router"] == zone.router_id
    assert (follower["balance"], follower["state"], follower["sync_status"]) == (
        "0.00",
        "active",
        "ok",
    )
    own = admin_api.get(f"/api/v1/clients/{OwnClientFactory(zone=zone).pk}/").json()
    assert own["billing"]["mode"] == "postpaid"
    assert (
        own["periodic_tasks"]
        == own["effective_periodic_tasks"]
        == {"invoices": True, "notices": True, "cuts": True}
    )


def test_client_validation(admin_api):
    zone, plan = ZoneFactory(), PlanFactory()
    ClientFactory(ip="10.1.1.1")
    base = {"name": "Ana", "ip": "10.1.1.2", "zone": zone.pk, "plan": plan.pk}
    cases = [
        ({**base, "ip": "10.1.1.1"}, "ip"),
        ({**base, "ip": "999.1.1.1"}, "ip"),
        ({**base, "billing_type": "own"}, "billing"),
        ({**base, "billing": SCHEDULE}, "billing"),
        ({**base, "periodic_tasks": {"cuts": False}}, "periodic_tasks"),
        ({**base, "state": "sleeping"}, "state"),
        ({**base, "zone": 99999}, "zone"),
        ({**base, "colour": "blue"}, "colour"),
    ]
    for body, field in cases:
        response = admin_api.post("/api/v1/clients/", body, format="json")
        assert response.status_code == 400, body
        assert field in response.json(), (body, response.json())


def test_malformed_requests_never_answer_500(admin_api):
    zone = ZoneFactory()
    assert (
        admin_api.post("/api/v1/zones/", "{not json", content_type="application/json").status_code
        == 400
    )
    assert admin_api.post("/api/v1/zones/", [1, 2], format="json").status_code == 400
    assert (
        admin_api.patch(
            f"/api/v1/zones/{zone.pk}/", {"periodic_tasks": "off"}, format="json"
        ).status_code
        == 400
    )
    assert (
        admin_api.patch(
            f"/api/v1/zones/{zone.pk}/", {"periodic_tasks": {"cut": False}}, format="json"
        ).status_code
        == 400
    )
    assert admin_api.get("/api/v1/zones/abc/").status_code == 404
    assert admin_api.get("/api/v1/zones/99999999999999999999999/").status_code == 404
    assert admin_api.get("/api/v1/clients/?zone=abc").status_code == 400
    assert (
        admin_api.post(
            "/api/v1/periodic-tasks/mass-update/", {"zone": "x"}, format="json"
        ).status_code
        == 400
    )


def test_mass_update_needs_confirmation_and_shows_what_would_change(admin_api):
    zone = ZoneFactory()
    own = OwnClientFactory(zone=zone)
    ClientFactory(zone=zone)
    response = admin_api.post(
        "/api/v1/periodic-tasks/mass-update/", {"zone": zone.pk, "cuts": False}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["confirm"] and body["preview"]["zones"] == 1 and body["preview"]["clients"] == 1
    zone.refresh_from_db()
    assert zone.task_cuts is True

    response = admin_api.post(
        "/api/v1/periodic-tasks/mass-update/",
        {"zone": zone.pk, "cuts": False, "confirm": True},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["zones_changed"] == 1 and response.json()["clients_changed"] == 1
    own.refresh_from_db()
    assert own.task_cuts is False

    undo = admin_api.post(f"/api/v1/periodic-tasks/mass-updates/{response.json()['id']}/undo/")
    assert undo.status_code == 200
    assert undo.json()["clients_restored"] == 1 and undo.json()["zones_restored"] == 1
    own.refresh_from_db()
    assert own.task_cuts is True
    again = admin_api.post(f"/api/v1/periodic-tasks/mass-updates/{response.json()['id']}/undo/")
    assert again.status_code == 400


def test_mass_update_all_zones(admin_api):
    zones = [ZoneFactory() for _ in range(3)]
    for zone in zones:
        OwnClientFactory(zone=zone)
    response = admin_api.post(
        "/api/v1/periodic-tasks/mass-update/",
        {"all_zones": True, "invoices": False, "notices": False, "confirm": True},
        format="json",
    )
    assert response.json()["zones_changed"] == 3 and response.json()["clients_changed"] == 3
    assert not Zone.objects.filter(task_invoices=True).exists()


@pytest.mark.parametrize(
    "body",
    [
        {"cuts": False, "confirm": True},
        {"zone": 1, "all_zones": True, "cuts": False, "confirm": True},
        {"all_zones": True, "confirm": True},
    ],
)
def test_mass_update_needs_one_scope_and_one_task(admin_api, body):
    ZoneFactory(pk=1)
    response = admin_api.post("/api/v1/periodic-tasks/mass-update/", body, format="json")
    assert response.status_code == 400
    assert Zone.objects.get(pk=1).task_cuts_rev == 0


def test_mass_update_and_undo_are_403_without_the_permission(staff_api, admin_api):
    zone = ZoneFactory()
    assert (
        staff_api.post(
            "/api/v1/periodic-tasks/mass-update/",
            {"zone": zone.pk, "cuts": False, "confirm": True},
            format="json",
        ).status_code
        == 403
    )
    done = admin_api.post(
        "/api/v1/periodic-tasks/mass-update/",
        {"zone": zone.pk, "cuts": False, "confirm": True},
        format="json",
    )
    assert (
        staff_api.post(f"/api/v1/periodic-tasks/mass-updates/{done.json()['id']}/undo/").status_code
        == 403
    )
    zone.refresh_from_db()
    assert zone.task_cuts is False


def test_staff_resource_is_for_admins_and_grants_take_effect(admin_api, staff_api):
    assert staff_api.get("/api/v1/staff/").status_code == 403
    created = admin_api.post(
        "/api/v1/staff/",
        {
            "username": "soporte",
            "password": "una-clave-larga",
            "is_admin": False,
            "permissions": ["toggle_periodic_tasks"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["permissions"] == ["toggle_periodic_tasks"]
    assert "password" not in created.json()

    from django.contrib.auth import get_user_model

    from wispbill.staff.services import api_key_create

    user = get_user_model().objects.get(username="soporte")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_create(user=user)[1]}")
    zone = ZoneFactory()
    assert (
        api.patch(
            f"/api/v1/zones/{zone.pk}/", {"periodic_tasks": {"cuts": False}}, format="json"
        ).status_code
        == 200
    )

    revoked = admin_api.patch(f"/api/v1/staff/{user.pk}/", {"permissions": []}, format="json")
    assert revoked.json()["permissions"] == []
    assert (
        api.patch(
            f"/api/v1/zones/{zone.pk}/", {"periodic_tasks": {"cuts": True}}, format="json"
        ).status_code
        == 403
    )
    bad = admin_api.post(
        "/api/v1/staff/",
        {"username": "x", "password": "una-clave-larga", "permissions": ["fly"]},
        format="json",
    )
    assert bad.status_code == 400 and "permissions" in bad.json()


def test_admins_list_with_every_permission(admin_api, admin):
    row = next(r for r in admin_api.get("/api/v1/staff/").json()["results"] if r["id"] == admin.pk)
    assert row["is_admin"] is True
    assert set(row["permissions"]) == set(CODENAMES)


def test_audit_events_record_who_changed_which_switch(admin_api, admin):
    zone = ZoneFactory()
    admin_api.patch(
        f"/api/v1/zones/{zone.pk}/", {"periodic_tasks": {"notices": False}}, format="json"
    )
    events = admin_api.get(
        f"/api/v1/audit-events/?object_type=zone&object_id={zone.pk}&action=periodic_tasks.changed"
    ).json()
    assert events["count"] == 1
    event = events["results"][0]
    assert event["actor"] == admin.username
    assert event["changes"] == {"notices": [True, False]}
    assert event["at"][-6] in "+-" or event["at"].endswith("Z")


def test_pagination_shape(admin_api):
    for _ in range(3):
        PlanFactory()
    page = admin_api.get("/api/v1/plans/?limit=2&offset=0").json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 3 and len(page["results"]) == 2


def test_schema_and_offline_docs():
    schema = APIClient().get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/periodic-tasks/mass-update/" in schema.json()["paths"]
    docs = APIClient().get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn." not in html and "unpkg" not in html


def test_errors_speak_the_users_language(admin_api):
    router = RouterFactory()
    response = admin_api.post(
        "/api/v1/zones/",
        {"router": router.pk, "name": "Z", "billing": {**SCHEDULE, "pay_day": 40}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert "pay_day" in response.json()["billing"]
    assert "menor o igual" in str(response.json()["billing"]["pay_day"])


def test_api_errors_follow_accept_language(admin_api):
    zone = ZoneFactory()
    response = admin_api.patch(
        f"/api/v1/zones/{zone.pk}/",
        {"periodic_tasks": {"cut": False}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json()["periodic_tasks"]["cut"] == ["Unknown field."]
    response = admin_api.patch(
        f"/api/v1/zones/{zone.pk}/",
        {"periodic_tasks": {"cut": False}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.json()["periodic_tasks"]["cut"] == ["Campo desconocido."]


def test_ids_too_large_for_the_database_are_not_found_not_a_crash(admin_api):
    huge = "99999999999999999999999"
    zone = ZoneFactory()
    assert admin_api.get(f"/api/v1/clients/?router={huge}").status_code == 400
    assert admin_api.get(f"/api/v1/invoices/?zone=-{huge}").status_code == 400
    response = admin_api.post(
        "/api/v1/periodic-tasks/mass-update/", {"zone": int(huge), "cuts": False}, format="json"
    )
    assert response.status_code == 400 and "zone" in response.json()
    response = admin_api.post(
        "/api/v1/clients/",
        {"name": "X", "ip": "10.1.1.9", "zone": zone.pk, "plan": int(huge)},
        format="json",
    )
    assert response.status_code == 400 and "plan" in response.json()
    assert (
        admin_api.post(
            "/api/v1/payments/", {"client": True, "amount": "1"}, format="json"
        ).status_code
        == 400
    )


def test_panel_ids_too_large_for_the_database_are_404(admin):
    from django.test import Client as Browser

    browser = Browser()
    browser.force_login(admin)
    assert browser.get("/clients/99999999999999999999999/").status_code == 404
    assert browser.get("/clients/", {"zone": "99999999999999999999999"}).status_code == 200
    assert browser.get("/audit/", {"object_id": "99999999999999999999999"}).status_code == 200
