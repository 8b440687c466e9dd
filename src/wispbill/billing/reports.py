"""Reads for the people who count the money: the payments list, the cash report and the
dashboard's money. Nothing in the rules reads them (those reads are in `selectors`)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from wispbill.billing.models import Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from wispbill.billing.selectors import MONEY, ZERO
from wispbill.billing.taxes import line_tax
from wispbill.core.models import CompanySettings


def payment_list(
    *,
    start: date | None = None,
    end: date | None = None,
    method: str = "",
    actor_name: str = "",
    search: str = "",
    status: str = "",
) -> QuerySet[Payment]:
    """Payments received between two days (`paid_on`), newest first, with their client."""
    qs = Payment.objects.select_related("client")
    if status:
        qs = qs.filter(status=status)
    if start:
        qs = qs.filter(paid_on__gte=start)
    if end:
        qs = qs.filter(paid_on__lte=end)
    if method:
        qs = qs.filter(method=method)
    if actor_name:
        qs = qs.filter(actor_name=actor_name)
    if search := search.strip():
        qs = qs.filter(Q(client__name__icontains=search) | Q(reference__icontains=search))
    return qs.order_by("-paid_on", "-received_at", "-id")


def payment_totals(qs: QuerySet[Payment]) -> dict[str, Any]:
    """How many payments a payment list holds and the money they keep (`count` and `total`:
    voids excluded, as the cash report counts them over the same days), and what was
    voided."""
    voided = ~Q(status=PaymentStatus.APPLIED)
    return qs.aggregate(
        count=Count("id", filter=~voided),
        total=Coalesce(Sum("amount", filter=~voided), Value(ZERO), output_field=MONEY),
        voided_count=Count("id", filter=voided),
        voided_total=Coalesce(Sum("amount", filter=voided), Value(ZERO), output_field=MONEY),
    )


_K = TypeVar("_K")


@dataclass(frozen=True)
class CashRow:
    """Payments received on a day, by one person, one method; or, `voided`, the payments that
    person voided that day: a negative line (count and total), the original kept on its day."""

    day: date
    actor_name: str
    method: str
    count: int
    total: Decimal
    voided: bool = False

    @property
    def method_label(self) -> str:
        if self.voided:
            return _("Voided: %(method)s") % {"method": _method_label(self.method)}
        return _method_label(self.method)


def _method_label(method: str) -> str:
    return str(PaymentMethod(method).label) if method in PaymentMethod.values else method


@dataclass
class CashReport:
    """The cash report ("corte de caja"): the money received each day, by who registered it
    and how it was paid, with the totals a cashier closes the day with."""

    start: date
    end: date
    rows: list[CashRow]
    tax_rate: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum((row.total for row in self.rows), ZERO)

    @property
    def tax(self) -> Decimal:
        """The IVA in what was received: every invoice's total includes its tax (billing.taxes),
        so the money received holds tax at the company's rate."""
        return self.tax_in(self.total)

    def tax_in(self, amount: Decimal) -> Decimal:
        """The IVA in an amount received (a row's total, or the report's)."""
        return amount - line_tax(amount, rate=self.tax_rate, included=True).base

    @property
    def rows_with_tax(self) -> list[tuple[CashRow, Decimal]]:
        """Each row with the IVA in its total, as the page and the CSV show it."""
        return [(row, self.tax_in(row.total)) for row in self.rows]

    @property
    def count(self) -> int:
        return sum(row.count for row in self.rows)

    def _by(self, key: Callable[["CashRow"], _K]) -> list[tuple[_K, int, Decimal]]:
        sums: dict[_K, tuple[int, Decimal]] = {}
        for row in self.rows:
            count, total = sums.get(key(row), (0, ZERO))
            sums[key(row)] = (count + row.count, total + row.total)
        return [(k, count, total) for k, (count, total) in sums.items()]

    @property
    def by_method(self) -> list[tuple[str, int, Decimal]]:
        """(method label, count, total), largest total first."""
        rows = self._by(lambda row: row.method)
        return [(_method_label(m), n, t) for m, n, t in sorted(rows, key=lambda r: -r[2])]

    @property
    def by_actor(self) -> list[tuple[str, int, Decimal]]:
        return sorted(self._by(lambda row: row.actor_name))

    @property
    def by_day(self) -> list[tuple[date, int, Decimal]]:
        return sorted(self._by(lambda row: row.day), reverse=True)


def cash_report(*, start: date, end: date) -> CashReport:
    """The payments received from `start` to `end`, summed per day, staff user and method, and
    the voids made on those days as negative lines (by who voided), in two queries."""
    received = (
        Payment.objects.filter(paid_on__gte=start, paid_on__lte=end)
        .values("paid_on", "actor_name", "method")
        .annotate(count=Count("id"), total=Sum("amount"))
    )
    voids = (
        Payment.objects.filter(voided_on__gte=start, voided_on__lte=end)
        .values("voided_on", "voided_by_name", "method")
        .annotate(count=Count("id"), total=Sum("amount"))
    )
    rows = [
        CashRow(r["paid_on"], r["actor_name"], r["method"], r["count"], r["total"])
        for r in received
    ] + [
        CashRow(r["voided_on"], r["voided_by_name"], r["method"], -r["count"], -r["total"], True)
        for r in voids
    ]
    rows.sort(key=lambda row: (row.actor_name, row.voided, row.method))
    rows.sort(key=lambda row: row.day, reverse=True)
    return CashReport(start=start, end=end, rows=rows, tax_rate=CompanySettings.load().tax_rate)


def _net(received: Q, voided: Q) -> CombinedExpression:
    """The money received under `received` less the money voided under `voided`."""
    return Coalesce(Sum("amount", filter=received), Value(ZERO), output_field=MONEY) - Coalesce(
        Sum("amount", filter=voided), Value(ZERO), output_field=MONEY
    )


def money_overview(*, day: date, overdue_on: date) -> dict[str, Any]:
    """What the owner looks at first: billed this month (invoices issued, not cancelled),
    collected on `day` and this month, and what is overdue as of `overdue_on` (and from how
    many clients), in three queries."""
    month_start = day.replace(day=1)
    billed = (
        Invoice.objects.exclude(status=InvoiceStatus.CANCELLED)
        .filter(issued_on__gte=month_start, issued_on__lte=day)
        .aggregate(total=Coalesce(Sum("total"), Value(ZERO), output_field=MONEY))["total"]
    )
    # Collected as the cash report counts it: money received, less the voids of those days.
    collected = Payment.objects.filter(
        Q(paid_on__gte=month_start, paid_on__lte=day)
        | Q(voided_on__gte=month_start, voided_on__lte=day)
    ).aggregate(
        today=_net(Q(paid_on=day), Q(voided_on=day)),
        month=_net(
            Q(paid_on__gte=month_start, paid_on__lte=day),
            Q(voided_on__gte=month_start, voided_on__lte=day),
        ),
    )
    overdue = Invoice.objects.overdue_on(overdue_on).aggregate(
        total=Coalesce(Sum(F("total") - F("paid_amount")), Value(ZERO), output_field=MONEY),
        clients=Count("client", distinct=True),
    )
    return {
        "month_start": month_start,
        "billed_month": billed,
        "collected_today": collected["today"],
        "collected_month": collected["month"],
        "overdue": overdue["total"],
        "overdue_clients": overdue["clients"],
    }
