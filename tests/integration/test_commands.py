"""The project's commands, run as an operator runs them: real processes on a scratch data dir."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.clock import child_env

# Every command here runs on a scratch data dir with its embedded database.
pytestmark = [pytest.mark.slow, pytest.mark.embedded]


def _wispbill(data_dir, *args, check=True, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "wispbill.cli", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def test_demo_loads_once_and_its_users_behave_as_promised(tmp_path):
    done = _wispbill(tmp_path, "demo")
    assert "admin/admin" in done.stdout
    again = _wispbill(tmp_path, "demo", check=False)
    assert again.returncode != 0 and "already has clients" in again.stderr

    check = _wispbill(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        (
            "from django.contrib.auth import authenticate as a; "
            "from wispbill.staff.permissions import has_permission as h; "
            "from wispbill.clients.models import Client; "
            "admin, staff = a(username='admin', password='admin'), "
            "a(username='staff', password='staff'); "
            "print(Client.objects.count(), Client.objects.filter(billing_type='own').exists(), "
            "h(admin, 'toggle_periodic_tasks'), h(staff, 'toggle_periodic_tasks'))"
        ),
    )
    count, has_own, admin_can, staff_can = check.stdout.split()
    assert int(count) >= 300 and has_own == "True"
    assert (admin_can, staff_can) == ("True", "False")
    _demo_cfdi_stamped_at_its_pac_stand_in(tmp_path)


COUNT_CFDI = (
    "from wispbill.cfdi.models import CfdiDocument as D; "
    "from wispbill.clients.models import Client as C; "
    "print(C.objects.exclude(rfc='').count(), D.objects.count(), "
    "D.objects.filter(status='stamped').count())"
)


CANCEL_ONE = (
    "from wispbill.cfdi.models import CfdiDocument as D; from wispbill.cfdi import pac; "
    "d = D.objects.filter(status='stamped', kind='invoice').first(); "
    "print(pac.cancel(d.xml.encode(), '02'))"
)


def _demo_cfdi_stamped_at_its_pac_stand_in(tmp_path) -> None:
    """The demo's clients with an RFC got a CFDI per paid invoice, which `wispbill
    pac-stand-in` (the PAC that scripts/run-demo.sh starts) stamps; it stops on SIGTERM."""
    with_rfc, documents, stamped = map(
        int, _wispbill(tmp_path, "shell", "--no-imports", "-c", COUNT_CFDI).stdout.split()
    )
    assert with_rfc > 20 and documents > 20 and stamped == 0
    port = _free_port()
    stand_in = subprocess.Popen(
        [sys.executable, "-m", "wispbill.cli", "pac-stand-in", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert f"127.0.0.1:{port}" in stand_in.stdout.readline()
        env = {
            **_env(tmp_path),
            "WISPBILL_PAC": "swsapien",
            "WISPBILL_PAC_USER": "bench",
            "WISPBILL_PAC_PASSWORD": "bench-secret",
            "WISPBILL_PAC_URL": f"http://127.0.0.1:{port}",
        }
        done = subprocess.run(
            [sys.executable, "-m", "wispbill.cli", "stamp-cfdi"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert f'"stamped": {documents}' in done.stdout
        # It acknowledges a cancellation too, as the panel's cancel page asks it to.
        cancelled = subprocess.run(
            [sys.executable, "-m", "wispbill.cli", "shell", "--no-imports", "-c", CANCEL_ONE],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "201" in cancelled.stdout, cancelled.stderr
    finally:
        stand_in.send_signal(signal.SIGTERM)
        assert stand_in.wait(timeout=20) == 0
    after = _wispbill(tmp_path, "shell", "--no-imports", "-c", COUNT_CFDI).stdout.split()
    assert int(after[2]) == documents


def test_create_api_key_prints_a_working_key_on_the_last_line(tmp_path):
    _wispbill(tmp_path, "migrate", "--verbosity", "0")
    _wispbill(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        (
            "from django.contrib.auth.models import User; "
            "User.objects.create_user('ana', password='x', is_staff=True)"
        ),
    )
    out = _wispbill(tmp_path, "create-api-key", "ana").stdout.strip().splitlines()
    key = out[-1]
    check = _wispbill(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        (f"from wispbill.staff.services import api_key_user; print(api_key_user('{key}'))"),
    )
    assert check.stdout.strip() == "ana"
    stored = _wispbill(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        ("from wispbill.staff.models import ApiKey; print(ApiKey.objects.get().key_hash)"),
    )
    assert key not in stored.stdout
    missing = _wispbill(tmp_path, "create-api-key", "nobody", check=False)
    assert missing.returncode != 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(data_dir) -> dict:
    env = {**os.environ, "WISPBILL_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return child_env(env)


def _serve(data_dir, **output) -> tuple[subprocess.Popen, int, int]:
    """`wispbill serve` on two free loopback ports: the process, the port, the notice port."""
    port, notice_port = _free_port(), _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wispbill.cli",
            "serve",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--notice-port",
            str(notice_port),
        ],
        env=_env(data_dir),
        **output,
    )
    return server, port, notice_port


def _get(url: str, *, timeout: float, up: bool = True):
    """Poll `url` until it answers (or, with up=False, until it stops answering); the last
    response, or None when the server is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                answer = (response.status, response.read().decode())
            if up:
                return answer
        except OSError:
            if not up:
                return None
        time.sleep(0.3)
    raise AssertionError(f"{url} still {'down' if up else 'up'} after {timeout} s")


def test_serve_answers_and_stops_cleanly_on_sigterm(tmp_path):
    server, port, notice_port = _serve(
        tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        status, body = _get(f"http://127.0.0.1:{port}/login/", timeout=60)
        assert status == 200 and "Iniciar sesión" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/panel/panel.css") as r:
            assert r.status == 200
        # The notice port answers every path with the notice page; this address is no client.
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{notice_port}/any/path", timeout=5)
        except urllib.error.HTTPError as error:
            assert error.code == 404 and "avisos de pago" in error.read().decode()
        else:
            raise AssertionError("the notice port showed something to a non-client")
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()  # its web server and worker die with it (PR_SET_PDEATHSIG)
    assert "wispbill stopped." in server.stdout.read()


def test_no_part_of_serve_outlives_it_when_it_is_killed(tmp_path):
    server, port, _notice = _serve(tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _get(f"http://127.0.0.1:{port}/login/", timeout=60)
    server.kill()
    server.wait(timeout=10)
    assert _get(f"http://127.0.0.1:{port}/login/", timeout=20, up=False) is None
