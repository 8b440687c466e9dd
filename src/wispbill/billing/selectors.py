"""Reads about money: what a client owes, its invoices, its overdue ones."""

from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from wispbill.billing.models import Invoice, InvoiceStatus

ZERO = Decimal("0.00")


def pending_invoices(client) -> QuerySet[Invoice]:
    """Oldest first: the order a payment pays them in."""
    return Invoice.objects.filter(client=client, status=InvoiceStatus.PENDING).order_by(
        "due_date", "pay_date", "id"
    )


def owed_subquery():
    """Per client (OuterRef "pk"): the sum of what its pending invoices still lack."""
    return Coalesce(
        Subquery(
            Invoice.objects.filter(client=OuterRef("pk"), status=InvoiceStatus.PENDING)
            .values("client")
            .annotate(owed=Sum(F("total") - F("paid_amount")))
            .values("owed"),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        ),
        Value(ZERO),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def with_balance(qs: QuerySet) -> QuerySet:
    """Annotate `balance_due`: pending invoices minus credit (negative is credit)."""
    return qs.annotate(balance_due=owed_subquery() - F("credit"))


def client_balance(client) -> Decimal:
    if hasattr(client, "balance_due"):
        return client.balance_due
    owed = pending_invoices(client).aggregate(owed=Sum(F("total") - F("paid_amount")))["owed"]
    return (owed or ZERO) - client.credit


def overdue_invoices(client, day: date) -> QuerySet[Invoice]:
    return pending_invoices(client).filter(due_date__lte=day)
