"""Tareas periódicas with "run now", and a payment that gives a cut client the service back."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import ClientFactory, PlanFactory, UserFactory, ZoneFactory
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.models import Invoice
from wispbill.clients.models import Client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_run_now_from_the_periodic_tasks_page(page):
    UserFactory(username="jefe", is_superuser=True)
    zone = ZoneFactory(name="Zona día 1", router__name="Torre Centro")
    ClientFactory(zone=zone, start_date=date(2020, 1, 1))
    login(page, "jefe")
    page.locator("nav").get_by_role("link", name="Tareas periódicas", exact=True).click()
    row = page.locator("tr", has_text="Torre Centro · Zona día 1")
    expect(row.locator("td[data-task=invoices] .badge").first).to_have_text("Activado")
    row.get_by_role("link", name="Ejecutar ahora").click()
    page.get_by_role("button", name="Sí, ejecutarlas ahora").click()
    expect(page.locator("#run-state")).to_have_text("Terminado.")
    expect(page.locator("[data-key=invoices_created]")).to_have_text("1")
    assert Invoice.objects.filter(client__zone=zone).count() == 1
    page.get_by_role("link", name="← Tareas periódicas").click()
    row = page.locator("tr", has_text="Torre Centro · Zona día 1")
    expect(row.locator("td[data-task=invoices]")).to_contain_text("Aplicada")


def test_payment_that_reactivates_a_cut_client(page):
    UserFactory(username="jefe", is_superuser=True)
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    client = ClientFactory(
        zone=zone,
        name="Elena Cruz",
        start_date=date(2026, 8, 15),
        plan=PlanFactory(price=Decimal("399.00")),
    )
    periodic_tasks_run(actor=None, force=True, day=date(2026, 8, 25))
    periodic_tasks_run(actor=None, force=True, day=date(2026, 9, 5))
    assert Client.objects.get(pk=client.pk).state == "suspended"

    login(page, "jefe")
    page.goto(f"/clients/{client.pk}/#money")
    expect(page.get_by_test_id("client-state")).to_have_text("Suspendido")
    page.get_by_test_id("payment-form").get_by_label("Monto").fill("399.00")
    page.get_by_role("button", name="Registrar y activar servicio").click()
    expect(page.locator(".messages .success")).to_contain_text("activo")
    expect(page.get_by_test_id("client-state")).to_have_text("Activo")
    expect(page.get_by_test_id("client-balance")).to_have_text("$0.00")
    assert Client.objects.get(pk=client.pk).state == "active"
