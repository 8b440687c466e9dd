"""An operator's first week, in Debian's Chromium: the notice page in each state a client can
be in, the cash report, the menu on a phone, and "run now" with its confirmation."""

import csv
import io
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, owing
from tests.factories import ClientFactory, PlanFactory, UserFactory, ZoneFactory
from wispbill.billing.models import Invoice
from wispbill.clients.models import Client
from wispbill.clients.services.zones import zone_update
from wispbill.core.clock import today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, locale="es-MX"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_the_notice_page_in_each_state(phone):
    # The browser reaches the live server from 127.0.0.1: that is the client's address.
    zone = ZoneFactory(name="Zona día 1", router__name="Torre Norte")
    client = ClientFactory(zone=zone, name="Ana Pérez", ip="127.0.0.1", notice_active=True)
    invoice = owing(client, due=today() + timedelta(days=3))

    phone.goto("/aviso/")
    expect(phone.get_by_test_id("headline")).to_have_text("Ana Pérez, tienes un pago pendiente")
    expect(phone.get_by_test_id("owed")).to_have_text("$399.00")
    expect(phone.get_by_test_id("when")).to_contain_text("Paga antes del")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.get_by_role("button", name="Entendido, seguir navegando").click()
    expect(phone.get_by_test_id("dismissed")).to_contain_text("hoy ya no volverás a ver este aviso")
    assert Client.objects.get(pk=client.pk).notice_dismissed_on == today()

    Invoice.objects.filter(pk=invoice.pk).update(due_date=today() - timedelta(days=20))
    Client.objects.filter(pk=client.pk).update(notice_dismissed_on=None)
    zone_update(actor=UserFactory(is_superuser=True), zone=zone, switches={"cuts": False})
    phone.goto("/aviso/")
    expect(phone.get_by_test_id("when")).to_have_text(
        f"Venció el {_long(today() - timedelta(days=20))}."
    )

    Client.objects.filter(pk=client.pk).update(state="suspended")
    phone.goto("/aviso/")
    expect(phone.get_by_test_id("headline")).to_have_text(
        "Ana Pérez, tu servicio de internet está suspendido"
    )
    expect(phone.get_by_role("button", name="Entendido, seguir navegando")).to_have_count(0)

    Client.objects.filter(pk=client.pk).update(state="throttled")
    phone.goto("/aviso/")
    expect(phone.get_by_test_id("headline")).to_have_text(
        "Ana Pérez, tu servicio tiene velocidad reducida"
    )

    Client.objects.filter(pk=client.pk).update(state="active")
    Invoice.objects.filter(pk=invoice.pk).update(status="paid", paid_amount=Decimal("399.00"))
    phone.goto("/aviso/")
    expect(phone.get_by_test_id("headline")).to_have_text("Ana Pérez, no debes nada")
    expect(phone.get_by_test_id("owed")).to_have_count(0)
    phone.get_by_role("link", name="English").click()
    expect(phone.get_by_test_id("headline")).to_have_text("Ana Pérez, you owe nothing")


def _long(day) -> str:
    months = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
              "septiembre", "octubre", "noviembre", "diciembre"]  # fmt: skip
    return f"{day.day} de {months[day.month - 1]} de {day.year}"


def test_the_cash_report_after_a_payment_at_the_counter(page):
    UserFactory(username="jefe", is_superuser=True)
    client = ClientFactory(name="Elena Cruz", plan=PlanFactory(price=Decimal("1234.50")))
    owing(client, due=today() + timedelta(days=3))
    login(page, "jefe")
    page.goto(f"/clients/{client.pk}/#money")
    expect(page.get_by_test_id("payment-form").get_by_label("Monto")).to_have_value("1234.50")
    page.get_by_label("Forma de pago").select_option("transfer")
    page.get_by_label("Referencia").fill("SPEI 4411")
    page.get_by_role("button", name="Registrar pago").click()
    expect(page.locator(".messages .success")).to_contain_text("Pago de $1,234.50 registrado")

    page.locator("nav").get_by_role("link", name="Corte de caja", exact=True).click()
    expect(page.get_by_test_id("cash-total")).to_have_text("$1,234.50")
    expect(page.get_by_test_id("cash-rows")).to_contain_text("Transferencia")
    with page.expect_download() as download:
        page.get_by_test_id("cash-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    # The IVA inside the price, at the default 16 %: 1234.50 - 1234.50 / 1.16.
    iva = Decimal("1234.50") - (Decimal("1234.50") / Decimal("1.16")).quantize(Decimal("0.01"))
    assert rows[0][-1] == "IVA"
    assert [today().isoformat(), "jefe", "Transferencia", "1", "1234.50", str(iva)] in rows
    expect(page.get_by_test_id("cash-rows").locator("tbody")).to_contain_text(f"${iva}")

    page.locator("nav").get_by_role("link", name="Pagos", exact=True).click()
    expect(page.locator("tr.payment-row")).to_contain_text("SPEI 4411")

    # On a phone each row stacks its cells: nothing to scroll sideways for.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/payments/cash-report/")
    table = page.locator(".table-wrap").filter(has=page.get_by_test_id("cash-rows"))
    expect(table).to_contain_text("$1,234.50")
    assert table.evaluate("wrap => wrap.scrollWidth <= wrap.clientWidth")
    if shots := os.environ.get("WISPBILL_SCREENSHOTS"):
        page.screenshot(path=Path(shots) / "cash-report-390.png", full_page=True)


def test_the_menu_folds_behind_a_button_on_a_phone(phone):
    UserFactory(username="jefe", is_superuser=True)
    for n in range(3):
        ClientFactory(name=f"Cliente con un nombre bastante largo {n}")
    login(phone, "jefe")
    nav = phone.locator("#side-nav")
    expect(nav).to_be_hidden()
    phone.get_by_role("button", name="Menú").click()
    expect(nav).to_be_visible()
    nav.get_by_role("link", name="Clientes", exact=True).click()
    expect(phone.get_by_role("heading", name="Clientes")).to_be_visible()
    expect(nav).to_be_hidden()
    row = phone.locator("tr.client-row").first
    for text in ("Cliente con un nombre", "Activo", "$0.00", "Editar cliente"):
        expect(row).to_contain_text(text)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    wrap = phone.locator(".table-wrap").first
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth")
    expect(row.get_by_role("link", name="Editar cliente")).to_be_in_viewport()


def test_run_now_asks_first_then_names_who_it_acted_on(page):
    UserFactory(username="jefe", is_superuser=True)
    zone = ZoneFactory(name="Zona día 1", router__name="Torre Centro")
    ClientFactory(zone=zone, name="Raúl Torres", start_date=today() - timedelta(days=400))
    login(page, "jefe")
    page.locator("nav").get_by_role("link", name="Tareas periódicas", exact=True).click()
    page.locator("tr", has_text="Torre Centro · Zona día 1").get_by_role(
        "link", name="Ejecutar ahora"
    ).click()
    confirm = page.get_by_test_id("run-confirm")
    expect(confirm.locator("[data-list=invoices]")).to_contain_text("Facturados: 1")
    expect(confirm.locator("[data-list=invoices]")).to_contain_text("Raúl Torres")
    assert not Invoice.objects.exists()
    page.get_by_role("button", name="Sí, ejecutarlas ahora").click()
    expect(page.locator("#run-state")).to_have_text("Terminado.")
    expect(page.locator("[data-key=invoices_created]")).to_have_text("1")
    invoiced = page.locator("[data-list=invoices]")
    expect(invoiced.get_by_role("link", name="Raúl Torres")).to_be_visible()
    assert Invoice.objects.filter(client__zone=zone).count() == 1
