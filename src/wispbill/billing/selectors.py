"""Reads about money: what a client owes and its invoices."""

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from wispbill.billing.models import Invoice
from wispbill.clients.models import Client
from wispbill.clients.selectors import client_list
from wispbill.core.clock import business_day

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


def client_rows(*, overdue: bool = False, owing: bool = False, **filters) -> QuerySet[Client]:
    """The clients list (`clients.selectors.client_list` and its filters) with each client's
    balance, and the filters that need money: an invoice overdue today, something owed."""
    qs = client_list(**filters)
    if overdue:
        late = Invoice.objects.overdue_on(business_day()).values("client_id")
        qs = qs.filter(pk__in=late)
    qs = with_balance(qs)
    if owing:
        # Only clients with a pending invoice can owe: the balance is computed for those.
        qs = qs.filter(pk__in=Invoice.objects.pending().values("client_id"), balance_due__gt=0)
    return qs
