"""Reads: which client each statement line pays, which lines came before, the lines to show."""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Q, QuerySet

from wispbill.clients.models import Client
from wispbill.core.bank import reference_candidates, reference_is_valid
from wispbill.payments.models import BankLine, BankLineStatus, UnmatchedReason
from wispbill.payments.statements import StatementLine

CHUNK = 5_000  # values per IN (...): under every database's limit on parameters


@dataclass(frozen=True)
class Match:
    client: int | None  # the client's id, when exactly one client's reference is there
    reason: str = ""  # an UnmatchedReason otherwise
    references: tuple[str, ...] = ()  # the clients' references it carries


_T = TypeVar("_T")


def _chunks(values: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def clients_by_reference(references: Iterable[str]) -> dict[str, int]:
    """{payment reference: client id} of the references given that a client has: one query
    per 5,000 references, whatever the length of the statement."""
    wanted = sorted(set(references))
    found: dict[str, int] = {}
    for chunk in _chunks(wanted):
        rows = Client.objects.filter(payment_reference__in=chunk).values_list(
            "payment_reference", "pk"
        )
        found.update((reference, pk) for reference, pk in rows if reference is not None)
    return found


def lines_match(lines: Sequence[StatementLine]) -> list[Match]:
    """The client each line pays: the one whose payment reference is written in its reference
    or description. A line that carries two clients' references pays neither."""
    candidates = [
        [c for c in reference_candidates(f"{line.reference} {line.description}")] for line in lines
    ]
    known = clients_by_reference(c for found in candidates for c in found if reference_is_valid(c))
    matches = []
    for found in candidates:
        references = tuple(c for c in found if c in known)
        clients = {known[c] for c in references}
        if len(clients) == 1:
            matches.append(Match(client=clients.pop(), references=references))
        elif clients:
            matches.append(Match(None, UnmatchedReason.AMBIGUOUS, references))
        elif any(reference_is_valid(c) for c in found):
            matches.append(Match(None, UnmatchedReason.UNKNOWN_REFERENCE))
        elif found:
            matches.append(Match(None, UnmatchedReason.WRONG_CHECK_DIGIT))
        else:
            matches.append(Match(None, UnmatchedReason.NO_REFERENCE))
    return matches


def lines_seen(lines: Sequence[StatementLine]) -> set[tuple[object, ...]]:
    """The keys (date, amount, reference, tracking key) of `lines` already imported: one query
    per 5,000 dates."""
    if not lines:
        return set()
    wanted = {line.key for line in lines}
    seen: set[tuple[object, ...]] = set()
    for days in _chunks(sorted({line.date for line in lines})):
        rows = BankLine.objects.filter(date__in=days).values_list(
            "date", "amount", "reference", "tracking_key"
        )
        seen.update(row for row in rows if row in wanted)
    return seen


def bank_lines(*, status: str = "", q: str = "") -> QuerySet[BankLine]:
    """The lines, newest first; `status` filters, `q` finds text in what the bank wrote."""
    lines = BankLine.objects.select_related("client", "statement").order_by("-date", "-id")
    if status in BankLineStatus.values:
        lines = lines.filter(status=status)
    if q:
        lines = lines.filter(
            Q(reference__icontains=q) | Q(description__icontains=q) | Q(tracking_key__icontains=q)
        )
    return lines
