"""Payments: what a payment pays, the credit it leaves, and what it sets in motion."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import actor_name_of, audit_record, audit_record_many
from wispbill.billing.debt import debt_changed, debts_changed
from wispbill.billing.models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from wispbill.billing.models import PaymentAllocation as Allocation
from wispbill.billing.selectors import ZERO, client_balance
from wispbill.billing.signals import payment_registered, payments_registered
from wispbill.clients.models import Client
from wispbill.core.clock import day_of, first_day_check, today
from wispbill.core.db import among, bulk_set, locked, max_length_of
from wispbill.core.formatting import money
from wispbill.core.models import MAX_MONEY
from wispbill.staff.permissions import (
    CODENAMES,
    MANAGE_INVOICES,
    REGISTER_PAYMENTS,
    has_permission,
    require_permission_of_person,
)

BULK = 1_000
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


@dataclass(frozen=True)
class PaymentRow:
    """One payment to apply: who paid, how much, how, and on which day."""

    client_id: int
    amount: Decimal
    method: str = PaymentMethod.CASH
    paid_on: date | None = None
    reference: str = ""
    activate_service: bool | None = None  # None: the client's auto_activate_on_payment
    note: str = ""


def _row_check(row: PaymentRow, day: date) -> date:
    """A row's amount and day checked as a person typing them is; returns its day."""
    if row.amount is None or row.amount <= ZERO:
        raise ValidationError({"amount": [_("The amount must be greater than zero.")]})
    if row.amount > MAX_MONEY:
        raise ValidationError(
            {"amount": [_("The amount can be at most %(max)s.") % {"max": money(MAX_MONEY)}]}
        )
    paid_on = row.paid_on or day
    first_day_check(paid_on, "paid_on")
    if paid_on > day:
        raise ValidationError({"paid_on": [_("The payment date cannot be in the future.")]})
    return paid_on


@transaction.atomic
def payments_apply(*, actor: User | None, rows: Sequence[PaymentRow]) -> list[Payment]:
    """The payment rule, for one payment or ten thousand, in a few queries per thousand: each
    row, in order, pays its client's oldest pending invoices first and leaves the rest as
    credit; then each client's debt changes once (notice, promise, reactivation per the rows'
    `activate_service`), every payment is audited and its receipt queued, and the routers
    follow after the commit. Returns the payments, in the rows' order."""
    require_permission_of_person(actor, REGISTER_PAYMENTS)
    day = today()
    days = [_row_check(row, day) for row in rows]
    ids = sorted({row.client_id for row in rows})
    clients = {
        client.pk: client
        for client in locked(
            Client.objects.select_related("zone").filter(pk__in=among(ids))
        ).order_by("id")
    }
    pending: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in locked(
        Invoice.objects.pending().filter(client_id__in=among(ids)).oldest_first()
    ):
        pending[invoice.client_id].append(invoice)
    now, name = timezone.now(), actor_name_of(actor)
    payments, parts, changed, activate = [], [], {}, defaultdict(list)
    for row, paid_on in zip(rows, days, strict=True):
        client = clients[row.client_id]
        wants = (
            client.auto_activate_on_payment
            if row.activate_service is None
            else row.activate_service
        )
        activate[client.pk].append(wants)
        left, paid_invoices, mine = row.amount, [], []
        for invoice in pending[client.pk]:
            if left <= ZERO:
                break
            if invoice.status != InvoiceStatus.PENDING:
                continue
            part = min(left, invoice.outstanding)
            invoice.pay(part)
            changed[invoice.pk] = invoice
            mine.append((invoice, part))
            paid_invoices.append(invoice.pk)
            left -= part
        if left > ZERO:
            credit_room_check(client, left, field="amount")
            client.credit += left
        payments.append(
            Payment(
                client=client,
                amount=row.amount,
                method=row.method,
                received_at=now,
                paid_on=paid_on,
                reference=row.reference.strip(),
                activate_service=wants,
                actor_name=name,
                registered_by=actor,
                note=row.note,
                credit_added=max(left, ZERO),
            )
        )
        parts.append((mine, paid_invoices, client.credit))
    Payment.objects.bulk_create(payments, batch_size=BULK)
    bulk_set(list(changed.values()), ["paid_amount", "status"])
    Allocation.objects.bulk_create(
        [
            Allocation(payment=payment, invoice=invoice, amount=part)
            for payment, (mine, _ids, _credit) in zip(payments, parts, strict=True)
            for invoice, part in mine
        ],
        batch_size=BULK,
    )
    credited = [clients[i] for i in {p.client_id for p in payments if p.credit_added}]
    bulk_set(credited, ["credit"])
    audit_record_many(
        actor=actor,
        action=AuditAction.PAYMENT_REGISTERED,
        object_type="client",
        rows=(
            (
                payment.client_id,
                str(payment.client),
                {
                    "payment": [None, str(payment.amount)],
                    "method": [None, payment.method],
                    "paid_on": [None, payment.paid_on.isoformat()],
                    **({"reference": [None, payment.reference]} if payment.reference else {}),
                    "invoices": [None, paid_invoices],
                    "credit": [None, str(credit)],
                },
                {"id": payment.pk},
            )
            for payment, (_mine, paid_invoices, credit) in zip(payments, parts, strict=True)
        ),
        reason=gettext_noop("payment %(id)s"),
    )
    # Rows in order, as one payment after another: any that reactivates gives the service
    # back; otherwise one that only registers keeps the client cut.
    debts_changed(
        actor=actor,
        clients=[clients[client_id] for client_id in activate],
        activate={
            client_id: True if True in wanted else (False if False in wanted else None)
            for client_id, wanted in activate.items()
        },
    )
    payments_registered.send(sender=Payment, payments=payments, actor=actor)
    for payment in payments:
        payment_registered.send(sender=Payment, payment=payment, actor=actor)
    return payments


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
    confirm_large: bool = False,
) -> Payment:
    """Register a payment received on `paid_on` (default today; never a day to come) by the
    payment rule (`payments_apply`): it pays the oldest pending invoices first, the rest is
    credit. `activate_service` (default: the client's `auto_activate_on_payment`) gives a
    suspended client the service back at once; False keeps it cut until someone reactivates
    it. An amount far above the debt (`payment_large_question`) is refused until the caller
    says it confirmed it (`confirm_large`): a person after the question, or a caller whose
    amount nobody typed (a gateway's, a bank's), saying why."""
    require_permission_of_person(actor, REGISTER_PAYMENTS)
    row = PaymentRow(
        client_id=client.pk,
        amount=amount,
        method=method,
        paid_on=paid_on,
        reference=reference,
        activate_service=activate_service,
        note=note,
    )
    _row_check(row, today())
    client = locked(Client.objects.select_related("zone")).get(pk=client.pk)
    if not confirm_large and (question := payment_large_question(client=client, amount=amount)):
        raise ValidationError({"confirm_large": [question]}, code="confirm_large")
    [payment] = payments_apply(actor=actor, rows=[row])
    return payment


# --- correcting a payment --------------------------------------------------------------------

VOID_REASON_MAX = max_length_of(Payment, "void_reason")


def payment_void_permission_check(actor: User | None, payment: Payment) -> None:
    """Whoever registered a payment may void it the same day with `register_payments`; any
    other void (someone else's payment, an earlier day) needs `manage_invoices`."""
    if actor is None or has_permission(actor, MANAGE_INVOICES):
        return
    own_today = payment.registered_by_id == actor.pk and day_of(payment.received_at) == today()
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
