"""Invoices, payments, client actions and the periodic-tasks endpoints of docs/contract.md."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from tests.factories import ClientFactory, OwnClientFactory, PlanFactory, ZoneFactory
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.models import Invoice

pytestmark = pytest.mark.django_db

DAY = date(2026, 9, 6)


@pytest.fixture
def overdue_client():
    """Invoiced on 25 Aug for September, due 5 Sep, cut on 5 Sep."""
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    client = ClientFactory(
        zone=zone, start_date=date(2026, 8, 15), plan=PlanFactory(price=Decimal("399.00"))
    )
    for day in (date(2026, 8, 25), date(2026, 9, 3), date(2026, 9, 5)):
        with time_machine.travel(day, tick=False):
            periodic_tasks_run(actor=None, force=True, day=day)
    return client


@pytest.fixture
def on_day():
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 9, 6, 12)), tick=False):
        yield


def test_invoice_shape_and_filters(admin_api, overdue_client, on_day):
    body = admin_api.get(f"/api/v1/invoices/?client={overdue_client.pk}&status=pending").json()
    assert body["count"] == 1
    invoice = body["results"][0]
    assert invoice["total"] == "399.00" and invoice["paid_amount"] == "0.00"
    assert (invoice["period_start"], invoice["due_date"], invoice["notice_date"]) == (
        "2026-09-01",
        "2026-09-05",
        "2026-09-03",
    )
    assert invoice["automatic"] is True and invoice["lines"][0]["amount"] == "399.00"
    assert admin_api.get("/api/v1/invoices/?status=weird").status_code == 400
    assert admin_api.get(f"/api/v1/invoices/?zone={overdue_client.zone_id}").json()["count"] == 1


def test_client_shows_balance_state_and_notice(admin_api, overdue_client, on_day):
    body = admin_api.get(f"/api/v1/clients/{overdue_client.pk}/").json()
    assert (body["state"], body["notice_active"], body["balance"]) == ("suspended", True, "399.00")


def test_payment_with_reactivation_gives_the_service_back(admin_api, overdue_client, on_day):
    response = admin_api.post(
        "/api/v1/payments/",
        {
            "client": overdue_client.pk,
            "amount": "100.00",
            "method": "cash",
            "activate_service": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["allocations"][0]["amount"] == "100.00"
    client = admin_api.get(f"/api/v1/clients/{overdue_client.pk}/").json()
    assert (client["state"], client["balance"]) == ("active", "299.00")


def test_partial_payment_without_reactivation_keeps_the_cut(admin_api, overdue_client, on_day):
    admin_api.post(
        "/api/v1/payments/",
        {"client": overdue_client.pk, "amount": "100.00", "activate_service": False},
        format="json",
    )
    assert admin_api.get(f"/api/v1/clients/{overdue_client.pk}/").json()["state"] == ("suspended")


def test_full_payment_with_default_activation_and_credit(admin_api, overdue_client, on_day):
    admin_api.post(
        "/api/v1/payments/", {"client": overdue_client.pk, "amount": "450.00"}, format="json"
    )
    client = admin_api.get(f"/api/v1/clients/{overdue_client.pk}/").json()
    assert (client["state"], client["notice_active"], client["balance"]) == (
        "active",
        False,
        "-51.00",
    )


def test_payment_validation(admin_api, overdue_client):
    for body in (
        {"client": overdue_client.pk, "amount": "0"},
        {"client": overdue_client.pk, "amount": "-5"},
        {"client": overdue_client.pk, "amount": "abc"},
        {"client": 999999, "amount": "10"},
        {"client": overdue_client.pk, "amount": "10", "method": "bitcoin"},
    ):
        assert admin_api.post("/api/v1/payments/", body, format="json").status_code == 400


def test_manual_actions_work_with_every_switch_off(admin_api, on_day):
    zone = ZoneFactory(task_invoices=False, task_notices=False, task_cuts=False)
    client = ClientFactory(zone=zone)
    base = f"/api/v1/clients/{client.pk}"
    created = admin_api.post(f"{base}/create-invoice/", {}, format="json")
    assert created.status_code == 201 and created.json()["automatic"] is False
    assert admin_api.post(f"{base}/create-invoice/", {}, format="json").status_code == 400
    assert admin_api.post(f"{base}/show-notice/").json()["notice_active"] is True
    assert admin_api.post(f"{base}/clear-notice/").json()["notice_active"] is False
    assert admin_api.post(f"{base}/cut/").json()["state"] == "suspended"
    assert admin_api.post(f"{base}/cut/").status_code == 400
    assert admin_api.post(f"{base}/reactivate/").json()["state"] == "active"


def test_promise_reactivates_and_validates(admin_api, overdue_client, on_day):
    base = f"/api/v1/clients/{overdue_client.pk}"
    assert (
        admin_api.post(f"{base}/promise/", {"until": "2026-09-01"}, format="json").status_code
        == 400
    )
    assert (
        admin_api.post(f"{base}/promise/", {"until": "someday"}, format="json").status_code == 400
    )
    body = admin_api.post(f"{base}/promise/", {"until": "2026-09-12"}, format="json").json()
    assert (body["state"], body["promise_until"]) == ("active", "2026-09-12")


def test_cancel_invoice(admin_api, overdue_client, on_day):
    invoice = Invoice.objects.get(client=overdue_client)
    response = admin_api.post(f"/api/v1/invoices/{invoice.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert admin_api.post(f"/api/v1/invoices/{invoice.pk}/cancel/").status_code == 400
    assert admin_api.get(f"/api/v1/clients/{overdue_client.pk}/").json()["state"] == "active"


def test_run_endpoint_needs_the_permission_and_a_past_date(admin_api, staff_api):
    zone = ZoneFactory()
    ClientFactory(zone=zone, start_date=date(2020, 1, 1))
    assert staff_api.post("/api/v1/periodic-tasks/run/", {}, format="json").status_code == 403
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = admin_api.post("/api/v1/periodic-tasks/run/", {"date": future}, format="json")
    assert response.status_code == 400 and "date" in response.json()
    dry = admin_api.post(
        "/api/v1/periodic-tasks/run/", {"dry_run": True, "zone": zone.pk}, format="json"
    ).json()
    assert dry["invoices_created"] == 1 and not Invoice.objects.exists()
    real = admin_api.post("/api/v1/periodic-tasks/run/", {}, format="json").json()
    assert {
        "invoices_created",
        "notices_shown",
        "clients_cut",
        "clients_reactivated",
        "errors",
    } <= set(real)
    assert real["invoices_created"] == 1 and Invoice.objects.count() == 1
    assert (
        admin_api.post("/api/v1/periodic-tasks/run/", {"zone": 999999}, format="json").status_code
        == 400
    )


def test_periodic_tasks_list_has_a_row_per_zone_and_own_client(admin_api):
    zone = ZoneFactory(task_cuts=False)
    own = OwnClientFactory(zone=zone)
    ClientFactory(zone=zone)
    admin_api.post("/api/v1/periodic-tasks/run/", {}, format="json")
    body = admin_api.get("/api/v1/periodic-tasks/").json()
    assert body["count"] == 2
    zone_row, own_row = body["results"]
    assert (zone_row["kind"], zone_row["id"], own_row["kind"], own_row["id"]) == (
        "zone",
        zone.pk,
        "client",
        own.pk,
    )
    assert zone_row["tasks"]["cuts"]["enabled"] is False
    assert zone_row["tasks"]["cuts"]["next_run"] is None
    invoices = zone_row["tasks"]["invoices"]
    assert invoices["enabled"] and invoices["last_status"] == "applied"
    assert invoices["next_run"] and invoices["last_run_at"]
    page = admin_api.get("/api/v1/periodic-tasks/?limit=1&offset=1").json()
    assert page["results"][0]["id"] == own.pk


def test_state_changes_follow_the_allowed_transitions(admin_api):
    client = ClientFactory(state="cancelled")
    response = admin_api.patch(
        f"/api/v1/clients/{client.pk}/", {"state": "suspended"}, format="json"
    )
    assert response.status_code == 400 and "state" in response.json()
    assert (
        admin_api.patch(f"/api/v1/clients/{client.pk}/", {"state": "active"}, format="json").json()[
            "state"
        ]
        == "active"
    )
    free = ClientFactory(state="free")
    assert admin_api.post(f"/api/v1/clients/{free.pk}/cut/").status_code == 400
    assert (
        admin_api.post(f"/api/v1/clients/{free.pk}/create-invoice/", {}, format="json").status_code
        == 400
    )


@pytest.mark.parametrize(
    "year",
    [
        pytest.param(2024, marks=pytest.mark.instant("2024-01-10 09:00")),
        pytest.param(2028, marks=pytest.mark.instant("2028-01-10 23:30")),
    ],
)
def test_payments_and_promises_follow_the_engines_day_when_days_are_simulated(admin_api, year):
    """An operator (or an acceptance script) simulating days ahead of the calendar with
    run-periodic-tasks --date: payments and promises judge "overdue" and "in the past" as of
    the engine's latest day, which is later than today."""
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    client = ClientFactory(
        zone=zone, start_date=date(year, 1, 1), plan=PlanFactory(price=Decimal("399.00"))
    )
    for day in (date(year, 2, 22), date(year, 3, 5)):  # on its invoice date, then due
        periodic_tasks_run(actor=None, force=True, day=day)
    base = f"/api/v1/clients/{client.pk}"
    assert admin_api.get(f"{base}/").json()["state"] == "suspended"
    admin_api.post(
        "/api/v1/payments/",
        {"client": client.pk, "amount": "100.00", "activate_service": False},
        format="json",
    )
    assert admin_api.get(f"{base}/").json()["state"] == "suspended"  # still overdue on 5 Mar
    promised = admin_api.post(f"{base}/promise/", {"until": f"{year}-03-09"}, format="json")
    assert promised.status_code == 200, promised.json()
    assert promised.json()["state"] == "active"
    periodic_tasks_run(actor=None, force=True, day=date(year, 3, 9))
    assert admin_api.get(f"{base}/").json()["state"] == "active"
    periodic_tasks_run(actor=None, force=True, day=date(year, 3, 10))
    assert admin_api.get(f"{base}/").json()["state"] == "suspended"
