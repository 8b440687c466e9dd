"""Invoices and payments: issuing, cancelling, paying, and what a payment sets in motion."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wispbill.audit.services import audit_record
from wispbill.automation.models import business_today
from wispbill.billing.models import Invoice, InvoiceLine, InvoiceStatus, Payment
from wispbill.billing.models import PaymentAllocation as Allocation
from wispbill.billing.schedule import current_cycle, late_dates
from wispbill.billing.selectors import ZERO, pending_invoices
from wispbill.billing.signals import payment_registered
from wispbill.db import locked


def governing_schedule(client):
    """The schedule that bills a client: its own, or its zone's."""
    return client.schedule if client.billing_type == "own" else client.zone.schedule


def line_description(plan_name: str, start: date, end: date) -> str:
    return _("Internet service %(plan)s, %(start)s to %(end)s") % {
        "plan": plan_name,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }


def cycle_invoice(
    *, client_id: int, schedule, cycle, day: date, total: Decimal, automatic: bool
) -> Invoice:
    """An unsaved invoice of a cycle issued on `day`, with the dates a late one keeps."""
    notice, due = late_dates(schedule, cycle, day)
    return Invoice(
        client_id=client_id,
        period_start=cycle.period_start,
        period_end=cycle.period_end,
        issued_on=day,
        pay_date=cycle.pay_date,
        notice_date=notice,
        due_date=due,
        total=total,
        automatic=automatic,
    )


@transaction.atomic
def invoice_create_for_cycle(*, actor, client, day: date | None = None) -> Invoice:
    """Issue by hand the invoice of the cycle current on `day` (default today), whatever the
    switches say; refused when that period already has a live invoice."""
    from wispbill.clients.models import Client

    day = day or business_today()
    client = locked(Client.objects.select_related("zone", "plan")).get(pk=client.pk)
    if client.state in ("free", "cancelled"):
        raise ValidationError(
            _("A client that is %(state)s is not invoiced.")
            % {"state": client.get_state_display().lower()}
        )
    schedule = governing_schedule(client)
    cycle = current_cycle(schedule, day)
    if Invoice.objects.filter(
        client=client, period_start=cycle.period_start, status__in=["pending", "paid"]
    ).exists():
        raise ValidationError(
            _("This client already has an invoice for %(start)s to %(end)s.")
            % {"start": cycle.period_start, "end": cycle.period_end}
        )
    invoice = cycle_invoice(
        client_id=client.pk,
        schedule=schedule,
        cycle=cycle,
        day=day,
        total=client.plan.price,
        automatic=False,
    )
    invoice.save()
    InvoiceLine.objects.create(
        invoice=invoice,
        description=line_description(client.plan.name, cycle.period_start, cycle.period_end),
        amount=client.plan.price,
    )
    apply_credit(client=client, invoices=[invoice])
    audit_record(
        actor=actor,
        action="invoice.created",
        obj=client,
        changes={"invoice": [None, invoice.pk], "total": [None, str(invoice.total)]},
        reason=_("manual: invoice %(id)s") % {"id": invoice.pk},
    )
    return invoice


def apply_credit(*, client, invoices: list[Invoice]) -> None:
    """Use the client's credit on new invoices, oldest first (the caller holds the row)."""
    for invoice in invoices:
        if client.credit <= ZERO:
            break
        used = min(client.credit, invoice.outstanding)
        invoice.paid_amount += used
        client.credit -= used
        if invoice.paid_amount == invoice.total:
            invoice.status = InvoiceStatus.PAID
        invoice.save(update_fields=["paid_amount", "status"])
    client.save(update_fields=["credit"])


@transaction.atomic
def invoice_cancel(*, actor, invoice: Invoice) -> Invoice:
    """Cancel a pending invoice; what was paid of it becomes credit."""
    from wispbill.clients.models import Client
    from wispbill.clients.services import after_debt_change

    invoice = locked(Invoice.objects).get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.PENDING:
        raise ValidationError(_("Only a pending invoice can be cancelled."))
    client = locked(Client.objects.select_related("zone")).get(pk=invoice.client_id)
    invoice.status = InvoiceStatus.CANCELLED
    invoice.cancelled_at = timezone.now()
    refund = invoice.paid_amount
    invoice.save(update_fields=["status", "cancelled_at"])
    if refund:
        client.credit += refund
        client.save(update_fields=["credit"])
    audit_record(
        actor=actor,
        action="invoice.cancelled",
        obj=client,
        changes={"invoice": [invoice.pk, None], "credit": [None, str(client.credit)]},
        reason=_("invoice %(id)s cancelled") % {"id": invoice.pk},
    )
    after_debt_change(actor=actor, client=client, activate_service=False)
    return invoice


@transaction.atomic
def payment_register(
    *,
    actor,
    client,
    amount: Decimal,
    method: str = "cash",
    activate_service: bool | None = None,
    note: str = "",
) -> Payment:
    """Register a payment: it pays the oldest pending invoices first, the rest is credit."""
    from wispbill.audit.services import actor_name_of
    from wispbill.clients.models import Client
    from wispbill.clients.services import after_debt_change

    if amount is None or amount <= ZERO:
        raise ValidationError({"amount": [_("The amount must be greater than zero.")]})
    client = locked(Client.objects.select_related("zone")).get(pk=client.pk)
    if activate_service is None:
        activate_service = client.auto_activate_on_payment
    payment = Payment.objects.create(
        client=client,
        amount=amount,
        method=method,
        received_at=timezone.now(),
        activate_service=activate_service,
        actor_name=actor_name_of(actor),
        note=note,
    )
    left = amount
    paid_invoices = []
    for invoice in locked(pending_invoices(client)):
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
        client.credit += left
        payment.credit_added = left
        payment.save(update_fields=["credit_added"])
        client.save(update_fields=["credit"])
    audit_record(
        actor=actor,
        action="payment.registered",
        obj=client,
        changes={
            "payment": [None, str(amount)],
            "invoices": [None, paid_invoices],
            "credit": [None, str(client.credit)],
        },
        reason=_("payment %(id)s") % {"id": payment.pk},
    )
    after_debt_change(actor=actor, client=client, activate_service=activate_service)
    payment_registered.send(sender=Payment, payment=payment, actor=actor)
    return payment
