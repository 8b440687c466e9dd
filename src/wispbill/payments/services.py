"""Bank statements: a preview that writes nothing, an import that applies each matched line
once through the counter's payment rule, and the assignment by hand of a line nobody's
reference matched."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wispbill.audit.services import actor_name_of
from wispbill.billing.models import Payment, PaymentMethod
from wispbill.billing.services.payments import PaymentRow, payment_register, payments_apply
from wispbill.clients.models import Client
from wispbill.core.db import bulk_set, locked
from wispbill.payments.models import BankLine, BankLineStatus, BankStatement
from wispbill.payments.selectors import lines_match, lines_seen
from wispbill.payments.statements import StatementLine, statement_read
from wispbill.staff.permissions import REGISTER_PAYMENTS, require_permission_of_person


@dataclass
class StatementPreview:
    lines: int  # lines of money received
    matched: list[tuple[StatementLine, int]] = field(default_factory=list)
    unmatched: list[tuple[StatementLine, str]] = field(default_factory=list)
    duplicates: list[StatementLine] = field(default_factory=list)
    skipped: int = 0  # money that went out, in a bank's own export
    payments: list[Payment] = field(default_factory=list)  # after the import
    statement: BankStatement | None = None

    def as_dict(self) -> dict[str, Any]:
        answer = {
            "lines": self.lines,
            "matched": [
                {"line": line.line, "client": client, "amount": f"{line.amount:.2f}",
                 "date": line.date.isoformat(), "tracking_key": line.tracking_key}
                for line, client in self.matched
            ],
            "unmatched": [
                {"line": line.line, "amount": f"{line.amount:.2f}", "reference": line.reference,
                 "description": line.description, "date": line.date.isoformat(),
                 "reason": reason}
                for line, reason in self.unmatched
            ],
            "duplicates": len(self.duplicates),
            "duplicate_lines": [line.line for line in self.duplicates],
            "skipped": self.skipped,
        }  # fmt: skip
        if self.statement is not None:
            answer["statement"] = self.statement.pk
            answer["applied"] = len(self.payments)
            answer["payments"] = [payment.pk for payment in self.payments]
        return answer


def bank_statement_preview(
    *, actor: User | None, data: bytes, fmt: str, filename: str = ""
) -> StatementPreview:
    """What importing the statement would do, line by line; writes nothing."""
    require_permission_of_person(actor, REGISTER_PAYMENTS)
    read = statement_read(data, fmt)
    seen = lines_seen(read.lines)
    preview = StatementPreview(lines=len(read.lines), skipped=read.skipped)
    fresh, keys = [], set()
    for line in read.lines:
        if line.key in seen or line.key in keys:
            preview.duplicates.append(line)
        else:
            keys.add(line.key)
            fresh.append(line)
    for line, match in zip(fresh, lines_match(fresh), strict=True):
        if match.client is None:
            preview.unmatched.append((line, match.reason))
        else:
            preview.matched.append((line, match.client))
    return preview


@transaction.atomic
def bank_statement_import(
    *, actor: User | None, data: bytes, fmt: str, filename: str = ""
) -> StatementPreview:
    """Import the statement: each matched line becomes a payment (method transfer, paid on the
    line's date, reference its tracking key) by the counter's rule, all of them at once
    (`payments_apply`, in the statement's order); the unmatched lines are kept for a person to
    assign; a line imported before is never applied again."""
    preview = bank_statement_preview(actor=actor, data=data, fmt=fmt, filename=filename)
    statement = BankStatement.objects.create(
        format=fmt,
        filename=filename[:200],
        imported_at=timezone.now(),
        actor_name=actor_name_of(actor),
        lines=preview.lines,
    )
    wanted: list[tuple[StatementLine, int | None, str]] = [
        (line, client, "") for line, client in preview.matched
    ]
    wanted += [(line, None, reason) for line, reason in preview.unmatched]
    BankLine.objects.bulk_create(
        [
            BankLine(
                statement=statement,
                line=line.line,
                date=line.date,
                amount=line.amount,
                reference=line.reference,
                description=line.description,
                tracking_key=line.tracking_key,
                reason=reason,
            )
            for line, _client, reason in wanted
        ],
        batch_size=2_000,
        # A line another import wrote meanwhile stays theirs: it is a duplicate here.
        ignore_conflicts=True,
    )
    stored = {row.line: row for row in BankLine.objects.filter(statement=statement)}
    now, name, applied, rows = timezone.now(), actor_name_of(actor), [], []
    for line, client, _reason in wanted:
        row = stored.get(line.line)
        if row is None:
            preview.duplicates.append(line)
            continue
        if client is None:
            continue
        row.client_id, row.status, row.applied_at, row.applied_by = (
            client, BankLineStatus.APPLIED, now, name
        )  # fmt: skip
        applied.append(row)
        rows.append(
            PaymentRow(
                client_id=client,
                amount=line.amount,
                method=PaymentMethod.TRANSFER,
                paid_on=line.date,
                reference=line.tracking_key,
            )
        )
    # No large-payment question for a statement: its amounts are the bank's, already in the
    # account, not typed; what a line does not pay stays as credit.
    preview.payments = payments_apply(actor=actor, rows=rows)
    for row, payment in zip(applied, preview.payments, strict=True):
        row.payment = payment
    bulk_set(applied, ["payment", "client", "status", "applied_at", "applied_by"])
    if len(stored) < len(wanted):
        late = {line.line for line in preview.duplicates}
        preview.matched = [(ln, c) for ln, c in preview.matched if ln.line not in late]
        preview.unmatched = [(ln, r) for ln, r in preview.unmatched if ln.line not in late]
    counts = Counter(row.status for row in stored.values())
    statement.applied = counts[BankLineStatus.APPLIED]
    statement.unmatched = counts[BankLineStatus.UNMATCHED]
    statement.duplicates = len(preview.duplicates)
    statement.save(update_fields=["applied", "unmatched", "duplicates"])
    preview.statement = statement
    return preview


@transaction.atomic
def bank_line_assign(*, actor: User | None, line: BankLine, client: Client) -> BankLine:
    """Apply a line no reference matched to `client`, by the counter's rule, once."""
    require_permission_of_person(actor, REGISTER_PAYMENTS)
    line = locked(BankLine.objects).get(pk=line.pk)
    if line.status != BankLineStatus.UNMATCHED:
        raise ValidationError(
            {
                "client": [
                    _("This line was already applied to %(client)s; nothing was changed.")
                    % {"client": line.client}
                ]
            }
        )
    line.payment = payment_register(
        actor=actor,
        client=client,
        amount=line.amount,
        method=line.method,
        paid_on=line.date,
        reference=line.tracking_key,
        # The amount is the bank's, already in the account, not typed: the question is for a
        # slip of the finger. The person chose the client on a page that names the amount.
        confirm_large=True,
    )
    line.client, line.status = client, BankLineStatus.APPLIED
    line.applied_at, line.applied_by = timezone.now(), actor_name_of(actor)
    line.save(update_fields=["payment", "client", "status", "applied_at", "applied_by"])
    return line
