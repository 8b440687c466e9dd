"""Online payments: a pay link for what the database says a client owes, and each gateway
notification turned into at most one payment, by the counter's rule, or its reversal."""

import logging
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from wispbill.billing.models import Invoice, InvoiceStatus, Payment
from wispbill.billing.selectors import ZERO, client_balance
from wispbill.billing.services.payments import payment_register, payment_reverse
from wispbill.clients.models import Client
from wispbill.core.clock import today
from wispbill.core.db import locked
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


@transaction.atomic
def gateway_event_apply(event: GatewayEvent) -> GatewayPayment:
    """Act on what a gateway said, once per gateway payment: the database keeps one row per
    (gateway, id) and every notification of it waits for the row's lock, so duplicates,
    parallel deliveries and a refund that arrives before its payment each pay at most once."""
    GatewayPayment.objects.bulk_create(
        [GatewayPayment(provider=event.provider, gateway_id=event.gateway_id)],
        ignore_conflicts=True,
    )
    row = locked(GatewayPayment.objects).get(provider=event.provider, gateway_id=event.gateway_id)
    if event.kind == EventKind.PAID and row.status == GatewayPaymentStatus.RECEIVED:
        _paid(row, event)
    elif event.kind == EventKind.REVERSED and row.status != GatewayPaymentStatus.REVERSED:
        _reversed(row, event)
    return row


def _paid(row: GatewayPayment, event: GatewayEvent) -> None:
    # The gateways' readers give every paid event its amount (mercadopago_payment, stripe_event).
    assert event.amount is not None
    paid_on = min(event.paid_on or today(), today())
    client = Client.objects.filter(pk=event.client_id).first() if event.client_id else None
    row.amount, row.paid_on, row.client = event.amount, paid_on, client
    if client is None:
        row.bank_line = BankLine.objects.create(
            line=0,
            date=paid_on,
            amount=event.amount,
            reference=event.gateway_id,
            description=_("%(gateway)s payment %(id)s, naming no client")
            % {"gateway": event.provider.label, "id": event.gateway_id},
            tracking_key=event.gateway_id[:50],
            method=event.provider.value,
            reason=UnmatchedReason.NO_CLIENT,
        )
        row.status = GatewayPaymentStatus.UNMATCHED
    else:
        row.payment = payment_register(
            actor=None,
            client=client,
            amount=event.amount,
            method=event.provider.value,
            paid_on=paid_on,
            reference=event.gateway_id,
            # Money the gateway already took from the client: nobody typed the amount, and
            # nobody is there to ask; refusing it would not give it back. What it does not
            # pay stays as credit.
            confirm_large=True,
        )
        row.status = GatewayPaymentStatus.APPLIED
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
