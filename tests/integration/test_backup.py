"""`wispbill backup` while the API keeps writing, `wispbill restore` into a fresh database: every
API answer comes back as it was at the backup, with no half-written transaction in it.

Runs on the database of the suite's run: SQLite files, or two scratch PostgreSQL databases."""

import json
import os
import secrets
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import dj_database_url
import psycopg
import pytest

from tests.clock import child_env

pytestmark = pytest.mark.slow

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
SECRET = secrets.token_urlsafe(64)[:50]
PAYMENT = "100.00"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _site(tmp_path: Path, name: str):
    """The environment of one wispbill: its own data dir and, on PostgreSQL, its own database."""
    env = child_env(
        {**os.environ, "WISPBILL_DATA_DIR": str(tmp_path / name), "WISPBILL_SECRET_KEY": SECRET}
    )
    env.pop("DATABASE_URL", None)
    if not POSTGRES:
        yield env
        return
    url = os.environ["DATABASE_URL"]
    database = f"{dj_database_url.parse(url)['NAME']}_backup_{name}"
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')
    env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + database
    try:
        yield env
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _wispbill(env, *args, check=True):
    return subprocess.run(
        [sys.executable, "-m", "wispbill.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=check,
    )


@contextmanager
def _server(env, log: Path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "wispbill.cli", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/login/", timeout=2)
            break
        except OSError:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


class Api:
    def __init__(self, base: str, key: str):
        self.base, self.key = base, key

    def call(self, method: str, path: str, body=None):
        request = urllib.request.Request(
            path if path.startswith("http") else self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Api-Key {self.key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def answers(self) -> dict:
        """Every answer of the API that takes no parameter: each list whole, page by page."""
        schema = self.call("GET", "/api/schema/?format=json")
        paths = sorted(
            path
            for path, operations in schema["paths"].items()
            if path.startswith("/api/v1/") and "{" not in path and "get" in operations
        )
        answers = {}
        for path in paths:
            page = self.call("GET", f"{path}?limit=500")
            if not (isinstance(page, dict) and "results" in page):
                answers[path] = page
                continue
            rows = page["results"]
            while page["next"]:
                page = self.call("GET", page["next"])
                rows += page["results"]
            answers[path] = rows
        return answers


class Writer(threading.Thread):
    """Keeps writing through the API, one transaction after another: a new client "W00001",
    then a payment for it, then the next client... `done` counts finished transactions."""

    def __init__(self, api: Api, zone: int, plan: int):
        super().__init__(daemon=True)
        self.api, self.zone, self.plan = api, zone, plan
        self.done = 0
        self.started = 0
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            n = 0
            while not self.stop.is_set():
                n += 1
                self.started += 1
                client = self.api.call(
                    "POST",
                    "/api/v1/clients/",
                    {
                        "name": f"W{n:05d}",
                        "ip": f"10.250.{n // 250}.{n % 250 + 1}",
                        "zone": self.zone,
                        "plan": self.plan,
                    },
                )
                self.done += 1
                self.started += 1
                self.api.call(
                    "POST",
                    "/api/v1/payments/",
                    {"client": client["id"], "amount": PAYMENT, "method": "cash"},
                )
                self.done += 1
        except Exception as exc:  # reported by the test
            self.error = exc

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.done < count:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, "the writer stalled"
            time.sleep(0.05)


def _as_at_backup(live: dict, clients: int, payments: int) -> dict:
    """What the API answered at the backup, from what it answers now: the writer's clients
    after the first `clients`, and its payments after the first `payments`, taken away."""
    later_clients = {
        row["id"]
        for row in live["/api/v1/clients/"]
        if row["name"].startswith("W") and int(row["name"][1:]) > clients
    }
    unpaid = {
        row["id"]
        for row in live["/api/v1/clients/"]
        if row["name"].startswith("W") and payments < int(row["name"][1:]) <= clients
    }
    expected = dict(live)
    expected["/api/v1/clients/"] = [
        {**row, "balance": "0.00"} if row["id"] in unpaid else row
        for row in live["/api/v1/clients/"]
        if row["id"] not in later_clients
    ]
    expected["/api/v1/payments/"] = [
        row for row in live["/api/v1/payments/"] if row["client"] not in later_clients | unpaid
    ]
    expected["/api/v1/audit-events/"] = [
        row
        for row in live["/api/v1/audit-events/"]
        if not (row["object_type"] == "client" and row["object_id"] in later_clients)
        and not (row["action"] == "payment.registered" and row["object_id"] in unpaid)
    ]
    return expected


def test_a_backup_taken_under_writes_restores_what_was_there_and_nothing_half_written(tmp_path):
    backup_file = tmp_path / "wispbill.backup"
    with _site(tmp_path, "src") as source, _site(tmp_path, "dst") as target:
        _wispbill(source, "demo", "--clients", "40")
        key = _wispbill(source, "create-api-key", "admin").stdout.strip().splitlines()[-1]
        with _server(source, tmp_path / "src.log") as base:
            api = Api(base, key)
            zone = api.call("GET", "/api/v1/zones/?limit=1")["results"][0]["id"]
            plan = api.call("GET", "/api/v1/plans/?limit=1")["results"][0]["id"]
            writer = Writer(api, zone, plan)
            writer.start()
            try:
                writer.wait_for(6)
                done_before = writer.done
                made = _wispbill(source, "backup", str(backup_file))
                started_by_end = writer.started
                writer.wait_for(started_by_end + 6)
            finally:
                writer.stop.set()
                writer.join(timeout=60)
            assert writer.error is None, writer.error
            live = api.answers()
        assert "Backup written" in made.stdout
        assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
        assert not list(tmp_path.glob(".*.partial"))

        restored = _wispbill(target, "restore", str(backup_file))
        assert "Restored" in restored.stdout and "secret key" not in restored.stderr
        with _server(target, tmp_path / "dst.log") as base:
            after = Api(base, key).answers()

        refused = _wispbill(target, "restore", str(backup_file), check=False)
        assert refused.returncode != 0 and "already has clients" in refused.stderr
        assert _wispbill(target, "restore", "--force", str(backup_file)).returncode == 0

    written = sorted(
        int(row["name"][1:]) for row in after["/api/v1/clients/"] if row["name"].startswith("W")
    )
    clients = len(written)
    assert written == list(range(1, clients + 1)), "the writer's clients, in order, no gap"
    payments = [row for row in after["/api/v1/payments/"] if row["amount"] == PAYMENT]
    assert clients - 1 <= len(payments) <= clients
    # Whole transactions only: each client with its audit event, each payment with its credit.
    events = after["/api/v1/audit-events/"]
    by_name = {row["name"]: row for row in after["/api/v1/clients/"]}
    for n in written:
        client = by_name[f"W{n:05d}"]
        assert any(
            e["action"] == "client.created" and e["object_id"] == client["id"] for e in events
        )
        paid = [p for p in payments if p["client"] == client["id"]]
        assert client["balance"] == (f"-{PAYMENT}" if paid else "0.00"), client
        assert len(paid) == sum(
            e["action"] == "payment.registered" and e["object_id"] == client["id"] for e in events
        )
    assert done_before <= clients + len(payments) <= started_by_end

    assert after == _as_at_backup(live, clients, len(payments))
