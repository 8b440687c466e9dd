"""IVA on every invoice (issue 19, step 1): one tax function for both writers, so subtotal +
tax is exactly the total and each line's base and tax are what a PAC accepts (Anexo 20)."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client as Browser
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import ClientFactory, PlanFactory, UserFactory, ZoneFactory, grant
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.models import Invoice
from wispbill.billing.reports import cash_report
from wispbill.billing.services.charges import charge_create
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.billing.services.payments import payment_register
from wispbill.billing.taxes import line_tax, tax_bounds
from wispbill.core.models import CompanySettings
from wispbill.staff.permissions import MANAGE_INVOICES, REGISTER_PAYMENTS

SEPT_6 = "2026-09-06 10:00"
RATES = st.sampled_from([Decimal("0.16"), Decimal("0.08"), Decimal("0.00")])
PRICES = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)


@given(price=PRICES, rate=RATES, included=st.booleans())
def test_every_line_adds_up_and_its_tax_is_what_a_pac_accepts(price, rate, included):
    line = line_tax(price, rate=rate, included=included)
    assert line.base + line.tax == line.amount
    assert line.amount == (price if included else price + line.tax)
    low, high = tax_bounds(line.base, rate)
    assert low <= line.tax <= high
    assert line.base.as_tuple().exponent == -2 and line.tax.as_tuple().exponent == -2


def test_a_discount_is_the_mirror_of_a_charge():
    assert line_tax(Decimal("-100.00"), rate=Decimal("0.16"), included=True).base == Decimal(
        "-86.21"
    )


def _company(**values) -> CompanySettings:
    CompanySettings.objects.update_or_create(pk=1, defaults=values)
    return CompanySettings.load()


@pytest.fixture
def zone():
    return ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
@pytest.mark.parametrize(
    "included, total, subtotal, tax",
    [
        (True, Decimal("399.00"), Decimal("343.97"), Decimal("55.03")),
        (False, Decimal("462.84"), Decimal("399.00"), Decimal("63.84")),
    ],
)
def test_the_daily_run_and_a_manual_invoice_tax_alike(zone, included, total, subtotal, tax):
    _company(prices_include_tax=included)
    plan = PlanFactory(name="Internet 10", price=Decimal("399.00"))
    by_run = ClientFactory(zone=zone, plan=plan, start_date=date(2026, 1, 1))
    periodic_tasks_run(actor=None, day=date(2026, 9, 6))
    run_invoice = Invoice.objects.get(client=by_run, period_start=date(2026, 9, 1))
    by_hand = ClientFactory(zone=zone, plan=plan, start_date=date(2026, 1, 1), task_invoices=False)
    admin = UserFactory(is_superuser=True)
    hand_invoice = invoice_create_for_cycle(actor=admin, client=by_hand, day=date(2026, 9, 6))
    for invoice in (run_invoice, hand_invoice):
        invoice.refresh_from_db()
        assert (invoice.total, invoice.subtotal, invoice.tax) == (total, subtotal, tax)
        line = invoice.lines.get()
        assert (line.amount, line.tax_base, line.tax) == (total, subtotal, tax)


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_an_invoice_with_a_charge_and_a_discount_sums_its_lines(zone):
    _company(prices_include_tax=True)
    admin = UserFactory(is_superuser=True)
    client = ClientFactory(
        zone=zone, plan=PlanFactory(price=Decimal("349.00")), start_date=date(2026, 1, 1)
    )
    charge_create(actor=admin, client=client, description="Antena", amount=Decimal("1250.50"))
    charge_create(actor=admin, client=client, description="Descuento", amount=Decimal("-50.00"))
    invoice = invoice_create_for_cycle(actor=admin, client=client, day=date(2026, 9, 6))
    lines = list(invoice.lines.all())
    assert len(lines) == 3
    assert invoice.subtotal == sum(line.tax_base for line in lines)
    assert invoice.tax == sum(line.tax for line in lines)
    assert invoice.subtotal + invoice.tax == invoice.total == Decimal("1549.50")


@pytest.mark.django_db
@pytest.mark.instant(SEPT_6)
def test_pages_api_and_cash_report_show_the_tax(zone, admin_api):
    _company(prices_include_tax=True)
    client = ClientFactory(
        zone=zone, plan=PlanFactory(price=Decimal("580.00")), start_date=date(2026, 1, 1)
    )
    periodic_tasks_run(actor=None, day=date(2026, 9, 6))
    invoice = Invoice.objects.get(client=client)
    assert (invoice.subtotal, invoice.tax) == (Decimal("500.00"), Decimal("80.00"))
    body = admin_api.get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert (body["subtotal"], body["tax"], body["total"]) == ("500.00", "80.00", "580.00")

    staff = UserFactory()
    grant(staff, MANAGE_INVOICES, REGISTER_PAYMENTS)
    browser = Browser()
    browser.force_login(staff)
    page = browser.get(f"/clients/{client.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "500.00" in page and "80.00" in page

    payment_register(actor=staff, client=client, amount=Decimal("580.00"))
    report = cash_report(start=date(2026, 9, 6), end=date(2026, 9, 6))
    assert (report.total, report.tax) == (Decimal("580.00"), Decimal("80.00"))
