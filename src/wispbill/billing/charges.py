"""What the invoice task bills a client for a cycle, as plain values: the whole period, or —
for a cycle whose invoice date came while the client was cut — what the company's rule for
billing after a cut says (the whole cycle, the days from the reactivation, or nothing)."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from wispbill.core.models import ReactivationBilling
from wispbill.core.schedule import Cycle

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Charge:
    total: Decimal
    start: date  # the first day billed
    end: date
    prorated: bool = False


def cut_at_invoice_date(
    *, cycle: Cycle, suspended_on: date | None, reactivated_on: date | None
) -> bool:
    """Whether the cycle's invoice date fell between the client's last cut and its
    reactivation: the cycles the rule for billing after a cut is about."""
    return (
        suspended_on is not None
        and reactivated_on is not None
        and suspended_on <= cycle.invoice_date < reactivated_on
    )


def cycle_charge(
    *,
    price: Decimal,
    cycle: Cycle,
    suspended_on: date | None,
    reactivated_on: date | None,
    policy: str,
    invoice_suspended: bool,
) -> Charge | None:
    """The charge for `cycle`, or None when the cycle is not billed. The rule for billing
    after a cut applies when the cycle's invoice date fell between the client's last cut and
    its reactivation, and suspended clients are not invoiced."""
    full = Charge(total=price, start=cycle.period_start, end=cycle.period_end)
    cut = cut_at_invoice_date(cycle=cycle, suspended_on=suspended_on, reactivated_on=reactivated_on)
    if invoice_suspended or not cut or policy == ReactivationBilling.FULL:
        return full
    if policy == ReactivationBilling.SKIP:
        return None
    start = max(cycle.period_start, reactivated_on)
    if start > cycle.period_end:
        return None
    days = (cycle.period_end - start).days + 1
    period_days = (cycle.period_end - cycle.period_start).days + 1
    if days == period_days:
        return full
    total = (price * days / period_days).quantize(CENT, rounding=ROUND_HALF_UP)
    return Charge(total=total, start=start, end=cycle.period_end, prorated=True)
