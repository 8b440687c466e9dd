"""Bank statements at size: a statement of many matched lines previewed and confirmed (each
confirm rolled back, so every repeat applies the same lines to the same debts). Two debts: the
built ISP's clients owing nothing (each payment is credit), and the same clients each owing an
overdue invoice, a fifth of them cut for it with the notice on (each payment pays it, ends the
notice and gives the service back)."""

import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction

from wispbill.billing.models import Invoice, InvoiceStatus
from wispbill.clients.models import Client, ClientState, SuspensionReason
from wispbill.clients.references import payment_references_assign
from wispbill.core.clock import today
from wispbill.core.db import among
from wispbill.devtools.benchmarks.common import overdue_invoice
from wispbill.payments.services import bank_statement_import, bank_statement_preview

HEADER = "date,amount,reference,description,tracking_key\n"
PRICE = Decimal("399.00")


class _Undo(Exception):
    pass


def statement_of(clients: list[Client]) -> bytes:
    """A generic statement paying each client 399.00 yesterday, one line each."""
    day = (today() - timedelta(days=1)).isoformat()
    lines = (
        f"{day},{PRICE},{client.payment_reference},Pago internet,BENCH{n:08d}\n"
        for n, client in enumerate(clients)
    )
    return (HEADER + "".join(lines)).encode()


def owing(clients: list[Client]) -> list[int]:
    """Each client owes an invoice of 399.00 overdue since a week; every fifth one was cut for
    it and sees the notice. Returns the cut ones."""
    day = today()
    Invoice.objects.bulk_create(
        (
            overdue_invoice(
                client,
                day,
                PRICE,
                notice_shown_on=day - timedelta(days=8),
                cut_on=None if n % 5 else day - timedelta(days=7),
            )
            for n, client in enumerate(clients)
        ),
        batch_size=2_000,
    )
    cut = [client.pk for n, client in enumerate(clients) if n % 5 == 0]
    Client.objects.filter(pk__in=among([c.pk for c in clients])).update(notice_active=True)
    Client.objects.filter(pk__in=among(cut)).update(
        state=ClientState.SUSPENDED,
        suspension_reason=SuspensionReason.AUTOMATIC,
        suspended_on=day - timedelta(days=7),
        auto_activate_on_payment=True,
    )
    return cut


def _confirm(admin, data: bytes, clients: list[Client], *, debts: bool) -> tuple[float, int]:
    """Seconds and queries of one confirm, rolled back with the debts it was given."""
    try:
        with transaction.atomic():
            cut = owing(clients) if debts else []
            queries = []

            def count(execute, sql, params, many, context):
                queries.append(1)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                start = time.perf_counter()
                done = bank_statement_import(actor=admin, data=data, fmt="generic")
                seconds = time.perf_counter() - start
            assert len(done.payments) == len(clients)
            if debts:
                ids = among([c.pk for c in clients])
                assert not Invoice.objects.filter(
                    client_id__in=ids, status=InvoiceStatus.PENDING
                ).exists()
                assert (
                    not Client.objects.filter(pk__in=among(cut))
                    .exclude(state=ClientState.ACTIVE)
                    .exists()
                )
                assert not Client.objects.filter(pk__in=ids, notice_active=True).exists()
            raise _Undo
    except _Undo:
        pass
    return seconds, len(queries)


def time_statement(admin, *, lines: int, repeat: int) -> dict:
    clients = list(Client.objects.order_by("id")[:lines])
    payment_references_assign(clients)
    data = statement_of(clients)
    timings: dict[str, list[float]] = {"preview": [], "confirm": [], "owing": []}
    counts = {}
    for _ in range(repeat):
        start = time.perf_counter()
        preview = bank_statement_preview(actor=admin, data=data, fmt="generic")
        timings["preview"].append(time.perf_counter() - start)
        assert len(preview.matched) == len(clients)
        for name, debts in (("confirm", False), ("owing", True)):
            seconds, counts[name] = _confirm(admin, data, clients, debts=debts)
            timings[name].append(seconds)
    return {
        "statement_lines": len(clients),
        "statement_preview_s": statistics.median(timings["preview"]),
        "statement_confirm_s": statistics.median(timings["confirm"]),
        "statement_confirm_queries": counts["confirm"],
        "statement_confirm_owing_s": statistics.median(timings["owing"]),
        "statement_confirm_owing_queries": counts["owing"],
    }
