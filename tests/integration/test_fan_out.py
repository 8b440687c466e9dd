"""The scheduled daily run shared by task consumers (PostgreSQL and Redis): two schedulers ask
for the same day, two workers carry out its parts, and every invoice, notice, cut and audit
event exists exactly once."""

import os
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from tests.clock import child_env
from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from wispbill.audit.models import AuditEvent
from wispbill.automation.models import DailyRunPart, RunStatus
from wispbill.billing.models import Invoice
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.clients.models import Client, ClientState
from wispbill.core.models import CompanySettings

REDIS_URL = "redis://127.0.0.1:6379/12"
# Its consumers are processes whose threads wait with timeouts, which libfaketime's clock would
# stall (tests/clock.py): this test runs on the real clock.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.real_clock,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="consumers share the day's run only on PostgreSQL (with Redis)",
    ),
]


def _env(data_dir) -> dict:
    s = connection.settings_dict
    return child_env(
        {
            **os.environ,
            "WISPBILL_DATA_DIR": str(data_dir),
            "REDIS_URL": REDIS_URL,
            # Parts of about 100 clients: the fixture's zones make several.
            "WISPBILL_RUN_PART_CLIENTS": "100",
            "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:"
            f"{s['PORT'] or 5432}/{s['NAME']}",
        }
    )


def _wispbill(data_dir, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wispbill.cli", *args],
        env=_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


SCHEDULER = (
    "from wispbill.automation.tasks import scheduler_tick; "
    "from huey.contrib.djhuey import HUEY; HUEY.immediate = False; scheduler_tick()"
)


@pytest.fixture
def isp(db):
    """Eight zones of 40 clients due to be invoiced today, and 30 clients with an invoice
    already overdue (their notice and cut are due today too)."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    today = timezone.localdate()
    company = CompanySettings.load()
    company.run_hour = 0
    company.last_daily_run = today - timedelta(days=1)
    company.save()
    plan = PlanFactory(price=Decimal("300.00"))
    for _zone in range(8):
        zone = ZoneFactory(
            pay_day=today.day if today.day <= 28 else 28,
            invoice_lead_days=1,
            notice_offset_days=0,
            grace_days=0,
        )
        ClientFactory.create_batch(40, zone=zone, plan=plan, start_date=date(2020, 1, 1))
    late = ZoneFactory(pay_day=1, invoice_lead_days=5, notice_offset_days=0, grace_days=3)
    for client in ClientFactory.create_batch(30, zone=late, plan=plan, start_date=date(2020, 1, 1)):
        invoice_create_for_cycle(actor=None, client=client, day=today - timedelta(days=40))
    return late


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_and_two_workers_do_every_part_once(tmp_path, isp):
    workers = [_wispbill(tmp_path, "worker", "--no-periodic", "--workers", "1") for _ in range(2)]
    try:
        schedulers = [
            subprocess.run(
                [sys.executable, "-m", "wispbill.cli", "shell", "--no-imports", "-c", SCHEDULER],
                env=_env(tmp_path),
                check=True,
                capture_output=True,
            )
            for _ in range(2)
        ]
        assert all(s.returncode == 0 for s in schedulers)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            parts = DailyRunPart.objects.all()
            if parts and all(p.status == RunStatus.DONE for p in parts):
                break
            time.sleep(0.3)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    parts = list(DailyRunPart.objects.all())
    assert len(parts) > 1 and all(p.status == RunStatus.DONE for p in parts), parts
    assert len({p.day for p in parts}) == 1
    # Every zone in exactly one part.
    zone_ids = [z for p in parts for z in p.zone_ids]
    assert len(zone_ids) == len(set(zone_ids)) == 9
    # Today's cycle for every client (350), besides the 30 overdue invoices made by hand.
    assert Invoice.objects.filter(automatic=True).count() == 350
    assert (
        not Invoice.objects.values("client", "period_start")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
    assert AuditEvent.objects.filter(action="invoice.created").count() == 350 + 30
    late = Client.objects.filter(zone=isp)
    assert late.filter(state=ClientState.SUSPENDED).count() == 30
    for action in ("client.notice_shown", "client.cut"):
        per_client = AuditEvent.objects.filter(action=action).values("object_id")
        assert per_client.count() == 30
        assert per_client.annotate(n=Count("id")).filter(n__gt=1).count() == 0
