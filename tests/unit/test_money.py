"""Amounts as operators type them: Mexico writes cents after a dot, Colombia after a comma, and
a text that could be read two ways is refused, never multiplied by a hundred."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from wispbill.core.formatting import money
from wispbill.core.money import notation_of, parse_money


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1,234.50", "1234.50"),
        ("1234.50", "1234.50"),
        ("199.50", "199.50"),
        ("$1,234.50", "1234.50"),
        (" 1 234.50 ", "1234.50"),
        ("-$51.00", "-51.00"),
        ("$-51", "-51"),
        ("12,345", "12345"),
        ("1,234,567.89", "1234567.89"),
        (".50", "0.50"),
        ("399", "399"),
    ],
)
def test_mexico_reads_what_its_operators_type(text, amount):
    assert parse_money(text, "MX") == Decimal(amount)


@pytest.mark.parametrize("text", ["199,50", "1.234,50", "0,5"])
def test_mexico_refuses_the_comma_for_cents_and_says_how_to_write_it(text):
    with translation.override("es"), pytest.raises(ValidationError) as refused:
        parse_money(text, "MX")
    assert refused.value.code == "ambiguous"
    assert f"«{text}» se puede leer de dos maneras" in refused.value.messages[0]
    assert "199.50" in refused.value.messages[0]


@pytest.mark.parametrize("text", ["abc", "1,2345", "--5", "1..5", "$", "1e3", "١٢٣"])
def test_what_is_no_amount_is_refused(text):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        parse_money(text, "MX")
    assert "is not an amount: write it as 1,234.50 or 1234.50." in refused.value.messages[0]


def test_colombia_writes_the_cents_after_a_comma():
    assert parse_money("199,50", "CO") == Decimal("199.50")
    assert parse_money("1.234,50", "co") == Decimal("1234.50")
    assert parse_money("1.234", "CO") == Decimal("1234")
    with pytest.raises(ValidationError):
        parse_money("199.50", "CO")


def test_three_decimals_are_not_read_as_thousands_in_mexico():
    # 1.234 is one peso and change with three decimals: the form's two-places rule refuses
    # it, instead of it being taken for 1234.
    assert parse_money("1.234", "MX") == Decimal("1.234")


@given(st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2))
def test_what_the_product_shows_it_reads_back(amount):
    assert parse_money(money(amount), "MX") == amount
    grouped = f"{amount:,.2f}".translate(str.maketrans(",.", ".,"))
    assert parse_money(grouped, "CO") == amount
    assert notation_of("CO").example == "1.234,50"


def test_an_invoice_is_paid_once_its_paid_amount_reaches_its_total():
    from wispbill.billing.models import Invoice, InvoiceStatus, paid_status

    assert paid_status(Decimal("299.99"), Decimal("300.00")) == InvoiceStatus.PENDING
    assert paid_status(Decimal("300.00"), Decimal("300.00")) == InvoiceStatus.PAID
    assert paid_status(Decimal("0.00"), Decimal("0.00")) == InvoiceStatus.PAID
    invoice = Invoice(total=Decimal("300.00"), paid_amount=Decimal("0.00"))
    invoice.pay(Decimal("100.00"))
    assert (invoice.paid_amount, invoice.status) == (Decimal("100.00"), InvoiceStatus.PENDING)
    invoice.pay(Decimal("200.00"))
    assert (invoice.paid_amount, invoice.status) == (Decimal("300.00"), InvoiceStatus.PAID)
