"""The daily run as real processes: the CLI's contract, two runs at once, a run killed mid-way
(its invoices, and its messages: each still sent once)."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import override_settings

from tests.clock import child_env
from tests.factories import PlanFactory, ZoneFactory
from wispbill.audit.models import AuditEvent
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.models import Invoice, InvoiceLine
from wispbill.clients.models import Client
from wispbill.core.models import CompanySettings
from wispbill.messaging.models import Kind, Message
from wispbill.messaging.sending import messages_send_due

pytestmark = pytest.mark.slow
DAY = "2026-08-25"


def _env(data_dir, extra: dict | None = None) -> dict:
    env = {**os.environ, "WISPBILL_DATA_DIR": str(data_dir), **(extra or {})}
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        )
    else:
        env.pop("DATABASE_URL", None)
    return child_env(env)


def _cli(data_dir, *args, env: dict | None = None, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "wispbill.cli", *args],
        env=_env(data_dir, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _finish(process, timeout=300) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


@pytest.mark.embedded  # the demo it runs on lives in a scratch data dir
def test_cli_reports_json_and_refuses_a_future_day(tmp_path):
    env = child_env({**os.environ, "WISPBILL_DATA_DIR": str(tmp_path)})
    env.pop("DATABASE_URL", None)

    def cli(*args, check=False):
        return subprocess.run(
            [sys.executable, "-m", "wispbill.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            check=check,
        )

    def summary(*args):
        return json.loads(cli(*args, "--json", check=True).stdout.strip().splitlines()[-1])

    cli("demo", "--clients", "40", check=True)
    # The demo has lived up to today; three weeks on, every zone has a new cycle to bill.
    ahead = (date.today() + timedelta(days=21)).isoformat()
    first = summary("run-periodic-tasks", "--date", ahead, "--force")
    for key in ("invoices_created", "notices_shown", "clients_cut", "clients_reactivated"):
        assert isinstance(first[key], int)
    assert first["errors"] == [] and first["invoices_created"] > 0
    assert summary("run-periodic-tasks", "--date", ahead, "--force")["invoices_created"] == 0
    future = cli("run-periodic-tasks", "--date", "2999-01-01")
    assert future.returncode != 0 and "2999-01-01" in future.stderr
    assert summary("run-periodic-tasks", "--date", "2999-01-01", "--dry-run")["dry_run"] is True
    bad = cli("run-periodic-tasks", "--date", "25/08/2026")
    assert bad.returncode != 0 and "25/08/2026" in bad.stderr
    assert cli("run-periodic-tasks", "--zone", "999999").returncode != 0


postgres_only = pytest.mark.skipif(
    "os.environ.get('DATABASE_URL', '').startswith('postgres') is False",
    reason="other processes can only reach the test database on PostgreSQL",
)


def _killed_after_first_commit(process, rows) -> int:
    """Kill the process as soon as `rows` shows its first committed batch; how many it saw."""
    deadline = time.monotonic() + 120
    seen = 0
    while time.monotonic() < deadline and process.poll() is None:
        seen = rows.count()
        if seen:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    process.wait(timeout=30)
    return seen


def _many_clients(count: int) -> None:
    zones = [ZoneFactory(pay_day=1, invoice_lead_days=7) for _ in range(4)]
    plan = PlanFactory()
    Client.objects.bulk_create(
        Client(
            name=f"C{n}",
            ip=f"10.200.{n // 250}.{n % 250 + 1}",
            zone=zones[n % 4],
            plan=plan,
            start_date=date(2026, 1, 1),
        )
        for n in range(count)
    )


def _assert_each_client_invoiced_once(count: int) -> None:
    assert Invoice.objects.count() == count
    assert not Invoice.objects.values("client").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert InvoiceLine.objects.count() == count
    assert AuditEvent.objects.filter(action="invoice.created").count() == count


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_processes_running_the_same_day_bill_each_client_once(tmp_path):
    _many_clients(3000)
    first, second = (
        _cli(tmp_path, "run-periodic-tasks", "--date", DAY, "--force", "--json"),
        _cli(tmp_path, "run-periodic-tasks", "--date", DAY, "--force", "--json"),
    )
    results = [_finish(first), _finish(second)]
    for code, _out, err in results:
        assert code == 0, err
    created = [
        json.loads(out.strip().splitlines()[-1])["invoices_created"] for _c, out, _e in results
    ]
    assert sum(created) == 3000
    _assert_each_client_invoiced_once(3000)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_run_killed_half_way_is_finished_by_the_next_without_duplicates(tmp_path):
    count = 8000
    _many_clients(count)
    seen = _killed_after_first_commit(
        _cli(tmp_path, "run-periodic-tasks", "--date", DAY, "--force"), Invoice.objects
    )
    assert 0 < seen < count, "the run finished before it could be killed"
    killed_at = Invoice.objects.count()
    assert killed_at < count
    # Whatever committed is whole: every invoice has its line and its audit event.
    assert InvoiceLine.objects.count() == killed_at
    assert AuditEvent.objects.filter(action="invoice.created").count() == killed_at
    code, out, err = _finish(_cli(tmp_path, "run-periodic-tasks", "--date", DAY, "--force"))
    assert code == 0, err
    _assert_each_client_invoiced_once(count)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_run_killed_while_it_warns_sends_each_reminder_once(tmp_path, smtp_server):
    count = 3000
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    plan = PlanFactory()
    Client.objects.bulk_create(
        Client(
            name=f"C{n}",
            email=f"c{n}@example.com",
            ip=f"10.201.{n // 250}.{n % 250 + 1}",
            zone=zone,
            plan=plan,
            start_date=date(2026, 1, 1),
        )
        for n in range(count)
    )
    # Their invoices. The invoices' own messages are not what this is about: with the e-mail
    # channel off they are not sent (outside quiet hours they would be, by the suite's
    # immediate queue) and they go.
    with override_settings(WISPBILL_EMAIL_URL=""):
        periodic_tasks_run(actor=None, day=date(2026, 8, 25), force=True)
    Message.objects.all().delete()
    assert smtp_server.received == []
    company = CompanySettings.load()
    company.quiet_hours = ""  # whatever the hour the suite runs at
    company.save()

    env = {"WISPBILL_EMAIL_URL": settings.WISPBILL_EMAIL_URL}
    reminders = Message.objects.filter(kind=Kind.REMINDER)
    # The notices task warns in batches, each with its reminders: kill it after the first.
    seen = _killed_after_first_commit(
        _cli(tmp_path, "run-periodic-tasks", "--date", "2026-09-03", "--force", env=env), reminders
    )
    assert 0 < seen < count, "the run finished before it could be killed"
    # Whatever committed is whole: a reminder for each client the notice reached, no more.
    assert reminders.count() == Client.objects.filter(notice_active=True).count() < count

    code, _out, err = _finish(
        _cli(tmp_path, "run-periodic-tasks", "--date", "2026-09-03", "--force", env=env)
    )
    assert code == 0, err
    assert reminders.count() == count
    assert reminders.values("client").distinct().count() == count
    assert messages_send_due() == {"sent": count, "failed": 0}
    recipients = [mail["To"] for mail in smtp_server.received]
    assert len(recipients) == len(set(recipients)) == count
