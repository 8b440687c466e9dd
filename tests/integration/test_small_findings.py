"""Issue 16's smaller findings: bounds on what a client may take, passwords nobody guesses,
the notice port whatever the host, two addresses for serve, client-page links that can be
withdrawn and stay out of the logs, and a payment that a retry does not make twice."""


import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client as Browser

from tests.factories import UserFactory
from wispbill.core.models import CompanySettings

pytestmark = pytest.mark.django_db


# Company settings that bound what a client can do on its own


@pytest.mark.parametrize(
    ("field", "value"),
    [("portal_promise_days", 29), ("portal_promises_per_cycle", 6), ("run_hour", 24)],
)
def test_company_limits_are_bounded_in_the_api(admin_api, field, value):
    before = CompanySettings.load()
    response = admin_api.patch(
        "/api/v1/company/", {field: value}, format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 400 and list(response.json()) == [field]
    assert str(value - 1) in response.json()[field][0]
    assert getattr(CompanySettings.load(), field) == getattr(before, field)
    # The bound itself is allowed.
    assert admin_api.patch("/api/v1/company/", {field: value - 1}, format="json").status_code == 200
    assert getattr(CompanySettings.load(), field) == value - 1


def test_company_limits_are_bounded_in_the_panel(admin):
    boss = Browser()
    boss.force_login(admin)
    form = boss.get("/settings/").context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        no_cut_weekdays=[], holidays="", portal_promise_days="90", portal_promises_per_cycle="50"
    )
    page = boss.post("/settings/", data)
    html = page.content.decode()
    assert page.status_code in (200, 400)
    assert "Una promesa puede durar como máximo 28 días." in html
    assert "Un cliente puede hacer como máximo 5 promesas por ciclo." in html
    company = CompanySettings.load()
    assert (company.portal_promise_days, company.portal_promises_per_cycle) == (5, 1)


# Passwords like the username or the product's name


@pytest.mark.parametrize("password", ["mostrador-2026", "Wispbill2026!", "w1spb1ll-isp"])
def test_staff_api_refuses_passwords_like_the_username_or_the_product(admin_api, password):
    response = admin_api.post(
        "/api/v1/staff/",
        {"username": "mostrador", "password": password},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 400 and list(response.json()) == ["password"]
    assert "demasiado similar" in " ".join(response.json()["password"])
    assert not User.objects.filter(username="mostrador").exists()
    made = admin_api.post(
        "/api/v1/staff/", {"username": "mostrador", "password": "luz-de-cerro-7"}, format="json"
    )
    assert made.status_code == 201


def test_staff_edit_and_own_change_refuse_passwords_like_the_username(admin, admin_api):
    ana = UserFactory(username="anagarcia")
    response = admin_api.patch(
        f"/api/v1/staff/{ana.pk}/", {"password": "anagarcia99"}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["password"]
    ana.refresh_from_db()
    assert ana.check_password("secret-pass")

    boss = Browser()
    boss.force_login(admin)
    page = boss.post(
        f"/staff/{ana.pk}/",
        {"username": "anagarcia", "password": "wispbill-2027", "is_active": "on"},
    )
    assert "demasiado similar al nombre del producto" in page.content.decode()

    browser = Browser()
    browser.force_login(ana)
    weak = browser.post(
        "/password/",
        {
            "old_password": "secret-pass",
            "new_password1": "AnaGarcia#1",
            "new_password2": "AnaGarcia#1",
        },
    )
    assert "demasiado similar" in weak.content.decode()
    ana.refresh_from_db()
    assert ana.check_password("secret-pass")


def test_createsuperuser_refuses_a_password_like_the_product(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "WispBill-2026")
    with pytest.raises(Exception, match="nombre del producto|product's name"):
        call_command(
            "createsuperuser", interactive=False, username="jefa", email="jefa@isp.example"
        )
    assert not User.objects.filter(username="jefa").exists()
