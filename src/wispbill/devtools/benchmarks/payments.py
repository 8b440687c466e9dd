"""Bank statements at size: a statement of many matched lines previewed and confirmed (each
confirm rolled back, so every repeat applies the same lines to the same debts)."""

import statistics
import time
from datetime import timedelta

from django.db import transaction

from wispbill.clients.models import Client
from wispbill.clients.references import payment_references_assign
from wispbill.core.clock import today
from wispbill.payments.services import bank_statement_import, bank_statement_preview

HEADER = "date,amount,reference,description,tracking_key\n"


class _Undo(Exception):
    pass


def statement_of(clients: list[Client]) -> bytes:
    """A generic statement paying each client 399.00 yesterday, one line each."""
    day = (today() - timedelta(days=1)).isoformat()
    lines = (
        f"{day},399.00,{client.payment_reference},Pago internet,BENCH{n:08d}\n"
        for n, client in enumerate(clients)
    )
    return (HEADER + "".join(lines)).encode()


def time_statement(admin, *, lines: int, repeat: int) -> dict:
    clients = list(Client.objects.order_by("id")[:lines])
    payment_references_assign(clients)
    data = statement_of(clients)
    timings: dict[str, list[float]] = {"preview": [], "confirm": []}
    for _ in range(repeat):
        start = time.perf_counter()
        preview = bank_statement_preview(actor=admin, data=data, fmt="generic")
        timings["preview"].append(time.perf_counter() - start)
        assert len(preview.matched) == len(clients)
        try:
            with transaction.atomic():
                start = time.perf_counter()
                done = bank_statement_import(actor=admin, data=data, fmt="generic")
                timings["confirm"].append(time.perf_counter() - start)
                assert len(done.payments) == len(clients)
                raise _Undo
        except _Undo:
            pass
    return {
        "statement_lines": len(clients),
        "statement_preview_s": statistics.median(timings["preview"]),
        "statement_confirm_s": statistics.median(timings["confirm"]),
    }
