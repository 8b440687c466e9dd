"""Online payments: a pay link for what the database says a client owes, and each gateway
notification turned into at most one payment, by the counter's rule, or its reversal."""

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from wispbill.billing.models import Invoice, InvoiceStatus, Payment
from wispbill.billing.selectors import ZERO, client_balance
from wispbill.billing.services.payments import PaymentRow, payment_reverse, payments_apply
from wispbill.clients.models import Client
from wispbill.core.clock import today
from wispbill.core.db import among, bulk_set, locked
from wispbill.core.models import CompanySettings
from wispbill.payments.gateways import (
    LINK_MAKERS,
    EventKind,
    GatewayEvent,
    LinkRequest,
    gateway,
)
from wispbill.payments.models import (
    BankLine,
    BankLineStatus,
    GatewayPayment,
    GatewayPaymentStatus,
    Provider,
    UnmatchedReason,
)
from wispbill.staff.permissions import REGISTER_PAYMENTS, require_permission_of_person

logger = logging.getLogger(__name__)

BATCH = 1_000  # gateway payments per query

WEBHOOK_VIEWS = {
    Provider.MERCADOPAGO: "webhook-mercadopago",
    Provider.STRIPE: "webhook-stripe",
}


def webhook_url(provider: str, site_url: str) -> str:
    """The address to paste in the gateway's dashboard (and that a preference names)."""
    return f"{site_url.rstrip('/')}{reverse(WEBHOOK_VIEWS[Provider(provider)])}"


def gateway_settings(site_url: str) -> list[dict[str, Any]]:
    """Each gateway, whether it is on (its secrets are in the environment) and the webhook
    address to paste in its dashboard; never a secret."""
    return [
        {
            "provider": provider.value,
            "label": provider.label,
            "on": gateway(provider) is not None,
            "webhook_url": webhook_url(provider, site_url),
        }
        for provider in Provider
    ]


def payment_link_amount(*, client: Client, invoice: Invoice | None) -> Decimal:
    """What a pay link asks for: the invoice's pending amount, or what the client owes now;
    refused when that is nothing."""
    if invoice is not None:
        if invoice.client_id != client.pk:
            raise ValidationError({"invoice": [_("This invoice is not this client's.")]})
        if invoice.status != InvoiceStatus.PENDING or invoice.outstanding <= ZERO:
            raise ValidationError({"invoice": [_("This invoice has nothing left to pay.")]})
        return invoice.outstanding
    owed = client_balance(client)
    if owed <= ZERO:
        raise ValidationError(_("The client owes nothing; there is nothing to pay online."))
    return owed


def payment_link_create(
    *,
    actor: User | None,
    client: Client,
    provider: str,
    invoice: Invoice | None = None,
    site_url: str,
    return_url: str = "",
) -> str:
    """A link to the gateway's checkout for what the client owes (or the invoice's pending
    amount), never an amount from the browser. `actor` None is the client on its own page.
    Raises GatewayError when the gateway cannot make one."""
    require_permission_of_person(actor, REGISTER_PAYMENTS)
    settings = gateway(provider) if provider in Provider.values else None
    if settings is None:
        raise ValidationError(
            {"provider": [_("This online payment method is not available.")]}, code="off"
        )
    amount = payment_link_amount(client=client, invoice=invoice)
    company = CompanySettings.load()
    title = _("%(company)s: internet service of %(client)s") % {
        "company": company.name or _("Internet service"),
        "client": client.name,
    }
    ask = LinkRequest(
        client_id=client.pk,
        invoice_id=invoice.pk if invoice is not None else None,
        amount=amount,
        title=title,
        email=client.email,
        webhook_url=webhook_url(provider, site_url),
        return_url=return_url,
    )
    return LINK_MAKERS[settings.provider](settings, ask)


def gateway_event_apply(event: GatewayEvent) -> GatewayPayment:
    """Act on one thing a gateway said (`gateway_events_apply` of one)."""
    return gateway_events_apply([event])[0]


@transaction.atomic
def gateway_events_apply(events: Sequence[GatewayEvent]) -> list[GatewayPayment]:
    """Act on what the gateways said, once per gateway payment, all in one go: the database
    keeps one row per (gateway, id) and locks every row the batch names, so duplicates,
    parallel deliveries and a refund that arrives before its payment each pay at most once.
    The payments of the batch are applied by the counter's rule in one `payments_apply` (in
    the events' order); reversals go one by one after them. A payment whose refund is in the
    same batch is not paid: the money is not there any more. Returns each event's row."""
    keys = sorted({(event.provider.value, event.gateway_id) for event in events})
    GatewayPayment.objects.bulk_create(
        [GatewayPayment(provider=p, gateway_id=g) for p, g in keys], ignore_conflicts=True
    )
    rows: dict[tuple[str, str], GatewayPayment] = {}
    for provider in sorted({p for p, _g in keys}):
        ids = [g for p, g in keys if p == provider]
        for start in range(0, len(ids), BATCH):
            chunk = GatewayPayment.objects.filter(
                provider=provider, gateway_id__in=ids[start : start + BATCH]
            )
            rows.update(
                ((row.provider, row.gateway_id), row)
                for row in locked(chunk).order_by("gateway_id")
            )
    refunded = {
        (event.provider.value, event.gateway_id)
        for event in events
        if event.kind == EventKind.REVERSED
    }
    paying: dict[tuple[str, str], GatewayEvent] = {}
    reversing: dict[tuple[str, str], GatewayEvent] = {}
    for event in events:
        key = (event.provider.value, event.gateway_id)
        row = rows[key]
        if event.kind == EventKind.REVERSED:
            if row.status != GatewayPaymentStatus.REVERSED:
                reversing.setdefault(key, event)
        elif row.status == GatewayPaymentStatus.RECEIVED and key not in refunded:
            paying.setdefault(key, event)
    _paid_many([(rows[key], event) for key, event in paying.items()])
    for key, event in reversing.items():
        _reversed(rows[key], event)
    return [rows[(event.provider.value, event.gateway_id)] for event in events]


def _paid_many(paid: list[tuple[GatewayPayment, GatewayEvent]]) -> None:
    """Each paid event of a client becomes its payment, all in one `payments_apply`; one that
    names no client (or one that does not exist) waits on a bank line for a person."""
    if not paid:
        return
    day = today()
    named = {event.client_id for _row, event in paid if event.client_id}
    known = set(Client.objects.filter(pk__in=among(sorted(named))).values_list("pk", flat=True))
    applied, rows = [], []
    for row, event in paid:
        # The gateways' readers give every paid event its amount (mercadopago_payment,
        # stripe_event).
        assert event.amount is not None
        paid_on = min(event.paid_on or day, day)
        row.amount, row.paid_on = event.amount, paid_on
        if event.client_id not in known:
            _unmatched(row, event)
            continue
        row.client_id = event.client_id
        applied.append(row)
        rows.append(
            PaymentRow(
                client_id=event.client_id,
                amount=event.amount,
                method=event.provider.value,
                paid_on=paid_on,
                reference=event.gateway_id,
            )
        )
    # Money the gateway already took from the client: nobody typed the amount, and nobody is
    # there to ask; refusing it would not give it back. What it does not pay stays as credit.
    for row, payment in zip(applied, payments_apply(actor=None, rows=rows), strict=True):
        row.payment, row.status = payment, GatewayPaymentStatus.APPLIED
        row.updated_at = payment.received_at
    bulk_set(applied, ["amount", "paid_on", "client", "payment", "status", "updated_at"])


def _unmatched(row: GatewayPayment, event: GatewayEvent) -> None:
    assert event.amount is not None and row.paid_on is not None
    row.bank_line = BankLine.objects.create(
        line=0,
        date=row.paid_on,
        amount=event.amount,
        reference=event.gateway_id,
        description=_("%(gateway)s payment %(id)s, naming no client")
        % {"gateway": event.provider.label, "id": event.gateway_id},
        tracking_key=event.gateway_id[:50],
        method=event.provider.value,
        reason=UnmatchedReason.NO_CLIENT,
    )
    row.status = GatewayPaymentStatus.UNMATCHED
    row.save()


def _reversed(row: GatewayPayment, event: GatewayEvent) -> None:
    reason = _("%(gateway)s: %(what)s") % {"gateway": event.provider.label, "what": event.what}
    payment: Payment | None = row.payment
    if row.bank_line_id is not None:
        line = locked(BankLine.objects).get(pk=row.bank_line_id)
        if line.status == BankLineStatus.UNMATCHED:
            # Nobody assigned it yet: the money is gone, there is nothing left to assign.
            row.bank_line = None
            line.delete()
        else:
            payment = line.payment
    if payment is not None:
        payment_reverse(actor=None, payment=payment, reason=reason)
    row.status = GatewayPaymentStatus.REVERSED
    row.save()
