"""The panel's periodic-tasks pages, run now, forecast, and money on the client page."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.test import Client as Browser
from django.utils import timezone

from tests.factories import (
    ClientFactory,
    OwnClientFactory,
    PlanFactory,
    ZoneFactory,
    first_invoice_next_cycle,
)
from tests.panel_forms import form_data
from wispbill.automation.models import ManualRun
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.models import Invoice

pytestmark = pytest.mark.django_db


def _login(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


@pytest.fixture
def cut_client():
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    client = ClientFactory(
        zone=zone, start_date=date(2026, 8, 15), plan=PlanFactory(price=Decimal("399.00"))
    )
    for day in (date(2026, 8, 25), date(2026, 9, 5)):
        periodic_tasks_run(actor=None, force=True, day=day)
    client.refresh_from_db()
    assert client.state == "suspended"
    return client


def test_periodic_tasks_page_lists_zones_and_own_clients(admin):
    zone = ZoneFactory(name="Zona día 15", task_cuts=False)
    own = OwnClientFactory(zone=zone, name="Lucía Reyes")
    page = _login(admin).get("/periodic-tasks/").content.decode()
    assert "Zona día 15" in page and "Lucía Reyes" in page
    assert "Ejecutar ahora" in page
    assert own.pk


def test_run_now_needs_the_permission(staff):
    ZoneFactory()
    assert "Ejecutar ahora" not in _login(staff).get("/periodic-tasks/").content.decode()
    assert _login(staff).post("/periodic-tasks/run/", {}).status_code == 403
    assert not ManualRun.objects.exists()


def test_run_now_runs_and_reports(admin, django_capture_on_commit_callbacks):
    zone = ZoneFactory()
    ClientFactory(zone=zone, start_date=date(2020, 1, 1))
    browser = _login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/periodic-tasks/run/", {"zone": zone.pk, "confirm": "yes"})
    run = ManualRun.objects.get()
    assert response["Location"] == f"/periodic-tasks/runs/{run.pk}/"
    status = browser.get(f"/periodic-tasks/runs/{run.pk}/status/").json()
    assert status["status"] == "done" and status["summary"]["invoices_created"] == 1
    assert status["done"] == status["total"] > 0
    assert Invoice.objects.count() == 1


def test_forecast_shows_who_will_be_invoiced_and_cut_without_changing_anything(admin):
    first_invoice_next_cycle()  # this story bills from the first whole cycle
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    ClientFactory(zone=zone, name="Raúl Torres", start_date=date(2026, 8, 15))
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 8, 24, 12)), tick=False):
        page = _login(admin).get("/periodic-tasks/forecast/").content.decode()
    assert page.count("Raúl Torres") == 1  # invoiced on the 25th; cut only in September
    assert not Invoice.objects.exists()


def test_payment_form_register_and_reactivate(admin, cut_client):
    browser = _login(admin)
    response = browser.post(
        f"/clients/{cut_client.pk}/payments/",
        {"amount": "100.00", "method": "cash", "activate": "1"},
        follow=True,
    )
    assert "Pago de 100" in response.content.decode() or "100.00" in response.content.decode()
    cut_client.refresh_from_db()
    assert cut_client.state == "active"


def test_payment_form_register_only_keeps_the_cut(admin, cut_client):
    _login(admin).post(
        f"/clients/{cut_client.pk}/payments/",
        {"amount": "100.00", "method": "cash", "activate": "0"},
    )
    cut_client.refresh_from_db()
    assert cut_client.state == "suspended"


def test_client_actions_from_the_panel(admin):
    client = ClientFactory()
    browser = _login(admin)
    browser.post(f"/clients/{client.pk}/actions/cut/")
    client.refresh_from_db()
    assert client.state == "suspended"
    browser.post(f"/clients/{client.pk}/actions/reactivate/")
    browser.post(f"/clients/{client.pk}/actions/show-notice/")
    browser.post(f"/clients/{client.pk}/actions/create-invoice/", {"date": ""})
    client.refresh_from_db()
    assert (client.state, client.notice_active) == ("active", True)
    assert Invoice.objects.filter(client=client, automatic=False).count() == 1
    page = browser.get(f"/clients/{client.pk}/").content.decode()
    assert "Servicio cortado" in page and "Aviso mostrado" in page


def _settings_form(browser) -> dict:
    """What the settings page posts as it is, field by field."""
    return form_data(browser.get("/settings/").context["form"])


def test_company_settings_are_for_admins_and_validate(admin, staff):
    assert _login(staff).get("/settings/").status_code == 403
    browser = _login(admin)
    bad = browser.post(
        "/settings/", {"name": "ISP", "run_hour": 30, "min_debt_to_cut": "-1", "holidays": "mañana"}
    )
    assert bad.status_code == 400
    good = browser.post(
        "/settings/",
        {
            **_settings_form(browser),
            "name": "ISP",
            "run_hour": 5,
            "min_debt_to_cut": "20",
            "holidays": "25/12/2026\n2026-01-01",
            "no_cut_weekdays": ["6"],
        },
    )
    assert good.status_code == 302
    from wispbill.core.models import CompanySettings

    company = CompanySettings.load()
    assert (company.run_hour, company.no_cut_weekdays, company.holidays) == (
        5,
        [6],
        ["2026-01-01", "2026-12-25"],
    )


def test_forecast_asks_for_a_zone_when_the_isp_is_large(admin, monkeypatch):
    from wispbill.panel.views import automation as views

    monkeypatch.setattr(views, "FORECAST_MAX_CLIENTS", 2)
    zone = ZoneFactory()
    for _ in range(3):
        ClientFactory(zone=zone, start_date=date(2020, 1, 1))
    small = ZoneFactory()
    ClientFactory(zone=small, name="Solo Uno", start_date=date(2020, 1, 1))
    browser = _login(admin)
    assert "elija una zona" in browser.get("/periodic-tasks/forecast/").content.decode()
    page = browser.get("/periodic-tasks/forecast/", {"zone": small.pk}).content.decode()
    assert "Solo Uno" in page
