"""The benchmark command itself, on a small ISP: every part runs to its end and prints the
figures the operations guide quotes, as numbers that make sense. (Its timings are read by
people, never asserted: this checks the instrument, not the speed.)"""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clock import child_env

# The benchmark builds its ISP in a scratch SQLite data dir, whichever pass runs it. It times
# real waits (an emulated router's round trips), which libfaketime's clock in a child process
# would stall: it runs on the real clock, and what it builds takes "today" from it.
pytestmark = [pytest.mark.slow, pytest.mark.second_pass, pytest.mark.real_clock]


def test_every_part_of_the_benchmark_runs_and_reports(tmp_path):
    env = child_env({**os.environ, "WISPBILL_DATA_DIR": str(tmp_path)})
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    command = [
        *(sys.executable, "-m", "wispbill.cli", "benchmark", "--json"),
        *("--clients", "600", "--zones", "12", "--repeat", "1", "--rtt-ms", "1"),
        *("--router-clients", "150", "--router-changes", "30", "--provisioning-clients", "60"),
        *("--growth", "300,600", "--pages-clients", "40"),
        *[arg for part in ("lists", "mass", "daily", "fanout") for arg in ("--only", part)],
        *[
            arg
            for part in ("reconcile", "provisioning", "growth", "pages")
            for arg in ("--only", part)
        ],
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert results["vendor"] == "sqlite" and results["clients"] == 600
    # Every client was billed on the benchmark's day, and nothing on the same day again.
    assert results["daily_run_invoices_created"] == 600
    for key in (
        "daily_run_first_s",
        "daily_run_again_same_day_s",
        "daily_run_raw_executemany_floor_s",
        "daily_run_over_raw_floor_ratio",
        "growth_300_per_client_ms",
        "growth_600_per_client_ms",
        "growth_600_peak_rss_mb",
        "growth_max_over_min_per_client_ratio",
        "clients_page_first_s",
        "clients_page_last_s",
        "clients_page_search_name_s",
        "clients_page_zone_filter_s",
        "api_clients_page_last_s",
        "mass_update_over_bare_update_ratio",
        "mass_update_undo_over_bare_update_ratio",
        "router_sync_s",
        "provisioning_first_s",
        "import_confirm_s",
        "pages_slowest_s",
        "page /periodic-tasks/forecast/",
        "page /api/schema/",
        "page /clients/{id}/",
        # Beside the time, the processor time: a busy machine stretches one, not the other.
        "pages_cpu_slowest_s",
        "cpu /clients/{id}/",
    ):
        assert results[key] > 0, key
    assert results["pages_cpu_median_s"] <= results["pages_median_s"] * 2
    # Every page of the demo was opened, each kind named once, no client's link printed.
    assert results["pages_count"] > 60
    assert "page /portal/{token}/" in results
    assert "/portal/" not in done.stdout.replace("/portal/{token}/", "")
    # The second reconcile of a provisioned router has nothing left to write.
    assert results["provisioning_first_writes"] > 0
    assert results["provisioning_second_reconcile_writes"] == 0
    # Without PostgreSQL and Redis the fan-out says why it did not run.
    assert "PostgreSQL" in results["fan_out"]
    assert results["growth_600_peak_rss_mb"] < 1024


def test_the_payment_parts_run_and_report(tmp_path):
    """Statements, webhooks to the router (the product's worker, the emulator, a Mercado Pago
    stand-in) and repeated notifications, each paid once, at a small size."""
    env = child_env({**os.environ, "WISPBILL_DATA_DIR": str(tmp_path)})
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    command = [
        *(sys.executable, "-m", "wispbill.cli", "benchmark", "--json"),
        *("--clients", "60", "--zones", "3", "--repeat", "1", "--rtt-ms", "1"),
        *("--statement-lines", "40", "--webhook-payments", "12", "--notifications", "50"),
        *[arg for part in ("statement", "webhooks", "notifications") for arg in ("--only", part)],
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert results["statement_lines"] == 40
    assert results["webhook_payments_together"] == 12
    assert (results["notifications"], results["notifications_payments"]) == (50, 40)
    for key in (
        "statement_preview_s",
        "statement_confirm_s",
        "statement_confirm_owing_s",
        "statement_confirm_owing_queries",
        "webhook_to_router_p95_s",
        "webhook_to_router_median_s",
        "notifications_s",
    ):
        assert results[key] > 0, key


@pytest.mark.skipif(
    not Path("/usr/sbin/freeradius").exists(), reason="FreeRADIUS (apt freeradius) is needed"
)
def test_the_radius_part_measures_logins_accounting_and_coas_then_turns_the_isp_back(tmp_path):
    env = child_env({**os.environ, "WISPBILL_DATA_DIR": str(tmp_path)})
    env.pop("DATABASE_URL", None)
    command = [
        *(sys.executable, "-m", "wispbill.cli", "benchmark", "--json", "--only", "radius"),
        *("--clients", "400", "--zones", "4", "--radius-rate", "100", "--radius-seconds", "2"),
        *("--radius-interim-rate", "100", "--radius-interim-seconds", "2"),
        *("--radius-coa-clients", "50", "--radius-coa-delay-ms", "20"),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    # Every login of a client with service was accepted, every update stored, every CoA
    # acknowledged: figures of a working server, not of one that answered nothing.
    assert results["radius_auth_sent"] == results["radius_auth_accepted"] == 200
    assert results["radius_auth_p99_ms"] > 0
    assert results["radius_interim_sent"] == results["radius_interim_stored"] == 200
    assert results["radius_interim_lost"] == 0
    assert results["radius_coa_acknowledged"] == results["radius_coa_requests_received"] == 50
    # The ISP is as the other parts expect it: static clients, no RADIUS router, no sessions.
    with sqlite3.connect(tmp_path / "wispbill.sqlite3") as db:
        assert db.execute(
            "SELECT (SELECT count(*) FROM clients_client WHERE access = 'pppoe') + "
            "(SELECT count(*) FROM network_router WHERE aaa = 'radius') + "
            "(SELECT count(*) FROM radius_session) + (SELECT count(*) FROM radius_credential)"
        ).fetchone() == (0,)
