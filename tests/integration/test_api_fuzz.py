"""Schemathesis fuzzes every operation of the served OpenAPI schema with an admin key: the
API must never answer 500, whatever it is sent. A second, shorter pass with the demo's staff
key (clients and payments only) checks that every answer is 2xx, 400, 403 or 404."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.clock import child_env

# The fuzzed server runs on its own SQLite database.
pytestmark = [pytest.mark.slow, pytest.mark.embedded]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_request_makes_the_api_answer_500(tmp_path):
    st = Path(sys.executable).with_name("st")
    if not st.exists():
        st = Path(shutil.which("st") or "st")
    env = child_env({**os.environ, "WISPBILL_DATA_DIR": str(tmp_path)})
    env.pop("DATABASE_URL", None)
    cli = [sys.executable, "-m", "wispbill.cli"]
    # The demo's MikroTik lives on the emulator, as in run-demo.sh: a router that answers.
    emulator_port = _free_port()
    emulator = subprocess.Popen(
        [*cli, "routeros-emulator", "--port", str(emulator_port), "--seed-demo"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _fuzz(cli, env, tmp_path, st, emulator_port)
    finally:
        emulator.terminate()
        emulator.wait(timeout=20)


def _fuzz(cli, env, tmp_path, st, emulator_port):
    subprocess.run(
        [*cli, "demo", "--clients", "20", "--emulator-port", str(emulator_port)],
        env=env,
        check=True,
        capture_output=True,
    )
    key = _api_key(cli, env, "admin")
    port = _free_port()
    server = subprocess.Popen(
        [*cli, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        # Its request log goes to a file: an unread pipe would fill and stall the server.
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "server.log").open("w"),
    )
    try:
        schema = f"http://127.0.0.1:{port}/api/schema/?format=json"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(schema, timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        run = _st(st, schema, key, "not_a_server_error", examples=10, env=env)
        assert run.returncode == 0, run.stdout[-4000:]
        # The admin's run may have deactivated the staff user or revoked its keys (the API
        # lets an admin): the staff's run starts from an active user and a new key.
        staff_key = _api_key(cli, env, "staff")
        run = _st(
            st,
            schema,
            staff_key,
            "not_a_server_error,staff_is_allowed_or_refused",
            examples=3,
            env={
                **env,
                "SCHEMATHESIS_HOOKS": str(Path(__file__).with_name("fuzz_staff_checks.py")),
            },
        )
        assert run.returncode == 0, run.stdout[-4000:]
    finally:
        server.terminate()
        server.wait(timeout=20)


def _api_key(cli, env, username: str) -> str:
    """A new API key of `username`, made active again first."""
    subprocess.run(
        [
            *cli,
            "shell",
            "--no-imports",
            "-c",
            "from django.contrib.auth.models import User; "
            f"User.objects.filter(username='{username}').update(is_active=True)",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    made = subprocess.run(
        [*cli, "create-api-key", username], env=env, check=True, capture_output=True, text=True
    )
    return made.stdout.strip().splitlines()[-1]


def _st(st, schema, key, checks, *, examples, env):
    return subprocess.run(
        [
            str(st),
            "run",
            schema,
            "-H",
            f"Authorization: Api-Key {key}",
            "-c",
            checks,
            "-n",
            str(examples),
            "--phases",
            "fuzzing",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
