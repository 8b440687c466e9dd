"""The invoice task of the daily run: every due client of a schedule invoiced in batches,
each written in bulk with its lines, credit and audit events."""

import functools
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record_many
from wispbill.billing.charges import Charge, cycle_charge
from wispbill.billing.debt import BatchHook
from wispbill.billing.models import Invoice, InvoiceLine, InvoiceStatus
from wispbill.billing.selectors import ZERO, invoice_due
from wispbill.billing.services.invoices import line_description
from wispbill.clients.models import Client
from wispbill.core.db import JSONText, among, bulk_insert, locked
from wispbill.core.models import CompanySettings
from wispbill.core.schedule import BillingSchedule, Cycle, current_cycle, late_dates

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
            fresh = list(due_rows.filter(pk__in=among([row[0] for row in batch])))
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
                    Client.objects.filter(pk__in=among([row[0] for row in rows if row[4]]))
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
                client_id__in=among([row[0] for row in billed]),
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
                    JSONText(
                        f'{{"invoice": [null, {invoice_of[client_id]:d}], '
                        f'"total": [null, "{charge.total}"]}}'
                    ),
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
