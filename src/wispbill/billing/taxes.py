"""IVA on invoices: the one function both invoice writers (the daily run's bulk writer and the
manual one) call for each line, so that an invoice's subtotal + tax is exactly its total and a
CFDI built from its lines passes a PAC's checks (Anexo 20: each concept's base and IVA to two
decimals, the IVA within base × rate ± half a cent of the base × rate)."""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TaxedLine:
    """A line's money: `amount` (what it adds to the invoice's total) = `base` + `tax`."""

    amount: Decimal
    base: Decimal
    tax: Decimal


def line_tax(price: Decimal, *, rate: Decimal, included: bool) -> TaxedLine:
    """The line of `price` at `rate` (0.16 for 16 %): with `included` the price is what the
    client pays and the base is taken out of it (base = price / (1 + rate) to the cent, the
    tax the rest); without it the tax is added (tax = base × rate to the cent). Negative
    prices (discounts) are the mirror of positive ones."""
    if price < 0:
        mirror = line_tax(-price, rate=rate, included=included)
        return TaxedLine(-mirror.amount, -mirror.base, -mirror.tax)
    if included:
        base = cents(price / (1 + rate))
        return TaxedLine(price, base, price - base)
    tax = cents(price * rate)
    return TaxedLine(price + tax, price, tax)


def tax_bounds(base: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """The IVA a PAC accepts for a concept of `base` (Anexo 20, "Importe" of a Traslado):
    from (base − 0.005) × rate truncated to (base + 0.005 − 10⁻¹²) × rate rounded up."""
    half = Decimal("0.005")
    low = ((base - half) * rate).quantize(CENT, rounding=ROUND_FLOOR)
    high = ((base + half - Decimal("1e-12")) * rate).quantize(CENT, rounding=ROUND_CEILING)
    return low, high


def lines_tax(
    prices: list[Decimal], *, rate: Decimal, included: bool
) -> tuple[list[TaxedLine], Decimal, Decimal]:
    """The taxed lines of an invoice and its subtotal and tax (their sums)."""
    lines = [line_tax(price, rate=rate, included=included) for price in prices]
    return (
        lines,
        sum((line.base for line in lines), ZERO),
        sum((line.tax for line in lines), ZERO),
    )
