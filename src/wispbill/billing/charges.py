"""What the invoice task bills a client for a cycle, as plain values: the whole period, or
the days from a later start — the day its service started (the company's rule for the first
invoice), or, for a cycle whose invoice date came while the client was cut, the day it came
back (the company's rule for billing after a cut) — at the plan price × days / days in the
period, or nothing."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from wispbill.core.models import FirstInvoice, ReactivationBilling
from wispbill.core.schedule import Cycle

CENT = Decimal("0.01")
# Why a cycle's charge starts after its period's first day.
FROM_START = "start"
FROM_REACTIVATION = "reactivation"


@dataclass(frozen=True)
class CycleCharge:
    total: Decimal
    start: date  # the first day billed
    end: date
    period_days: int
    prorated_from: str = ""  # FROM_START or FROM_REACTIVATION when not the whole period

    @property
    def prorated(self) -> bool:
        return bool(self.prorated_from)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def billing_start(start_date: date, paid_until: date | None) -> date:
    """The first day a client's cycles bill: the service's start, or the day after what it
    had paid for before wispbill (`paid_until`), whichever is later."""
    if paid_until is None or paid_until < start_date:
        return start_date
    return paid_until + timedelta(days=1) if paid_until < date.max else date.max


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


def prorated_charge(*, price: Decimal, cycle: Cycle, start: date, why: str) -> CycleCharge | None:
    """The charge for the days of `cycle` from `start` on: the plan price × days / days in
    the period, rounded to cents (half up); the whole price from the period's first day;
    None when `start` is past the period."""
    period_days = (cycle.period_end - cycle.period_start).days + 1
    if start > cycle.period_end:
        return None
    if start <= cycle.period_start:
        return CycleCharge(price, cycle.period_start, cycle.period_end, period_days)
    days = (cycle.period_end - start).days + 1
    total = (price * days / period_days).quantize(CENT, rounding=ROUND_HALF_UP)
    return CycleCharge(total, start, cycle.period_end, period_days, prorated_from=why)


def cycle_charge(
    *,
    price: Decimal,
    cycle: Cycle,
    start_date: date,
    first_invoice: str,
    suspended_on: date | None,
    reactivated_on: date | None,
    policy: str,
    invoice_suspended: bool,
) -> CycleCharge | None:
    """The charge for `cycle`, or None when the cycle is not billed. A service that starts
    after the period's first day is billed by the company's rule for the first invoice. The
    rule for billing after a cut applies when the cycle's invoice date fell between the
    client's last cut and its reactivation, and suspended clients are not invoiced."""
    start, why = cycle.period_start, ""
    if start_date > cycle.period_start:
        if first_invoice == FirstInvoice.NEXT_CYCLE or start_date > cycle.period_end:
            return None
        if first_invoice == FirstInvoice.PRORATED:
            start, why = start_date, FROM_START
    cut = cut_at_invoice_date(cycle=cycle, suspended_on=suspended_on, reactivated_on=reactivated_on)
    if cut and not invoice_suspended and policy != ReactivationBilling.FULL:
        if policy == ReactivationBilling.SKIP:
            return None
        if reactivated_on is not None and reactivated_on > start:
            start, why = reactivated_on, FROM_REACTIVATION
    return prorated_charge(price=price, cycle=cycle, start=start, why=why)
