"""FreeRADIUS started through `wispbill radius` on loopback ports, reading the test's database,
and a NAS (pyrad) standing in for the router that asks it."""

import contextlib
import hashlib
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from pyrad import packet
from pyrad.client import Client as RadiusClient
from pyrad.client import Timeout
from pyrad.dictionary import Dictionary

from tests.clock import child_env

DICTIONARY = Path(__file__).with_name("dictionary")
SECRET = "n4s-s3cret 'quoted\" ${x} %{y}"
needs_freeradius = pytest.mark.skipif(
    not Path("/usr/sbin/freeradius").exists(), reason="FreeRADIUS (apt freeradius) is needed"
)


def pytest_collection_modifyitems(config, items):
    """A test that starts FreeRADIUS runs on the real clock: under libfaketime's shifted
    monotonic clock its threads' timed waits stall (CI saw a start take over a minute and
    then never answer), and on PostgreSQL the SQL it runs reads the server's real NOW()."""
    for item in items:
        if "start_radius" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.real_clock)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def file_database(path: Path):
    """On SQLite, the test's database lives in memory, where FreeRADIUS cannot read it: for
    the test, the connection is pointed at a file database migrated by `wispbill migrate`."""
    saved_connection, saved_name = connection.connection, connection.settings_dict["NAME"]
    connection.connection = None
    connection.settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        if connection.connection is not None:
            connection.connection.close()
        connection.connection = saved_connection
        connection.settings_dict["NAME"] = saved_name


def _env(data_dir: Path) -> dict:
    env = {
        **os.environ,
        "WISPBILL_DATA_DIR": str(data_dir),
        # Passwords and secrets encrypted here are read there.
        "WISPBILL_SECRET_KEY": settings.SECRET_KEY,
    }
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        )
    else:
        env.pop("DATABASE_URL", None)
    return child_env(env)


@dataclass
class Radius:
    auth_port: int
    acct_port: int
    process: subprocess.Popen

    def nas(self, secret: str = SECRET, source: str = "127.0.0.1") -> "Nas":
        return Nas(self.auth_port, self.acct_port, secret, source)


class Nas:
    """The router's side: sends Access-Requests and Accounting-Requests."""

    def __init__(self, port: int, acct_port: int, secret: str, source: str):
        self.client = RadiusClient(
            server="127.0.0.1",
            authport=port,
            acctport=acct_port,
            secret=secret.encode(),
            dict=Dictionary(str(DICTIONARY)),
            retries=3,
            timeout=2,
        )
        self.client.bind((source, 0))

    def login(self, username: str, password: str, *, chap: bool = False):
        request = self.client.CreateAuthPacket(code=packet.AccessRequest)
        request["User-Name"] = username
        if chap:
            chap_id = b"\x07"
            request.authenticator = request.CreateAuthenticator()  # CHAP's challenge
            digest = hashlib.md5(chap_id + password.encode() + request.authenticator).digest()
            request["CHAP-Password"] = chap_id + digest
        else:
            request["User-Password"] = request.PwCrypt(password)
        try:
            return self.client.SendPacket(request)
        except Timeout:
            return None

    def account(self, status: str, username: str, session_id: str, **attributes) -> bool:
        """Whether FreeRADIUS acknowledged the accounting (so it stored it)."""
        request = self.client.CreateAcctPacket()
        request["User-Name"] = username
        request["Acct-Status-Type"] = status
        request["Acct-Session-Id"] = session_id
        for name, value in attributes.items():
            request[name.replace("_", "-")] = value
        try:
            return self.client.SendPacket(request).code == packet.AccountingResponse
        except Timeout:
            return False


def accepted(reply) -> dict | None:
    """The attributes of an Access-Accept; None for a reject or no answer."""
    if reply is None or reply.code != packet.AccessAccept:
        return None
    # pyrad names the attributes in keys(); iterating the packet gives their numbers.
    return {key: reply[key][0] for key in reply.keys() if isinstance(key, str)}  # noqa: SIM118


@pytest.fixture
def radius_db(transactional_db, tmp_path):
    """The test's database, readable by a FreeRADIUS process: PostgreSQL's test database as
    it is; on SQLite a file database in the test's data dir."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if connection.vendor != "sqlite":
        yield data_dir
        return
    subprocess.run(
        [sys.executable, "-m", "wispbill.cli", "migrate", "-v0"],
        env=_env(data_dir),
        check=True,
        capture_output=True,
    )
    with file_database(data_dir / "wispbill.sqlite3"):
        yield data_dir


@pytest.fixture
def start_radius(radius_db):
    """Starts `wispbill radius` (after the test made its routers) and waits for it to answer."""
    started = []

    def start() -> Radius:
        auth, acct = free_udp_port(), free_udp_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wispbill.cli",
                "radius",
                "--auth-port",
                str(auth),
                "--acct-port",
                str(acct),
                # Rejects answer at once: the tests send dozens of wrong passwords.
                "--reject-delay",
                "0",
            ],
            env=_env(radius_db),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        server = Radius(auth, acct, process)
        _wait_until_listening(server)
        return server

    yield start
    for process in started:
        process.terminate()
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _wait_until_listening(server: Radius) -> None:
    """FreeRADIUS is up once it answers (a reject for a name nobody has)."""
    nas = server.nas()
    nas.client.retries, nas.client.timeout = 1, 1
    for _attempt in range(60):
        if server.process.poll() is not None:
            out = server.process.stdout.read() if server.process.stdout else ""
            pytest.fail(f"wispbill radius stopped:\n{out}")
        if nas.login("nobody-at-all", "x") is not None:
            return
    server.process.terminate()
    out, _ = server.process.communicate(timeout=20)
    pytest.fail(f"FreeRADIUS never answered:\n{out}")
