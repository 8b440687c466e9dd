"""Payments: what a payment pays, the credit it leaves, and what it sets in motion."""

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import actor_name_of, audit_record
from wispbill.billing.debt import debt_changed
from wispbill.billing.models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from wispbill.billing.models import PaymentAllocation as Allocation
from wispbill.billing.selectors import ZERO, client_balance
from wispbill.billing.signals import payment_registered
from wispbill.clients.models import Client
from wispbill.core.clock import first_day_check, today
from wispbill.core.db import locked
from wispbill.core.formatting import money
from wispbill.core.models import MAX_MONEY
from wispbill.staff.permissions import (
    CODENAMES,
    MANAGE_INVOICES,
    REGISTER_PAYMENTS,
    has_permission,
    require_permission_of_person,
)

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


def payment_large_question(*, client: Client, amount: Decimal) -> str | None:
    """The question to ask before registering a payment far above what the client owes (more
    than twice its balance plus a month of its plan), or None when the amount looks right: a
    slip of the finger (3990 for 399) is caught before it becomes credit."""
    owed = client_balance(client)
    if amount <= 2 * max(owed, ZERO) + client.plan.price:
        return None
    if owed <= ZERO:
        return _("The client owes nothing; you are about to register %(amount)s. Confirm?") % {
            "amount": money(amount)
        }
    return _("The client owes %(owed)s; you are about to register %(amount)s. Confirm?") % {
        "owed": money(owed),
        "amount": money(amount),
    }


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
    confirm_large: bool = True,
) -> Payment:
    """Register a payment received on `paid_on` (default today; never a day to come): it pays
    the oldest pending invoices first, the rest is credit. `activate_service` (default: the
    client's `auto_activate_on_payment`) gives a suspended client the service back at once;
    False keeps it cut until someone reactivates it. A person typing the amount (the panel,
    the API) passes `confirm_large` False until asked `payment_large_question`."""
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
    if not confirm_large and (question := payment_large_question(client=client, amount=amount)):
        raise ValidationError({"confirm_large": [question]}, code="confirm_large")
    payment = Payment.objects.create(
        client=client,
        amount=amount,
        method=method,
        received_at=timezone.now(),
        paid_on=paid_on,
        reference=reference.strip(),
        activate_service=activate_service,
        actor_name=actor_name_of(actor),
        registered_by=actor,
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


# --- correcting a payment --------------------------------------------------------------------

VOID_REASON_MAX = Payment._meta.get_field("void_reason").max_length


def payment_void_permission_check(actor: User | None, payment: Payment) -> None:
    """Whoever registered a payment may void it the same day with `register_payments`; any
    other void (someone else's payment, an earlier day) needs `manage_invoices`."""
    if actor is None or has_permission(actor, MANAGE_INVOICES):
        return
    own_today = (
        payment.registered_by_id == actor.pk
        and timezone.localtime(payment.received_at).date() == today()
    )
    if own_today and has_permission(actor, REGISTER_PAYMENTS):
        return
    raise PermissionDenied(
        _(
            'You do not have the permission "%(permission)s" to void this payment (without '
            "it, only who registered a payment can void it, the same day); nothing was "
            "changed."
        )
        % {"permission": CODENAMES[MANAGE_INVOICES]}
    )


def _take_back(invoice: Invoice, amount: Decimal, reopened: list[int]) -> Decimal:
    """Take up to `amount` off what an invoice was paid; a paid invoice is pending again (noted
    in `reopened`), its notice and cut due again for the next run to decide. Returns what was
    taken."""
    part = min(amount, invoice.paid_amount)
    invoice.paid_amount -= part
    if invoice.status == InvoiceStatus.PAID and part:
        invoice.status = InvoiceStatus.PENDING
        invoice.notice_shown_on = None
        invoice.cut_on = None
        reopened.append(invoice.pk)
    invoice.save(update_fields=["paid_amount", "status", "notice_shown_on", "cut_on"])
    return part


def _money_back(payment: Payment) -> tuple[Client, Decimal, list[int]]:
    """The money rule of a void and a reversal: the payment's money goes back off the invoices
    it paid (pending again) and off the credit it made (credit already spent on later invoices
    comes off those). Returns the client (locked), its credit before, the invoices reopened."""
    client = locked(Client.objects.select_related("zone")).get(pk=payment.client_id)
    credit_before = client.credit
    allocations = {a.invoice_id: a.amount for a in payment.allocations.all()}
    from_credit = payment.credit_added
    reopened: list[int] = []
    for invoice in locked(Invoice.objects.filter(pk__in=allocations)).order_by("id"):
        back = allocations[invoice.pk]
        # A cancelled invoice already gave what it was paid back as credit.
        if invoice.status != InvoiceStatus.CANCELLED:
            back -= _take_back(invoice, back, reopened)
        from_credit += back
    kept = min(client.credit, from_credit)
    client.credit -= kept
    client.save(update_fields=["credit"])
    spent = from_credit - kept
    # Credit already spent paid the newest invoices: they owe that money again.
    paid = Invoice.objects.filter(client=client, paid_amount__gt=0).exclude(
        status=InvoiceStatus.CANCELLED
    )
    for invoice in locked(paid).order_by("-due_date", "-pay_date", "-id"):
        if spent <= ZERO:
            break
        spent -= _take_back(invoice, spent, reopened)
    return client, credit_before, reopened


@transaction.atomic
def payment_void(*, actor: User | None, payment: Payment, reason: str) -> Payment:
    """Void a payment: its money goes back off the invoices it paid (pending again) and off
    the credit it made (credit already spent on later invoices comes off those). Nothing is cut
    by the void itself; the next run decides."""
    payment = locked(Payment.objects).get(pk=payment.pk)
    payment_void_permission_check(actor, payment)
    if payment.status != PaymentStatus.APPLIED:
        raise ValidationError(
            _("This payment is already %(status)s; it cannot be voided.")
            % {"status": payment.get_status_display().lower()}
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the payment is voided.")]})
    if len(reason) > VOID_REASON_MAX:
        raise ValidationError(
            {"reason": [_("At most %(max)s characters.") % {"max": VOID_REASON_MAX}]}
        )
    client, credit_before, reopened = _money_back(payment)
    payment.status = PaymentStatus.VOIDED
    payment.voided_at = timezone.now()
    payment.voided_on = today()
    payment.void_reason = reason
    payment.voided_by_name = actor_name_of(actor)
    payment.save(
        update_fields=["status", "voided_at", "voided_on", "void_reason", "voided_by_name"]
    )
    audit_record(
        actor=actor,
        action=AuditAction.PAYMENT_VOIDED,
        obj=client,
        changes={
            "payment": [str(payment.amount), None],
            "voided_payment": [payment.pk, None],
            "invoices_reopened": [None, sorted(set(reopened))],
            "credit": [str(credit_before), str(client.credit)],
        },
        reason=reason,
    )
    debt_changed(actor=actor, client=client, activate_service=None)
    return payment


@transaction.atomic
def payment_reverse(*, actor: User | None, payment: Payment, reason: str) -> Payment:
    """A gateway took a payment's money back (a refund, a chargeback): the void's money rule,
    status reversed, its own audit event. Nothing is cut by it; the next run decides. A payment
    already reversed or voided stays as it is."""
    payment = locked(Payment.objects).get(pk=payment.pk)
    if payment.status != PaymentStatus.APPLIED:
        return payment
    client, credit_before, reopened = _money_back(payment)
    payment.status = PaymentStatus.REVERSED
    payment.voided_at = timezone.now()
    payment.voided_on = today()
    payment.void_reason = reason[:VOID_REASON_MAX]
    payment.voided_by_name = actor_name_of(actor)
    payment.save(
        update_fields=["status", "voided_at", "voided_on", "void_reason", "voided_by_name"]
    )
    audit_record(
        actor=actor,
        action=AuditAction.PAYMENT_REVERSED,
        obj=client,
        changes={
            "payment": [str(payment.amount), None],
            "reversed_payment": [payment.pk, None],
            "reference": [payment.reference, None],
            "invoices_reopened": [None, sorted(set(reopened))],
            "credit": [str(credit_before), str(client.credit)],
        },
        reason=payment.void_reason,
    )
    debt_changed(actor=actor, client=client, activate_service=None)
    return payment
