"""The invoice task of the daily run: the due clients of each schedule read in one query,
then invoiced in batches that may mix schedules (a run over many small schedules writes a few
large batches), each committed with its lines, credit and audit events. What a client is
billed is decided here; the invoices are written by `writer.invoices_insert`, the same writer
as an invoice made by hand."""

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from wispbill.billing.charges import CycleCharge, billing_start, cycle_charge
from wispbill.billing.debt import BatchHook, batch_hold
from wispbill.billing.models import Invoice
from wispbill.billing.selectors import billed_since, billed_states, invoice_due
from wispbill.billing.services.charges import charges_to_invoice
from wispbill.billing.services.writer import (
    InvoiceDraft,
    ToWrite,
    charge_description,
    invoices_insert,
)
from wispbill.billing.signals import run_batch_starting
from wispbill.clients.models import Client, Plan
from wispbill.core.db import JSONText, among
from wispbill.core.models import CompanySettings
from wispbill.core.schedule import BillingSchedule, Cycle, current_cycle, late_dates
from wispbill.core.switches import Task

BATCH = 5000
AUTOMATIC_REASON = gettext_noop("automatic: invoice for %(start)s to %(end)s")
# The plan by id: a run's clients share a few plans, read once per batch (a join and a money
# conversion per row were 5% of the run).
ROW = (
    "id",
    "name",
    "plan_id",
    "credit",
    "start_date",
    "suspended_on",
    "reactivated_on",
    "paid_until",
)


@dataclass(frozen=True)
class Terms:
    """What a schedule bills on a day: the current cycle, and the invoice's notice and due
    dates."""

    cycle: Cycle
    notice: date
    due: date

    @functools.cached_property
    def reason_args(self) -> JSONText:
        """The values of the invoices' audit reason (`AUTOMATIC_REASON`), encoded once."""
        start, end = self.cycle.period_start, self.cycle.period_end
        return JSONText(f'{{"start": "{start.isoformat()}", "end": "{end.isoformat()}"}}')

    @classmethod
    def of(cls, schedule: BillingSchedule, day: date) -> "Terms":
        cycle = current_cycle(schedule, day)
        return cls(cycle, *late_dates(schedule, cycle, day))


class DueRow(NamedTuple):
    """A client to invoice (`ROW`'s values), with the terms it is billed on (a tuple: a run
    holds a hundred thousand of them)."""

    client_id: int
    name: str
    plan_id: int
    credit: Decimal
    start_date: date
    suspended_on: date | None
    reactivated_on: date | None
    paid_until: date | None
    terms: Terms


def invoices_due(
    clients: QuerySet[Client], schedule: BillingSchedule, day: date, company: CompanySettings
) -> list[DueRow]:
    """The clients of `clients` (all billed with `schedule`) that `invoice_due` selects on
    `day`, as rows for `invoices_write`, in one query."""
    terms = Terms.of(schedule, day)
    rows = invoice_due(clients, terms.cycle, company).order_by("id").values_list(*ROW)
    return [DueRow._make((*row, terms)) for row in rows]


def invoices_write(
    rows: list[DueRow],
    *,
    day: date,
    company: CompanySettings,
    on_batch: BatchHook | None = None,
) -> list[int]:
    """Invoice `rows` (any mix of terms) in batches that each commit with their lines, credit
    and audit events (and whatever `on_batch` adds, given the batch's (client, invoice)
    pairs). Returns the clients invoiced."""
    created = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        run_batch_starting.send(sender=Client, task=Task.INVOICES, ids=[r.client_id for r in batch])
        try:
            created += _issue_batch(batch, day, company, on_batch)
        except IntegrityError:
            # Another process billed some of these between our read and our write (the
            # unique constraint refused the whole batch): bill the rest.
            created += _issue_batch(_not_invoiced(batch), day, company, on_batch)
    return created


def _not_invoiced(rows: list[DueRow]) -> list[DueRow]:
    """The rows whose client has no invoice yet for its cycle."""
    invoiced = set(
        Invoice.objects.filter(
            client_id__in=among([row.client_id for row in rows]),
            period_start__in={row.terms.cycle.period_start for row in rows},
            charges_only=False,
        ).values_list("client_id", "period_start")
    )
    return [r for r in rows if (r.client_id, r.terms.cycle.period_start) not in invoiced]


def _still_due(rows: list[DueRow], company: CompanySettings) -> list[DueRow]:
    """The rows whose client, held and read again inside the batch's transaction, is still
    billed by the task (its state, its switch, its start, what it paid for before), with what
    it holds now (its credit, plan, start, cut and reactivation days): a payment, a
    cancellation or a switch that committed since the run read them wins."""
    batch_hold([row.client_id for row in rows])
    fresh = {
        values[0]: values
        for values in Client.objects.filter(
            pk__in=among([row.client_id for row in rows]), state__in=billed_states(company)
        )
        .governed_by(Task.INVOICES)
        .values_list(*ROW)
    }
    start, paid = ROW.index("start_date"), ROW.index("paid_until")
    return [
        DueRow._make((*fresh[row.client_id], row.terms))
        for row in rows
        if row.client_id in fresh
        and billing_start(fresh[row.client_id][start], fresh[row.client_id][paid])
        <= billed_since(row.terms.cycle, company)
    ]


def _issue_batch(
    rows: list[DueRow], day: date, company: CompanySettings, on_batch: BatchHook | None
) -> list[int]:
    """One batch of clients, in one transaction: invoices, lines, credit and audit events
    written in bulk."""
    if not rows:
        return []
    with transaction.atomic():
        rows = _still_due(rows, company)
        plan_of = {
            pk: (name, price)
            for pk, name, price in Plan.objects.filter(
                pk__in={row.plan_id for row in rows}
            ).values_list("id", "name", "price")
        }
        billed: list[tuple[DueRow, CycleCharge]] = []
        for row in rows:
            charge = cycle_charge(
                price=plan_of[row.plan_id][1],
                cycle=row.terms.cycle,
                start_date=billing_start(row.start_date, row.paid_until),
                first_invoice=company.first_invoice,
                suspended_on=row.suspended_on,
                reactivated_on=row.reactivated_on,
                policy=company.reactivation_billing,
                invoice_suspended=company.invoice_suspended,
            )
            if charge is not None:
                billed.append((row, charge))
        if not billed:
            return []
        # The clients' pending one-off charges join their invoices; the one writer taxes
        # the lines, applies the credit and audits, as it does for an invoice by hand.
        taken = charges_to_invoice({row.client_id: charge.total for row, charge in billed})
        describe = functools.cache(charge_description)  # most rows share plan and period
        rate, included = company.tax_rate, company.prices_include_tax
        drafts = [
            ToWrite(
                row.client_id,
                row.name,
                row.credit,
                InvoiceDraft(
                    period_start=row.terms.cycle.period_start,
                    period_end=row.terms.cycle.period_end,
                    pay_date=row.terms.cycle.pay_date,
                    notice_date=row.terms.notice,
                    due_date=row.terms.due,
                    lines=[
                        (describe(plan_of[row.plan_id][0], charge), charge.total),
                        *((description, amount) for _id, description, amount in charges),
                    ],
                    charges=charges,
                    tax_rate=rate,
                    prices_include_tax=included,
                ),
            )
            for row, charge in billed
            for charges in (taken.get(row.client_id, ()),)
        ]
        terms = {row.client_id: row.terms for row, _charge in billed}
        invoices_insert(
            drafts,
            actor=None,
            day=day,
            automatic=True,
            reason=AUTOMATIC_REASON,
            reason_args=lambda written, _invoice: terms[written.client_id].reason_args,
            on_batch=on_batch,
        )
    return [row.client_id for row, _charge in billed]
