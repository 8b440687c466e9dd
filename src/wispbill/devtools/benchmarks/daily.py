"""The daily run: a first run over every client, the same day again, and its floor — the raw
DB-API executemany of exactly the rows that run wrote (invoices, lines, audit events), with
the same indexes in place; and how it grows with the size of the ISP."""

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date

from django.conf import settings
from django.db import connection, transaction

from wispbill.audit.models import AuditEvent
from wispbill.automation.models import TaskState
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.models import Invoice, InvoiceLine, Payment, PaymentAllocation
from wispbill.clients.models import Client
from wispbill.devtools.benchmarks.common import build, settle, wipe
from wispbill.messaging.models import Message

DAY = date(2026, 8, 25)


def forget_runs() -> None:
    """Back to the ISP as built: no invoice, payment, message, event or task state (the load
    script's payments hang from the invoices), and no credit."""
    with connection.cursor() as cursor:
        for model in (
            Message,
            PaymentAllocation,
            Payment,
            InvoiceLine,
            Invoice,
            AuditEvent,
            TaskState,
        ):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
        cursor.execute(f"UPDATE {Client._meta.db_table} SET credit = 0 WHERE credit <> 0")


def _rows_as_written(model, where: dict) -> tuple[str, list[tuple]]:
    """The INSERT statement and the driver-ready parameters of the rows `where` selects."""
    fields = [f for f in model._meta.concrete_fields]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    rows = model.objects.filter(**where).values_list(*(f.attname for f in fields))
    params = [
        tuple(f.get_db_prep_save(value, connection) for f, value in zip(fields, row, strict=True))
        for row in rows
    ]
    return sql, params


def _floor() -> float:
    """Delete what the run wrote and insert it again with executemany, in one transaction."""
    writes = [
        _rows_as_written(Invoice, {"issued_on": DAY, "automatic": True}),
        _rows_as_written(InvoiceLine, {"invoice__issued_on": DAY, "invoice__automatic": True}),
        _rows_as_written(AuditEvent, {}),
    ]
    with connection.cursor() as cursor:
        for table in (InvoiceLine, Invoice, AuditEvent):
            cursor.execute(f"DELETE FROM {table._meta.db_table}")
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in writes:
            cursor.executemany(sql, params)
    return time.perf_counter() - start


def time_daily_run(repeat: int) -> dict:
    first, again, floor = [], [], []
    created = 0
    for _ in range(repeat):
        forget_runs()
        settle()
        start = time.perf_counter()
        created = periodic_tasks_run(actor=None, day=DAY).invoices_created
        first.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert periodic_tasks_run(actor=None, day=DAY).invoices_created == 0
        again.append(time.perf_counter() - start)
        floor.append(_floor())
    forget_runs()
    first_s, again_s, floor_s = (statistics.median(t) for t in (first, again, floor))
    return {
        "daily_run_invoices_created": created,
        "daily_run_first_s": first_s,
        "daily_run_again_same_day_s": again_s,
        "daily_run_raw_executemany_floor_s": floor_s,
        "daily_run_over_raw_floor_ratio": first_s / floor_s,
    }


# The run as the CLI runs it, reporting its own peak resident memory (VmHWM) on stderr: the
# rusage of a child started from this process would report this process's peak instead (Linux
# carries a forked process's high-water mark across exec).
_MEASURED_RUN = """
import sys
from wispbill.cli import main
sys.argv = ["wispbill", *sys.argv[1:]]
try:
    main()
finally:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                print("peak_kb", line.split()[1], file=sys.stderr)
"""


def time_growth(sizes: list[int], zones: int, repeat: int = 1) -> dict:
    """The daily run as a process at each size (the median of `repeat` runs, each from no
    invoice): seconds per client, and the largest peak memory."""
    out = {}
    for size in sizes:
        wipe()
        build(size, zones)
        seconds, peaks = [], []
        for _ in range(repeat):
            forget_runs()
            settle()
            run_seconds, peak_kb = _measured_run(size)
            seconds.append(run_seconds)
            peaks.append(peak_kb)
        out[f"growth_{size}_per_client_ms"] = statistics.median(seconds) * 1000 / size
        out[f"growth_{size}_peak_rss_mb"] = max(peaks) / 1024
    per_client = [v for k, v in out.items() if k.endswith("_per_client_ms")]
    out["growth_max_over_min_per_client_ratio"] = max(per_client) / min(per_client)
    return out


def _measured_run(size: int) -> tuple[float, int]:
    """One daily run as the CLI runs it: its own seconds and its peak memory in kB."""
    command = [
        sys.executable,
        "-c",
        _MEASURED_RUN,
        "run-periodic-tasks",
        "--date",
        DAY.isoformat(),
        "--force",
        "--json",
    ]
    env = {**os.environ, "WISPBILL_DATA_DIR": str(settings.DATA_DIR)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["invoices_created"] == size, summary
    return summary["seconds"], int(done.stderr.rsplit("peak_kb", 1)[1].split()[0])
