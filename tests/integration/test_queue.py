"""A "run now" goes through the real queue and a real consumer: the SQLite file and Redis."""

import os
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.clock import child_env

# The worker and the run it carries out share a scratch data dir's embedded database. The
# worker lives at the test's instant (libfaketime): its threads wait in sleeps, not in timed
# waits that the faked monotonic clock would stall (`wispbill worker`'s stop flag).
pytestmark = [pytest.mark.slow, pytest.mark.embedded]

SETUP = """
from datetime import date
from django.contrib.auth.models import User
from django.db import transaction
from wispbill.automation.services.runs import manual_run_start
from wispbill.core.schedule import BillingSchedule
from wispbill.clients.services.clients import client_create
from wispbill.clients.services.plans import plan_create
from wispbill.clients.services.zones import zone_create
from wispbill.network.services import router_create
admin = User.objects.create_superuser("root", "", "root")
router = router_create(actor=admin, name="R", host="192.0.2.1")
zone = zone_create(actor=admin, router=router, name="Z",
                   schedule=BillingSchedule("prepaid", 1, 5, 0, 3))
plan = plan_create(actor=admin, name="P", price="300.00", download_kbps=1, upload_kbps=1)
client_create(actor=admin, name="A", ip="10.9.9.9", zone=zone, plan=plan,
              start_date=date(2020, 1, 1))
with transaction.atomic():
    run = manual_run_start(actor=admin, zone=zone)
print(run.pk)
"""


def _env(tmp_path, redis_url: str | None) -> dict:
    env = {**os.environ, "WISPBILL_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return child_env(env)


@pytest.mark.parametrize("queue", ["sqlite", "redis"])
def test_run_now_is_carried_out_by_a_worker(tmp_path, queue):
    redis_url = None
    if queue == "redis":
        # A database of its own, emptied first, so no other test's tasks are in it.
        redis_url = "redis://127.0.0.1:6379/13"
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    env = _env(tmp_path, redis_url)
    cli = [sys.executable, "-m", "wispbill.cli"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
    out = subprocess.run(
        [*cli, "shell", "--no-imports", "-c", SETUP],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    run_id = int(out.strip().splitlines()[-1])
    db = sqlite3.connect(tmp_path / "wispbill.sqlite3")
    status = lambda: db.execute(  # noqa: E731
        "select status from automation_manualrun where id = ?", (run_id,)
    ).fetchone()[0]
    assert status() == "running"
    worker = subprocess.Popen(
        [*cli, "worker", "--no-periodic"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while status() == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status() == "done"
        invoices = db.execute("select count(*) from billing_invoice").fetchone()[0]
        assert invoices == 1
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            # Never left behind: a worker still reading the queue takes the next test's tasks.
            worker.kill()
            worker.wait()
            raise AssertionError("the worker did not stop within 20 s of SIGTERM") from None
