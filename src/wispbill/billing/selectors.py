"""Reads about money: what a client owes and its invoices."""

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from wispbill.billing.models import Invoice

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=12, decimal_places=2)


def pending_invoices(client) -> QuerySet[Invoice]:
    """Oldest first: the order a payment pays them in."""
    return Invoice.objects.pending().filter(client=client).oldest_first()


def owed_subquery():
    """Per client (OuterRef "pk"): the sum of what its pending invoices still lack."""
    return Coalesce(
        Subquery(
            Invoice.objects.pending()
            .filter(client=OuterRef("pk"))
            .values("client")
            .annotate(owed=Sum(F("total") - F("paid_amount")))
            .values("owed"),
            output_field=MONEY,
        ),
        Value(ZERO),
        output_field=MONEY,
    )


def with_balance(qs: QuerySet) -> QuerySet:
    """Annotate `balance_due`: pending invoices minus credit (negative is credit)."""
    return qs.annotate(balance_due=owed_subquery() - F("credit"))


def client_balance(client) -> Decimal:
    if hasattr(client, "balance_due"):
        return client.balance_due
    owed = pending_invoices(client).aggregate(owed=Sum(F("total") - F("paid_amount")))["owed"]
    return (owed or ZERO) - client.credit
