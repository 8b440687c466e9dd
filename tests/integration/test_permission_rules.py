"""The rules around the permission table that the matrix does not show: who holds what from
the start, a router's password that must come with its new address, and money that stays
within its limits (docs/contract.md: "Permissions" and the money limits)."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from tests.factories import ClientFactory, PlanFactory, RouterFactory
from wispbill.clients.models import Client
from wispbill.core.models import CompanySettings
from wispbill.staff.permissions import CODENAMES
from wispbill.staff.services import staff_create, staff_permissions

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_the_eight_permissions_exist_after_migrating():
    assert set(
        Permission.objects.filter(content_type__model="panelpermission").values_list(
            "codename", flat=True
        )
    ) == set(CODENAMES)


def test_staff_made_before_the_table_keep_clients_and_payments_admins_hold_all(admin):
    old = User.objects.create(username="antigua", is_staff=True)
    migration = importlib.import_module("wispbill.staff.migrations.0002_permission_table")
    migration.create_table(apps, None)
    assert staff_permissions(old) == ["manage_clients", "register_payments"]
    assert staff_permissions(admin) == sorted(CODENAMES)


def test_new_staff_get_clients_and_payments_unless_told_otherwise(admin, admin_api):
    made = staff_create(actor=admin, username="nuevo", password="una-clave-larga-9")
    assert staff_permissions(made) == ["manage_clients", "register_payments"]
    body = {"username": "otra", "password": "una-clave-larga-9"}
    assert admin_api.post("/api/v1/staff/", body, format="json").json()["permissions"] == [
        "manage_clients",
        "register_payments",
    ]
    body = {"username": "cobra", "password": "una-clave-larga-9", "permissions": []}
    assert admin_api.post("/api/v1/staff/", body, format="json").json()["permissions"] == []


def test_the_staff_page_applies_a_role_in_one_click(admin, client):
    member = User.objects.create(username="tecnica", is_staff=True)
    client.force_login(admin)
    response = client.post(
        f"/staff/{member.pk}/", {"full_name": "", "is_active": "on", "role": "technician"}
    )
    assert response.status_code == 302
    assert staff_permissions(member) == ["cut_and_reactivate", "manage_clients", "manage_routers"]
    page = client.get("/staff/").content.decode()
    assert "Técnico" in page and "Administrar routers y zonas" in page


def test_a_router_pointed_elsewhere_needs_its_password_again(admin_api):
    router = RouterFactory(host="192.0.2.1")
    router.password = "guardada"
    router.save()
    url = f"/api/v1/routers/{router.pk}/"
    for change in ({"host": "203.0.113.9"}, {"api_port": 9999}, {"username": "x"}):
        response = admin_api.patch(url, change, format="json")
        assert response.status_code == 400 and "password" in response.json(), change
    router.refresh_from_db()
    assert (router.host, router.api_port) == ("192.0.2.1", 8728)
    response = admin_api.patch(url, {"host": "203.0.113.9", "password": "nueva"}, format="json")
    assert response.status_code == 200
    assert admin_api.patch(url, {"name": "Otro nombre"}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/payments/", {"amount": "100000000.00"}),
        ("/api/v1/payments/", {"amount": "1.001"}),
        ("/api/v1/payments/", {"amount": "0"}),
        ("/api/v1/plans/", {"price": "-1.00"}),
        ("/api/v1/plans/", {"price": "100000000.00"}),
    ],
)
def test_money_out_of_bounds_is_a_400(admin_api, url, body):
    client = ClientFactory()
    base = {"client": client.pk} if "payments" in url else {}
    if "plans" in url:
        base = {"name": "Caro", "download_kbps": 1, "upload_kbps": 1}
    response = admin_api.post(url, {**base, **body}, format="json")
    assert response.status_code == 400, response.content


def test_the_minimum_debt_to_cut_has_the_same_bounds(admin_api):
    for value in ("100000000.00", "-1.00"):
        response = admin_api.patch("/api/v1/company/", {"min_debt_to_cut": value}, format="json")
        assert response.status_code == 400
    assert CompanySettings.load().min_debt_to_cut == Decimal("0.00")


def test_payments_never_overflow_a_clients_credit(admin_api):
    client = ClientFactory(plan=PlanFactory(price=Decimal("10.00")))
    for _ in range(2):
        body = {"client": client.pk, "amount": "99999999.99", "confirm_large": True}
        assert admin_api.post("/api/v1/payments/", body, format="json").status_code == 201
    Client.objects.filter(pk=client.pk).update(credit=Decimal("9999999990.00"))
    body = {"client": client.pk, "amount": "99999999.99", "confirm_large": True}
    response = admin_api.post("/api/v1/payments/", body, format="json")
    assert response.status_code == 400 and "amount" in response.json()
    client.refresh_from_db()
    assert client.credit == Decimal("9999999990.00")
    assert admin_api.get(f"/api/v1/clients/{client.pk}/").status_code == 200
    assert admin_api.get("/api/v1/clients/").status_code == 200
