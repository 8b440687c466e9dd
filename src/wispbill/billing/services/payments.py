"""Payments: what a payment pays, the credit it leaves, and what it sets in motion."""

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import actor_name_of, audit_record
from wispbill.billing.debt import debt_changed
from wispbill.billing.models import Invoice, InvoiceStatus, Payment, PaymentMethod
from wispbill.billing.models import PaymentAllocation as Allocation
from wispbill.billing.selectors import ZERO
from wispbill.billing.signals import payment_registered
from wispbill.clients.models import Client
from wispbill.core.clock import first_day_check, today
from wispbill.core.db import locked
from wispbill.core.formatting import money
from wispbill.core.models import MAX_MONEY
from wispbill.staff.permissions import REGISTER_PAYMENTS, require_permission_of_person

CREDIT_LIMIT = Decimal(10) ** (Client._meta.get_field("credit").max_digits - 2) - Decimal("0.01")


def credit_room_check(client: Client, added: Decimal, *, field: str) -> None:
    """A client's credit stays within its column: what would go past it is refused, so no
    later page or payment of that client can fail."""
    if client.credit + added > CREDIT_LIMIT:
        raise ValidationError(
            {
                field: [
                    _(
                        "The client's credit would go past %(max)s, the most it can hold; "
                        "nothing was changed."
                    )
                    % {"max": money(CREDIT_LIMIT)}
                ]
            }
        )


@transaction.atomic
def payment_register(
    *,
    actor: User | None,
    client: Client,
    amount: Decimal,
    method: str = PaymentMethod.CASH,
    activate_service: bool | None = None,
    note: str = "",
    paid_on: date | None = None,
    reference: str = "",
) -> Payment:
    """Register a payment received on `paid_on` (default today; never a day to come): it pays
    the oldest pending invoices first, the rest is credit. `activate_service` (default: the
    client's `auto_activate_on_payment`) gives a suspended client the service back at once;
    False keeps it cut until someone reactivates it."""
    require_permission_of_person(actor, REGISTER_PAYMENTS)
    if amount is None or amount <= ZERO:
        raise ValidationError({"amount": [_("The amount must be greater than zero.")]})
    if amount > MAX_MONEY:
        raise ValidationError(
            {"amount": [_("The amount can be at most %(max)s.") % {"max": money(MAX_MONEY)}]}
        )
    paid_on = paid_on or today()
    first_day_check(paid_on, "paid_on")
    if paid_on > today():
        raise ValidationError({"paid_on": [_("The payment date cannot be in the future.")]})
    client = locked(Client.objects.select_related("zone")).get(pk=client.pk)
    if activate_service is None:
        activate_service = client.auto_activate_on_payment
    payment = Payment.objects.create(
        client=client,
        amount=amount,
        method=method,
        received_at=timezone.now(),
        paid_on=paid_on,
        reference=reference.strip(),
        activate_service=activate_service,
        actor_name=actor_name_of(actor),
        note=note,
    )
    left = amount
    paid_invoices = []
    for invoice in locked(Invoice.objects.pending().filter(client=client).oldest_first()):
        if left <= ZERO:
            break
        part = min(left, invoice.outstanding)
        invoice.paid_amount += part
        if invoice.paid_amount == invoice.total:
            invoice.status = InvoiceStatus.PAID
        invoice.save(update_fields=["paid_amount", "status"])
        Allocation.objects.create(payment=payment, invoice=invoice, amount=part)
        paid_invoices.append(invoice.pk)
        left -= part
    if left > ZERO:
        credit_room_check(client, left, field="amount")
        client.credit += left
        payment.credit_added = left
        payment.save(update_fields=["credit_added"])
        client.save(update_fields=["credit"])
    audit_record(
        actor=actor,
        action=AuditAction.PAYMENT_REGISTERED,
        obj=client,
        changes={
            "payment": [None, str(amount)],
            "method": [None, method],
            "paid_on": [None, paid_on.isoformat()],
            **({"reference": [None, payment.reference]} if payment.reference else {}),
            "invoices": [None, paid_invoices],
            "credit": [None, str(client.credit)],
        },
        reason=gettext_noop("payment %(id)s"),
        reason_args={"id": payment.pk},
    )
    debt_changed(actor=actor, client=client, activate_service=activate_service)
    payment_registered.send(sender=Payment, payment=payment, actor=actor)
    return payment
