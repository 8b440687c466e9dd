"""The one invoice writer. What an invoice bills is decided by its caller — the daily run's
`issue` for the cycles the task bills, `invoices.invoice_draft` for one asked for by hand —
as an `InvoiceDraft`; `invoices_insert` then writes any number of drafts the same way: the
invoices numbered by the database, their lines taxed (`billing.taxes`), the pending charges
they took marked invoiced, the client's credit applied and the paid status from it
(`paid_status`), one audit event each, and whatever the caller adds in the same transaction
(the daily run's messages)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record_many
from wispbill.billing.charges import FROM_REACTIVATION, FROM_START, CycleCharge
from wispbill.billing.debt import BatchHook
from wispbill.billing.models import Invoice, InvoiceLine, paid_status
from wispbill.billing.services.charges import charges_invoiced
from wispbill.billing.taxes import TaxedLine, lines_tax
from wispbill.clients.models import Client
from wispbill.core.db import JSONText, among, bulk_insert

ZERO = Decimal("0.00")
# Days in the text people read (invoice lines, refusals) as they write them: 29/10/2026.
DAY_TEXT = "%d/%m/%Y"


def line_description(plan_name: str, start: date, end: date) -> str:
    return _("Internet service %(plan)s, %(start)s to %(end)s") % {
        "plan": plan_name,
        "start": start.strftime(DAY_TEXT),
        "end": end.strftime(DAY_TEXT),
    }


def charge_description(plan_name: str, charge: CycleCharge) -> str:
    """The invoice line of a cycle's charge; a prorated one says so, and from when."""
    text = line_description(plan_name, charge.start, charge.end)
    if charge.prorated_from == FROM_START:
        text += " " + _("(%(days)s of %(period)s days)") % {
            "days": charge.days,
            "period": charge.period_days,
        }
    elif charge.prorated_from == FROM_REACTIVATION:
        text += " " + _("(prorated from the reactivation)")
    return text


# A pending one-off charge an invoice takes: (id, description, amount), as
# `charges.charges_to_invoice` gives them.
TakenCharge = tuple[int, str, Decimal]


@dataclass(frozen=True)
class InvoiceDraft:
    """What one invoice bills, before it is written: its period and dates, its lines (the
    cycle's, then the pending charges it takes) and the company's tax as of the draft. The
    page that asks for confirmation shows it, and `invoices_insert` writes exactly it."""

    period_start: date
    period_end: date
    pay_date: date
    notice_date: date
    due_date: date
    lines: list[tuple[str, Decimal]]  # (description, price)
    charges: Sequence[TakenCharge] = ()
    charges_only: bool = False
    tax_rate: Decimal = ZERO
    prices_include_tax: bool = True
    taxed_lines: list[TaxedLine] = field(init=False, repr=False, compare=False)
    subtotal: Decimal = field(init=False, repr=False, compare=False)
    tax: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Taxed once (billing.taxes): the invoice is the sum of its lines.
        taxed, subtotal, tax = lines_tax(
            [amount for _description, amount in self.lines],
            rate=self.tax_rate,
            included=self.prices_include_tax,
        )
        object.__setattr__(self, "taxed_lines", taxed)
        object.__setattr__(self, "subtotal", subtotal)
        object.__setattr__(self, "tax", tax)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


class ToWrite(NamedTuple):
    """A draft and the client it bills, with the credit the client holds now (read under
    its lock)."""

    client_id: int
    client_name: str
    credit: Decimal
    draft: InvoiceDraft


INVOICE_COLUMNS = (
    "client",
    "period_start",
    "period_end",
    "issued_on",
    "pay_date",
    "notice_date",
    "due_date",
    "total",
    "subtotal",
    "tax",
    "paid_amount",
    "status",
    "automatic",
    "charges_only",
    "cut_exempt",
    "created_at",
)


def invoices_insert(
    rows: Sequence[ToWrite],
    *,
    actor: User | None,
    day: date,
    automatic: bool,
    reason: str,
    reason_args: Callable[[ToWrite, int], JSONText | dict[str, object]],
    on_batch: BatchHook | None = None,
) -> dict[int, int]:
    """Write one invoice per row (one row per client), issued on `day`, inside the caller's
    transaction, with the clients locked: invoices and lines in bulk, the charges taken,
    the credit used (as much as each invoice needs) and what is left of it, an audit event
    per invoice (`reason`, with `reason_args(row, invoice id)`), then `on_batch` with the
    (client, invoice) pairs. Returns each client's new invoice id."""
    if not rows:
        return {}
    if len({row.client_id for row in rows}) != len(rows):
        raise ValueError("invoices_insert writes one invoice per client")
    now = timezone.now()
    used = [max(ZERO, min(row.credit, row.draft.total)) for row in rows]
    bulk_insert(
        Invoice,
        INVOICE_COLUMNS,
        (
            (
                row.client_id,
                row.draft.period_start,
                row.draft.period_end,
                day,
                row.draft.pay_date,
                row.draft.notice_date,
                row.draft.due_date,
                row.draft.total,
                row.draft.subtotal,
                row.draft.tax,
                paid,
                paid_status(paid, row.draft.total),
                automatic,
                row.draft.charges_only,
                False,
                now,
            )
            for row, paid in zip(rows, used, strict=True)
        ),
    )
    # COPY returns no ids: each client's new invoice is its newest written at `now` (the
    # client is locked, and has one row here; a clock that stands still in a test may have
    # written another one at the same instant, never a newer one).
    invoice_of = dict(
        Invoice.objects.filter(client_id__in=among([row.client_id for row in rows]), created_at=now)
        .values("client_id")
        .annotate(newest=Max("id"))
        .values_list("client_id", "newest")
    )
    bulk_insert(
        InvoiceLine,
        ("invoice", "description", "amount", "tax_base", "tax"),
        (
            (invoice_of[row.client_id], description, line.amount, line.base, line.tax)
            for row in rows
            for (description, _price), line in zip(
                row.draft.lines, row.draft.taxed_lines, strict=True
            )
        ),
    )
    charges_invoiced(
        invoice_of, {row.client_id: row.draft.charges for row in rows if row.draft.charges}
    )
    credit_left = [
        (row.credit - paid, row.client_id) for row, paid in zip(rows, used, strict=True) if paid
    ]
    if credit_left:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {Client._meta.db_table} SET credit = %s WHERE id = %s", credit_left
            )
    audit_record_many(
        actor=actor,
        action=AuditAction.INVOICE_CREATED,
        object_type="client",
        rows=(
            (
                row.client_id,
                row.client_name,
                JSONText(
                    f'{{"invoice": [null, {invoice_of[row.client_id]:d}], '
                    f'"total": [null, "{row.draft.total}"]}}'
                ),
                reason_args(row, invoice_of[row.client_id]),
            )
            for row in rows
        ),
        reason=reason,
    )
    if on_batch:
        on_batch([(row.client_id, invoice_of[row.client_id]) for row in rows])
    return invoice_of
