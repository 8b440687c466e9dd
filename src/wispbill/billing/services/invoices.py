"""Invoices: issuing one by hand (what it bills, `invoice_draft`, then written by the one
writer the daily run uses too, `writer.invoices_insert`), and cancelling. The daily run's
invoices, in bulk, are in `issue`; both take the pending one-off charges through
`billing.services.charges`."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.billing.charges import cycle_charge, prorated_charge
from wispbill.billing.debt import debt_changed
from wispbill.billing.models import Invoice, InvoiceStatus
from wispbill.billing.selectors import ZERO
from wispbill.billing.services.charges import (
    charge_create,
    charges_to_invoice,
    pending_charges_total,
)
from wispbill.billing.services.payments import credit_room_check
from wispbill.billing.services.writer import (
    DAY_TEXT,
    InvoiceDraft,
    ToWrite,
    charge_description,
    invoices_insert,
)
from wispbill.clients.models import Client, ClientState
from wispbill.core.clock import FIRST_DAY, business_day
from wispbill.core.db import locked
from wispbill.core.models import CompanySettings, FirstInvoice
from wispbill.core.schedule import Cycle, current_cycle, late_dates
from wispbill.staff.permissions import MANAGE_INVOICES, require_permission_of_person

MANUAL_REASON = gettext_noop("manual: invoice %(id)s")


# A manual invoice may be asked for no day before FIRST_DAY, and none more than a year ahead
# (a typo like 2062 for 2026 is refused, not billed).
DAYS_AHEAD = 366


def invoice_day_check(day: date) -> date:
    """The day of a manual invoice, refused (a ValidationError on `date`) when out of range."""
    last = business_day() + timedelta(days=DAYS_AHEAD)
    if not FIRST_DAY <= day <= last:
        raise ValidationError(
            {
                "date": _(
                    "The day must be between %(first)s and %(last)s (at most a year from today)."
                )
                % {
                    "first": date_format(FIRST_DAY),
                    "last": date_format(last),
                }
            }
        )
    return day


def invoice_draft(
    *, client: Client, day: date, charges: bool = False, lock: bool = False
) -> InvoiceDraft:
    """What a manual invoice of `client` on `day` bills: the cycle current on `day` (by the
    company's rule for a first cycle; a person asking bills at least the whole cycle where
    the task would wait for the next one) with the pending charges, or — `charges`, when
    that cycle has its invoice — the pending charges alone. A ValidationError when there is
    nothing to bill."""
    if client.state in (ClientState.FREE, ClientState.CANCELLED):
        raise ValidationError(
            _("A client that is %(state)s is not invoiced.")
            % {"state": client.get_state_display().lower()}
        )
    schedule = client.governing_schedule
    cycle = current_cycle(schedule, day)
    billed = (
        Invoice.objects.filter(client=client, period_start=cycle.period_start, charges_only=False)
        .exclude(status=InvoiceStatus.CANCELLED)
        .exists()
    )
    if billed and not charges:
        raise ValidationError(
            _("This client already has an invoice for %(start)s to %(end)s.")
            % {
                "start": cycle.period_start.strftime(DAY_TEXT),
                "end": cycle.period_end.strftime(DAY_TEXT),
            }
        )
    if billed:
        # The charges alone: an invoice of the day, with the schedule's time to pay.
        cycle = Cycle(
            pay_date=day,
            invoice_date=day,
            notice_date=day,
            due_date=day + timedelta(days=schedule.grace_days),
            period_start=day,
            period_end=day,
        )
        lines = []
    else:
        company = CompanySettings.load()
        first = company.first_invoice
        charge = cycle_charge(
            price=client.plan.price,
            cycle=cycle,
            start_date=client.start_date,
            first_invoice=FirstInvoice.FULL if first == FirstInvoice.NEXT_CYCLE else first,
            suspended_on=None,
            reactivated_on=None,
            policy=company.reactivation_billing,
            invoice_suspended=company.invoice_suspended,
        ) or prorated_charge(price=client.plan.price, cycle=cycle, start=cycle.period_start, why="")
        assert charge is not None  # from the period's first day there is always a charge
        lines = [(charge_description(client.plan.name, charge), charge.total)]
    base = sum((amount for _d, amount in lines), ZERO)
    taken = charges_to_invoice({client.pk: base}, lock=lock).get(client.pk, [])
    if billed and not taken:
        raise ValidationError(
            _("There are no pending charges to invoice now.")
            if not pending_charges_total(client.pk)
            else _(
                "The pending charges are discounts only, and an invoice cannot be negative: "
                "they wait for the next invoice."
            )
        )
    notice, due = late_dates(schedule, cycle, day)
    company = CompanySettings.load()
    return InvoiceDraft(
        period_start=cycle.period_start,
        period_end=cycle.period_end,
        pay_date=cycle.pay_date,
        notice_date=notice,
        due_date=due,
        lines=lines + [(description, amount) for _id, description, amount in taken],
        charges=taken,
        charges_only=billed,
        tax_rate=company.tax_rate,
        prices_include_tax=company.prices_include_tax,
    )


@transaction.atomic
def invoice_create_for_cycle(
    *, actor: User | None, client: Client, day: date | None = None, charges: bool = False
) -> Invoice:
    """Issue by hand, whatever the switches say, the invoice of the cycle current on `day`
    (default the business day) with the client's pending charges — or, with `charges`, when
    that cycle has its invoice, the pending charges alone (`invoice_draft`)."""
    require_permission_of_person(actor, MANAGE_INVOICES)
    day = invoice_day_check(day) if day is not None else business_day()
    client = locked(Client.objects.select_related("zone", "plan")).get(pk=client.pk)
    draft = invoice_draft(client=client, day=day, charges=charges, lock=True)
    invoice_of = invoices_insert(
        [ToWrite(client.pk, client.name, client.credit, draft)],
        actor=actor,
        day=day,
        automatic=False,
        reason=MANUAL_REASON,
        reason_args=lambda _row, invoice_id: {"id": invoice_id},
    )
    return Invoice.objects.get(pk=invoice_of[client.pk])


@transaction.atomic
def charge_invoice_now(
    *, actor: User | None, client: Client, description: str, amount: Decimal
) -> Invoice:
    """Add a one-off charge and invoice it at once (with the current cycle if that has no
    invoice yet, else with the other pending charges alone): both or neither."""
    charge_create(actor=actor, client=client, description=description, amount=amount)
    return invoice_create_for_cycle(actor=actor, client=client, charges=True)


@transaction.atomic
def invoice_cancel_check(actor: User | None, invoice: Invoice) -> None:
    """Who may cancel `invoice`, and whether it can be: PermissionDenied or ValidationError
    (the panel asks before it shows its form, the service before it writes)."""
    require_permission_of_person(actor, MANAGE_INVOICES)
    if invoice.status == InvoiceStatus.CANCELLED:
        raise ValidationError(_("This invoice is already cancelled."))
    if invoice.status != InvoiceStatus.PENDING:
        raise ValidationError(
            _(
                "Only a pending invoice can be cancelled. To cancel this paid one (and its "
                "CFDI), void its payment first: the invoice is then pending again."
            )
        )


def invoice_cancel(*, actor: User | None, invoice: Invoice) -> Invoice:
    """Cancel a pending invoice; what was paid of it becomes credit."""
    require_permission_of_person(actor, MANAGE_INVOICES)
    invoice = locked(Invoice.objects).get(pk=invoice.pk)
    invoice_cancel_check(actor, invoice)
    client = locked(Client.objects.select_related("zone")).get(pk=invoice.client_id)
    invoice.status = InvoiceStatus.CANCELLED
    invoice.cancelled_at = timezone.now()
    refund = invoice.paid_amount
    invoice.save(update_fields=["status", "cancelled_at"])
    if refund:
        credit_room_check(client, refund, field="credit")
        client.credit += refund
        client.save(update_fields=["credit"])
    audit_record(
        actor=actor,
        action=AuditAction.INVOICE_CANCELLED,
        obj=client,
        changes={"invoice": [invoice.pk, None], "credit": [None, str(client.credit)]},
        reason=gettext_noop("invoice %(id)s cancelled"),
        reason_args={"id": invoice.pk},
    )
    debt_changed(actor=actor, client=client, activate_service=None)
    return invoice
