"""The server install of docs/operations.md, tested: settings that only read, the shipped
systemd units as systemd sees them, and Caddy with its own CA in front of `wispbill serve`."""

import http.client
import os
import re
import secrets
import shlex
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import time_machine

pytestmark = [pytest.mark.slow, pytest.mark.embedded]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Where docs/operations.md installs wispbill; the tests point the units at this environment's.
INSTALLED = "/opt/wispbill/venv/bin/wispbill"


def _env(data_dir, **extra) -> dict:
    env = {**os.environ, "WISPBILL_DATA_DIR": str(data_dir), **extra}
    for name in ("DATABASE_URL", "REDIS_URL", "WISPBILL_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        if name not in extra:
            env.pop(name, None)
    return env


def test_importing_the_settings_writes_nothing(tmp_path):
    data = tmp_path / "nowhere" / "data"
    code = (
        "import wispbill.settings as s; "
        "print(s.DATA_DIR); print(repr(s.SECRET_KEY)); print(s.STATIC_ROOT)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(data),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split("\n")[:3] == [str(data), "''", str(data / "static")]
    assert list(tmp_path.iterdir()) == []


def test_a_wispbill_command_makes_the_data_dir_and_its_key_once(tmp_path):
    data = tmp_path / "srv" / "data"
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    cli = [sys.executable, "-m", "wispbill.cli", "shell", "--no-imports", "-c", code]
    first = subprocess.run(cli, env=_env(data), capture_output=True, text=True, check=True)
    key = (data / "secret_key").read_text().strip()
    assert first.stdout.strip() == key and len(key) >= 50
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "secret_key").stat().st_mode) == 0o600
    again = subprocess.run(cli, env=_env(data), capture_output=True, text=True, check=True)
    assert again.stdout.strip() == key


def test_a_key_from_the_environment_is_not_written_to_the_data_dir(tmp_path):
    data = tmp_path / "data"
    key = "k" * 50
    subprocess.run(
        [sys.executable, "-m", "wispbill.cli", "check"],
        env=_env(data, WISPBILL_SECRET_KEY=key),
        capture_output=True,
        check=True,
    )
    assert data.is_dir() and not (data / "secret_key").exists()


def test_the_web_application_for_gunicorn_makes_the_data_dir_too(tmp_path):
    data = tmp_path / "data"
    code = "import wispbill.wsgi; from django.conf import settings; print(settings.SECRET_KEY)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(data), capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == (data / "secret_key").read_text().strip()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_the_shipped_systemd_units_pass_systemd_analyze_verify(tmp_path):
    units = sorted(DEPLOY.glob("systemd/*"))
    assert {unit.name for unit in units} >= {
        "wispbill.service",
        "wispbill-worker@.service",
        "wispbill-scheduler.service",
        "wispbill-backup.service",
        "wispbill-backup.timer",
    }
    here = str(Path(sys.executable).parent / "wispbill")
    for unit in units:
        text = unit.read_text()
        if unit.suffix == ".service":
            assert INSTALLED in text, unit.name
        (tmp_path / unit.name).write_text(text.replace(INSTALLED, here))
    # An instance of the template, as `systemctl enable wispbill-worker@1` makes.
    shutil.copy(tmp_path / "wispbill-worker@.service", tmp_path / "wispbill-worker@1.service")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(p.name for p in tmp_path.iterdir())],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    # A line systemd cannot parse is only a warning ("…, ignoring"): none is allowed either.
    # (Warnings about the machine's own units, which verify also loads, are not ours.)
    ours = [
        line
        for line in result.stderr.splitlines()
        if not line.startswith(("/lib/systemd/", "/usr/lib/systemd/", "/etc/systemd/"))
    ]
    assert (result.returncode, ours) == (0, []), result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Https(http.client.HTTPSConnection):
    """HTTPS to a name on loopback: the TCP connection goes to 127.0.0.1, while the name is
    what TLS verifies and what the Host header carries, as a browser resolving it would."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _send(connection, method, path, body=None, headers=None) -> http.client.HTTPResponse:
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read().decode()
    connection.close()
    return response


def _cookies(response) -> SimpleCookie:
    jar = SimpleCookie()
    for header in response.msg.get_all("Set-Cookie") or []:
        jar.load(header)
    return jar


def _caddy_config(tmp_path, *, host, http_port, https_port, panel_port) -> Path:
    """The shipped Caddyfile with its internal CA on, for `host`, on loopback high ports."""
    site = (DEPLOY / "caddy" / "Caddyfile").read_text()
    assert "# tls internal" in site and "127.0.0.1:8000" in site
    site = (
        site.replace("panel.isp.example", host)
        .replace("# tls internal", "tls internal")
        .replace("127.0.0.1:8000", f"127.0.0.1:{panel_port}")
    )
    options = (
        "{\n\tadmin off\n\tskip_install_trust\n"
        f"\thttp_port {http_port}\n\thttps_port {https_port}\n"
        f"\tstorage file_system {{\n\t\troot {tmp_path / 'caddy'}\n\t}}\n}}\n\n"
    )
    config = tmp_path / "Caddyfile"
    config.write_text(options + site)
    return config


def _wait(check, what: str, *processes, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for process in processes:
            assert process.poll() is None, f"{what}: {process.args[:2]} stopped"
        try:
            check()
            return
        except (OSError, ssl.SSLError):
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.3)


@pytest.mark.skipif(not os.access("/usr/bin/caddy", os.X_OK), reason="Caddy is not installed")
def test_caddy_in_front_of_serve_gives_https_and_leaves_the_notice_port_plain(tmp_path):
    host, password = "isp.example", secrets.token_urlsafe(16)
    data = tmp_path / "data"
    env = _env(
        data,
        WISPBILL_HTTPS="1",
        WISPBILL_ALLOWED_HOSTS=host,
        WISPBILL_SECRET_KEY=secrets.token_urlsafe(64)[:50],
        DJANGO_SUPERUSER_PASSWORD=password,
    )
    cli = [sys.executable, "-m", "wispbill.cli"]
    subprocess.run([*cli, "migrate", "-v", "0"], env=env, check=True)
    subprocess.run(
        [*cli, "createsuperuser", "--noinput", "--username", "boss", "--email", "b@isp.example"],
        env=env,
        check=True,
        capture_output=True,
    )
    panel_port, notice_port = _free_port(), _free_port()
    http_port, https_port = _free_port(), _free_port()
    config = _caddy_config(
        tmp_path, host=host, http_port=http_port, https_port=https_port, panel_port=panel_port
    )
    caddy_home = tmp_path / "caddy-home"
    caddy_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(caddy_home),
        "XDG_CONFIG_HOME": str(caddy_home / "config"),
        "XDG_DATA_HOME": str(caddy_home / "data"),
    }
    server = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(panel_port)]
        + ["--notice-port", str(notice_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "serve.log").open("w"),
    )
    caddy = subprocess.Popen(
        ["/usr/bin/caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
        env=caddy_env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "caddy.log").open("w"),
    )
    try:
        root = tmp_path / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        _wait(lambda: root.read_bytes(), "Caddy's CA", caddy)
        trust = ssl.create_default_context(cafile=str(root))
        if "libfaketime" in os.environ.get("LD_PRELOAD", ""):
            # Caddy is a Go program, which libfaketime does not reach: it signs on the real
            # clock, and this process, on a faked one, would judge its certificate expired or
            # not yet valid. The chain and the name are still checked (OpenSSL's
            # X509_V_FLAG_NO_CHECK_TIME).
            trust.verify_flags |= 0x200000

        def https(method, path, **kwargs):
            return _send(
                _Https(host, https_port, context=trust, timeout=10), method, path, **kwargs
            )

        _wait(lambda: https("GET", "/login/"), "Caddy or wispbill serve", caddy, server)
        _wait(
            lambda: _send(http.client.HTTPConnection("127.0.0.1", panel_port), "GET", "/"),
            "wispbill serve",
        )

        plain = _send(
            http.client.HTTPConnection("127.0.0.1", http_port, timeout=10),
            "GET",
            "/login/?next=/clients/",
            headers={"Host": host},
        )
        # Caddy's own redirect, before wispbill is asked; it names the default HTTPS port
        # (443 on a server), whichever port it listens on here.
        assert plain.status == 308 and plain.getheader("Server") == "Caddy"
        assert plain.getheader("Location") == f"https://{host}/login/?next=/clients/"

        page = https("GET", "/login/")
        assert page.status == 200, page.body
        assert page.getheader("Strict-Transport-Security").startswith("max-age=31536000")
        csrf = _cookies(page)["csrftoken"]
        assert csrf["secure"]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1)

        origin = f"https://{host}:{https_port}"
        login = https(
            "POST",
            "/login/",
            body=urlencode(
                {"username": "boss", "password": password, "csrfmiddlewaretoken": token}
            ),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={csrf.value}",
                "Origin": origin,
                "Referer": f"{origin}/login/",
            },
        )
        assert login.status == 302, login.body
        session = _cookies(login)["sessionid"]
        assert session["secure"] and session["httponly"]
        home = https(
            "GET",
            login.getheader("Location"),
            headers={"Cookie": f"csrftoken={csrf.value}; sessionid={session.value}"},
        )
        assert home.status == 200 and "boss" in home.body

        notice = _send(
            http.client.HTTPConnection("127.0.0.1", notice_port, timeout=10),
            "GET",
            "/",
            headers={"Host": "www.google.com"},
        )
        # No client has this address: still the notice page, over plain HTTP, not a redirect.
        assert notice.status == 404 and "avisos de pago" in notice.body
        assert notice.getheader("Strict-Transport-Security") is None
    finally:
        for process in (caddy, server):
            process.terminate()
        for process in (caddy, server):
            process.wait(timeout=30)


@pytest.mark.skipif(
    shutil.which("nft") is None or os.geteuid() != 0,
    reason="checking nftables rules needs nft, as root",
)
def test_the_shipped_firewall_rules_pass_nft_check():
    rules = DEPLOY / "nftables" / "wispbill.nft"
    result = subprocess.run(["nft", "-c", "-f", str(rules)], capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr


def test_the_shipped_settings_with_the_generated_key_pass_check_deploy(tmp_path):
    """The install of docs/operations.md: deploy/wispbill.env as it is, no key in it."""
    settings = {}
    for line in (DEPLOY / "wispbill.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            settings[name] = value
    assert settings["WISPBILL_HTTPS"] == "1" and "WISPBILL_SECRET_KEY" not in settings
    result = subprocess.run(
        [sys.executable, "-m", "wispbill.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=_env(tmp_path / "data", **settings),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_backup_unit_writes_a_dated_backup_and_keeps_thirty_days(tmp_path):
    """wispbill-backup.service's commands, as systemd runs them (%% is a %), on a scratch
    data dir and backup folder."""
    unit = (DEPLOY / "systemd" / "wispbill-backup.service").read_text()
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "wispbill-2001-01-01-0315.backup"
    old.write_text("an old copy")
    os.utime(old, (0, 0))
    here = str(Path(sys.executable).parent / "wispbill")
    data = tmp_path / "data"
    subprocess.run([here, "migrate", "-v", "0"], env=_env(data), check=True)
    for line in unit.splitlines():
        if line.startswith(("ExecStart=", "ExecStartPost=")):
            command = line.partition("=")[2].replace("%%", "%").replace(INSTALLED, here)
            command = command.replace("/var/backups/wispbill", str(backups))
            # systemd splits a command line as a POSIX shell would, without running one.
            subprocess.run(shlex.split(command), env=_env(data), check=True)
            if line.startswith("ExecStart="):
                # The copy's time is the kernel's, which a faked clock (libfaketime, under
                # which `find` then runs) does not move: it is given the system's "now" as
                # the processes see it, past this test's own travel in time.
                now = time_machine.escape_hatch.time.time()
                for copy in backups.glob("wispbill-2*.backup"):
                    if copy != old:
                        os.utime(copy, (now, now))
    (written,) = backups.iterdir()
    assert re.fullmatch(r"wispbill-\d{4}-\d\d-\d\d-\d{4}\.backup", written.name)
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert written.read_bytes().startswith(b"SQLite format 3")
