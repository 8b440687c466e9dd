"""Invoices: issuing one by hand, the one constructor a cycle's invoice has, credit, and
cancelling."""

import functools
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record, audit_record_many
from wispbill.billing.charges import Charge, cycle_charge
from wispbill.billing.debt import BatchHook, debt_changed
from wispbill.billing.models import Invoice, InvoiceLine, InvoiceStatus
from wispbill.billing.selectors import ZERO, invoice_due
from wispbill.billing.services.payments import credit_room_check
from wispbill.clients.models import Client, ClientState
from wispbill.clients.selectors import client_governing_schedule
from wispbill.core.clock import business_day
from wispbill.core.db import bulk_insert, locked
from wispbill.core.models import CompanySettings
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


@transaction.atomic
def invoice_create_for_cycle(
    *, actor: User | None, client: Client, day: date | None = None
) -> Invoice:
    """Issue by hand the invoice of the cycle current on `day` (default the business day),
    whatever the switches say; refused when that period already has a live invoice."""
    require_permission_of_person(actor, MANAGE_INVOICES)
    day = day or business_day()
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

BATCH = 5000
AUTOMATIC_REASON = gettext_noop("automatic: invoice for %(start)s to %(end)s")
INVOICE_COLUMNS = (
    "client",
    "period_start",
    "period_end",
    "issued_on",
    "pay_date",
    "notice_date",
    "due_date",
    "total",
    "paid_amount",
    "status",
    "automatic",
    "cut_exempt",
    "created_at",
)


ROW = ("id", "name", "plan__name", "plan__price", "credit", "suspended_on", "reactivated_on")


def invoices_issue(
    *,
    clients: QuerySet,
    schedule: BillingSchedule,
    day: date,
    company: CompanySettings,
    on_batch: BatchHook | None = None,
) -> list[int]:
    """Create, for every client `invoice_due` selects, the invoice of the cycle current on
    `day` under `schedule`, in batches that each commit with their lines, credit and audit
    events (and whatever `on_batch` adds, given the batch's (client, invoice) pairs).
    Returns the clients invoiced."""
    cycle = current_cycle(schedule, day)
    notice, due = late_dates(schedule, cycle, day)
    due_rows = invoice_due(clients, cycle, company).order_by("id").values_list(*ROW)
    rows = list(due_rows)
    created = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        try:
            created += _issue_batch(batch, cycle, day, notice, due, company, on_batch)
        except IntegrityError:
            # Another process billed some of these between our read and our write (the
            # unique constraint refused the whole batch): read them again and bill the rest.
            fresh = list(due_rows.filter(pk__in=[row[0] for row in batch]))
            created += _issue_batch(fresh, cycle, day, notice, due, company, on_batch)
    return created


def _issue_batch(
    rows: list[tuple],
    cycle: Cycle,
    day: date,
    notice: date,
    due: date,
    company: CompanySettings,
    on_batch: BatchHook | None,
) -> list[int]:
    """One batch of (`ROW`) clients, in one transaction: invoices, lines, credit and audit
    events written in bulk."""
    with transaction.atomic():
        # Credit is read again, locked, where there is any: a payment may have added some.
        credit_of = (
            dict(
                locked(
                    Client.objects.filter(pk__in=[row[0] for row in rows if row[4]])
                ).values_list("id", "credit")
            )
            if any(row[4] for row in rows)
            else {}
        )
        now = timezone.now()
        billed = []
        for client_id, name, plan, price, _credit, suspended_on, reactivated_on in rows:
            charge = cycle_charge(
                price=price,
                cycle=cycle,
                suspended_on=suspended_on,
                reactivated_on=reactivated_on,
                policy=company.reactivation_billing,
                invoice_suspended=company.invoice_suspended,
            )
            if charge is not None:
                credit = credit_of.get(client_id, ZERO)
                paid = min(credit, charge.total)
                billed.append((client_id, name, plan, charge, credit, paid))
        if not billed:
            return []
        bulk_insert(
            Invoice,
            INVOICE_COLUMNS,
            (
                (
                    client_id,
                    cycle.period_start,
                    cycle.period_end,
                    day,
                    cycle.pay_date,
                    notice,
                    due,
                    charge.total,
                    paid,
                    InvoiceStatus.PAID if paid == charge.total else InvoiceStatus.PENDING,
                    True,
                    False,
                    now,
                )
                for client_id, _n, _p, charge, _c, paid in billed
            ),
        )
        invoice_of = dict(
            Invoice.objects.filter(
                client_id__in=[row[0] for row in billed],
                period_start=cycle.period_start,
                automatic=True,
            ).values_list("client_id", "id")
        )
        describe = functools.cache(charge_description)  # most rows share plan and period
        bulk_insert(
            InvoiceLine,
            ("invoice", "description", "amount"),
            (
                (invoice_of[client_id], describe(plan, charge), charge.total)
                for client_id, _n, plan, charge, _c, _p in billed
            ),
        )
        credit_left = [
            (credit - paid, client_id) for client_id, _n, _p, _c, credit, paid in billed if paid
        ]
        if credit_left:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {Client._meta.db_table} SET credit = %s WHERE id = %s", credit_left
                )
        audit_record_many(
            actor=None,
            action=AuditAction.INVOICE_CREATED,
            object_type="client",
            rows=(
                (
                    client_id,
                    name,
                    {"invoice": [None, invoice_of[client_id]], "total": [None, str(charge.total)]},
                )
                for client_id, name, _p, charge, _c, _paid in billed
            ),
            reason=AUTOMATIC_REASON,
            reason_args={
                "start": cycle.period_start.isoformat(),
                "end": cycle.period_end.isoformat(),
            },
        )
        if on_batch:
            on_batch([(row[0], invoice_of[row[0]]) for row in billed])
    return [row[0] for row in billed]


def charge_description(plan_name: str, charge: Charge) -> str:
    """The invoice line of a charge; a prorated one says so."""
    text = line_description(plan_name, charge.start, charge.end)
    if charge.prorated:
        text += " " + _("(prorated from the reactivation)")
    return text
