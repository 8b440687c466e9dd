"""The counter on a 390 px phone, in Spanish: a payment far above the debt is asked about with
both amounts before it is written, and a payment voided (with its reason) is marked on the
receipt and taken off the cash report. Every page fits the phone without scrolling sideways."""

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, owing
from tests.factories import ClientFactory, PlanFactory, UserFactory
from wispbill.billing.models import Payment
from wispbill.core.clock import today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def counter(chromium, live_server):
    """The cashier's phone, logged in, and a client who owes one invoice of $399.00."""
    UserFactory(username="jefe", is_superuser=True)
    client = ClientFactory(name="Elena Cruz", plan=PlanFactory(price=Decimal("399.00")))
    owing(client, due=today() + timedelta(days=3))
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    login(page, "jefe")
    yield page, client
    context.close()


def _fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def _pay(page, client, amount: str) -> None:
    page.goto(f"/clients/{client.pk}/#money")
    form = page.get_by_test_id("payment-form")
    form.get_by_label("Monto").fill(amount)
    form.get_by_role("button", name="Registrar pago").click()


def test_a_payment_far_above_the_debt_is_asked_about_first(counter):
    page, client = counter
    _pay(page, client, "99,999.00")
    expect(page.get_by_test_id("large-question")).to_have_text(
        "El cliente debe $399.00; va a registrar $99,999.00. ¿Confirmar?"
    )
    assert _fits(page)
    assert not Payment.objects.filter(client=client).exists()

    page.get_by_role("button", name="No, corregirlo").click()
    expect(page.get_by_test_id("client-balance")).to_have_text("$399.00")
    # The form comes back as it was typed, on its tab, to be corrected.
    expect(page.get_by_test_id("payment-form").get_by_label("Monto")).to_have_value("99999.00")
    assert not Payment.objects.filter(client=client).exists()

    _pay(page, client, "99,999.00")
    page.get_by_role("button", name="Sí, registrar $99,999.00").click()
    expect(page.locator(".messages .success")).to_contain_text("Pago de $99,999.00 registrado")
    expect(page.get_by_test_id("client-balance")).to_have_text("-$99,600.00")
    assert _fits(page)
    assert list(Payment.objects.filter(client=client).values_list("amount", flat=True)) == [
        Decimal("99999.00")
    ]


def test_voiding_a_payment_needs_a_reason_and_marks_its_receipt(counter):
    page, client = counter
    _pay(page, client, "399.00")
    expect(page.get_by_test_id("client-balance")).to_have_text("$0.00")
    payment = Payment.objects.get(client=client)

    page.get_by_test_id("void-link").click()
    expect(page.get_by_test_id("void-summary")).to_contain_text("$399.00 (Efectivo) de Elena Cruz")
    assert _fits(page)
    page.get_by_test_id("void-submit").click()
    expect(page.get_by_text("Este campo es obligatorio.")).to_be_visible()
    payment.refresh_from_db()
    assert payment.status == "applied"

    page.get_by_label("Motivo").fill("Capturado dos veces")
    page.get_by_test_id("void-submit").click()
    expect(page.locator(".messages .success")).to_contain_text("anulado")
    expect(page.get_by_test_id("client-balance")).to_have_text("$399.00")
    assert _fits(page)
    payment.refresh_from_db()
    assert (payment.status, payment.void_reason) == ("voided", "Capturado dos veces")

    page.goto(f"/payments/{payment.pk}/")
    expect(page.get_by_test_id("voided")).to_have_text("ANULADO")
    expect(page.locator(".doc")).to_contain_text("Capturado dos veces")
    assert _fits(page)

    page.goto("/payments/cash-report/")
    voided = page.locator("tr", has_text="Anulado: Efectivo")
    expect(voided).to_contain_text("-$399.00")
    assert _fits(page)
