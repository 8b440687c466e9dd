"""The day's scheduled run shared by task consumers (PostgreSQL with Redis): the same run timed
with one `wispbill worker` and with two, each a process of its own, from the moment the parts
are queued to the moment the last one is done."""

import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock_time

from django.db import connection
from django.utils import timezone

from wispbill.automation.models import DailyRunPart, RunStatus
from wispbill.automation.services.runs import daily_parts_dispatch, fans_out
from wispbill.billing.models import Invoice
from wispbill.core.models import CompanySettings
from wispbill.devtools.benchmarks.daily import DAY, forget_runs

STARTUP_SECONDS = 4  # a consumer's start (Django, the queue's connection) is not the run's
DEADLINE_SECONDS = 1800


def _consumers(count: int) -> list[subprocess.Popen]:
    command = [sys.executable, "-m", "wispbill.cli", "worker", "--no-periodic", "--workers", "1"]
    return [
        subprocess.Popen(
            command, env=os.environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(count)
    ]


def _queue_empty() -> None:
    from huey.contrib.djhuey import HUEY

    HUEY.flush()


def _one_run(workers: int) -> float:
    forget_runs()
    DailyRunPart.objects.all().delete()
    _queue_empty()
    company = CompanySettings.load()
    company.run_hour, company.last_daily_run = 0, DAY - timedelta(days=1)
    company.save(update_fields=["run_hour", "last_daily_run"])
    consumers = _consumers(workers)
    try:
        time.sleep(STARTUP_SECONDS)
        start = time.perf_counter()
        noon = timezone.make_aware(datetime.combine(DAY, clock_time(12)))
        parts = daily_parts_dispatch(day=DAY, now=noon)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while DailyRunPart.objects.filter(status=RunStatus.RUNNING).exists():
            if time.monotonic() > deadline or any(c.poll() is not None for c in consumers):
                raise RuntimeError("the consumers did not finish the day's run")
            time.sleep(0.05)
        seconds = time.perf_counter() - start
    finally:
        for consumer in consumers:
            consumer.terminate()
        for consumer in consumers:
            consumer.wait(timeout=60)
    created = Invoice.objects.filter(issued_on=DAY, automatic=True).count()
    if not parts or created == 0:
        raise RuntimeError("the fanned-out run created nothing")
    return seconds


def time_fan_out(repeat: int) -> dict:
    if not fans_out():
        return {"fan_out": "skipped: it needs PostgreSQL and REDIS_URL"}
    if connection.in_atomic_block:
        raise RuntimeError("the fan-out part needs committed data the consumers can see")
    one = statistics.median(_one_run(1) for _ in range(repeat))
    two = statistics.median(_one_run(2) for _ in range(repeat))
    parts = DailyRunPart.objects.count()
    forget_runs()
    DailyRunPart.objects.all().delete()
    return {
        "fan_out_parts": parts,
        "fan_out_one_worker_s": one,
        "fan_out_two_workers_s": two,
        "fan_out_one_over_two_ratio": one / two,
    }
