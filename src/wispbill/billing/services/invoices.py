"""Invoices: issuing one by hand, the one constructor a cycle's invoice has, credit, and
cancelling. The daily run's invoices, in bulk, are in `issue`."""

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
from wispbill.billing.debt import debt_changed
from wispbill.billing.models import Invoice, InvoiceLine, InvoiceStatus
from wispbill.billing.selectors import ZERO
from wispbill.billing.services.payments import credit_room_check
from wispbill.clients.models import Client, ClientState
from wispbill.clients.selectors import client_governing_schedule
from wispbill.core.clock import FIRST_DAY, business_day
from wispbill.core.db import locked
from wispbill.core.schedule import BillingSchedule, Cycle, current_cycle, late_dates
from wispbill.staff.permissions import MANAGE_INVOICES, require_permission_of_person

# Days in the text people read (invoice lines, refusals) as they write them: 29/10/2026.
DAY_TEXT = "%d/%m/%Y"


def line_description(plan_name: str, start: date, end: date) -> str:
    return _("Internet service %(plan)s, %(start)s to %(end)s") % {
        "plan": plan_name,
        "start": start.strftime(DAY_TEXT),
        "end": end.strftime(DAY_TEXT),
    }


def cycle_invoice(
    *,
    client_id: int,
    schedule: BillingSchedule,
    cycle: Cycle,
    day: date,
    total: Decimal,
    automatic: bool,
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


@transaction.atomic
def invoice_create_for_cycle(
    *, actor: User | None, client: Client, day: date | None = None
) -> Invoice:
    """Issue by hand the invoice of the cycle current on `day` (default the business day),
    whatever the switches say; refused when that period already has a live invoice."""
    require_permission_of_person(actor, MANAGE_INVOICES)
    day = invoice_day_check(day) if day is not None else business_day()
    client = locked(Client.objects.select_related("zone", "plan")).get(pk=client.pk)
    if client.state in (ClientState.FREE, ClientState.CANCELLED):
        raise ValidationError(
            _("A client that is %(state)s is not invoiced.")
            % {"state": client.get_state_display().lower()}
        )
    schedule = client_governing_schedule(client)
    cycle = current_cycle(schedule, day)
    if (
        Invoice.objects.filter(client=client, period_start=cycle.period_start)
        .exclude(status=InvoiceStatus.CANCELLED)
        .exists()
    ):
        raise ValidationError(
            _("This client already has an invoice for %(start)s to %(end)s.")
            % {
                "start": cycle.period_start.strftime(DAY_TEXT),
                "end": cycle.period_end.strftime(DAY_TEXT),
            }
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
    credit_apply(client=client, invoices=[invoice])
    audit_record(
        actor=actor,
        action=AuditAction.INVOICE_CREATED,
        obj=client,
        changes={"invoice": [None, invoice.pk], "total": [None, str(invoice.total)]},
        reason=gettext_noop("manual: invoice %(id)s"),
        reason_args={"id": invoice.pk},
    )
    return invoice


def credit_apply(*, client: Client, invoices: list[Invoice]) -> None:
    """Use a (locked) client's credit on new invoices, oldest first."""
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
def invoice_cancel(*, actor: User | None, invoice: Invoice) -> Invoice:
    """Cancel a pending invoice; what was paid of it becomes credit."""
    require_permission_of_person(actor, MANAGE_INVOICES)
    invoice = locked(Invoice.objects).get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.PENDING:
        raise ValidationError(_("Only a pending invoice can be cancelled."))
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


# --- the invoice task's bulk entry point -----------------------------------------------------
