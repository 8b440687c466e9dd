"""Running on the internet: HTTPS behind a proxy, the allowed hosts, `check --deploy`, and the
notice port, which answers clients' redirected traffic for any host and never over HTTPS."""

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.test import Client as Browser

from tests.clock import child_env
from tests.factories import ClientFactory

HTTPS_ENV = {
    "WISPBILL_HTTPS": "1",
    "WISPBILL_ALLOWED_HOSTS": "isp.example",
    "WISPBILL_SECRET_KEY": secrets.token_urlsafe(64)[:50],
}


def _wispbill(data_dir, *args, env=None, check=True, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "wispbill.cli", *args],
        env=_env(data_dir, **(env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def _env(data_dir, **extra) -> dict:
    env = {**os.environ, "WISPBILL_DATA_DIR": str(data_dir), **extra}
    env.pop("DATABASE_URL", None)
    # The browser tests set it in this process; no deployment has it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    for name in ("WISPBILL_HTTPS", "WISPBILL_ALLOWED_HOSTS", "WISPBILL_SECRET_KEY"):
        if name not in extra:
            env.pop(name, None)
    return child_env(env)


@pytest.mark.slow
@pytest.mark.embedded  # its process runs on a scratch data dir
def test_check_deploy_reports_no_issues_with_https_allowed_hosts_and_a_long_key(tmp_path):
    result = _wispbill(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", env=HTTPS_ENV, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
@pytest.mark.embedded  # its process runs on a scratch data dir
def test_check_deploy_names_what_is_missing_without_https(tmp_path):
    result = _wispbill(tmp_path, "check", "--deploy", "--fail-level", "WARNING", check=False)
    assert result.returncode != 0
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in result.stderr


@pytest.mark.slow
@pytest.mark.embedded  # its process runs on a scratch data dir
def test_allowed_hosts_default_to_loopback_names(tmp_path):
    code = "from django.conf import settings; print(settings.ALLOWED_HOSTS)"
    result = _wispbill(tmp_path, "shell", "--no-imports", "-c", code)
    assert result.stdout.strip() == "['.localhost', '127.0.0.1', '[::1]']"
    named = _wispbill(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        code,
        env={"WISPBILL_ALLOWED_HOSTS": "a.example, b"},
    )
    assert named.stdout.strip() == "['a.example', 'b']"


@pytest.mark.django_db
def test_a_forged_host_gets_a_400_and_never_reaches_the_api_links(admin_api, settings):
    settings.ALLOWED_HOSTS = ["isp.example"]
    assert Browser().get("/login/", HTTP_HOST="evil.example").status_code == 400
    assert admin_api.get("/api/v1/plans/?limit=1", HTTP_HOST="evil.example").status_code == 400
    ClientFactory.create_batch(2)
    page = admin_api.get("/api/v1/clients/?limit=1", HTTP_HOST="isp.example").json()
    assert page["next"].startswith("http://isp.example/api/v1/clients/")


@pytest.fixture
def https_on(settings):
    """The settings WISPBILL_HTTPS=1 gives, for requests made in this process."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.ALLOWED_HOSTS = ["isp.example"]
    return settings


@pytest.mark.django_db
def test_https_redirects_the_panel_and_sets_hsts_and_secure_cookies(https_on):
    browser = Browser()
    plain = browser.get("/login/", HTTP_HOST="isp.example")
    assert plain.status_code == 301 and plain["Location"] == "https://isp.example/login/"
    secure = browser.get("/login/", HTTP_HOST="isp.example", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    assert secure.cookies["csrftoken"]["secure"]


@pytest.mark.django_db
def test_the_notice_port_answers_any_host_over_plain_http_with_https_on(https_on):
    client = ClientFactory(ip="10.77.0.5", name="Rosa Gómez")
    notice = {
        "SERVER_PORT": str(django_settings.NOTICE_PORT),
        "HTTP_HOST": "www.google.com",
        "REMOTE_ADDR": "10.77.0.5",
    }
    response = Browser().get("/search?q=clima", **notice)
    assert response.status_code == 200, response.status_code
    assert client.name in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response
    css = Browser().get("/static/network/notice.css", **notice)
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    # A path under /static/ that is no file is the notice page too.
    assert client.name in Browser().get("/static/nothing.js", **notice).content.decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port: int, path: str, **headers) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.body = response.read().decode()
    connection.close()
    return response


def _wait_until_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _request(port, "/login/", Host="isp.example", **{"X-Forwarded-Proto": "https"})
            return
        except OSError:
            assert time.monotonic() < deadline, "wispbill serve did not start"
            time.sleep(0.3)


@pytest.mark.slow
@pytest.mark.embedded  # its process runs on a scratch data dir
def test_serve_with_https_keeps_the_notice_port_on_plain_http_for_any_host(tmp_path):
    port, notice_port = _free_port(), _free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "wispbill.cli", "serve", "--host", "127.0.0.1"),
            *("--port", str(port), "--notice-port", str(notice_port)),
        ],
        env=_env(tmp_path, **HTTPS_ENV),
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "serve.log").open("w"),
    )
    try:
        _wait_until_up(port)
        notice = _request(notice_port, "/", Host="www.google.com")
        # 404: this address is no client's; still the notice page, not a redirect or a 400.
        assert notice.status == 404 and "avisos de pago" in notice.body
        assert notice.getheader("X-Frame-Options") == "DENY"
        assert "frame-ancestors 'none'" in notice.getheader("Content-Security-Policy")
        forwarded = _request(
            notice_port, "/x", Host="evil.example", **{"X-Forwarded-Proto": "http"}
        )
        assert forwarded.status == 404 and "avisos de pago" in forwarded.body

        panel = _request(port, "/login/", Host="isp.example")
        assert panel.status == 301
        assert panel.getheader("Location") == "https://isp.example/login/"
        proxied = _request(port, "/login/", Host="isp.example", **{"X-Forwarded-Proto": "https"})
        assert proxied.status == 200
        assert proxied.getheader("Strict-Transport-Security").startswith("max-age=31536000")
        assert "Secure" in proxied.getheader("Set-Cookie")
        assert "default-src 'self'" in proxied.getheader("Content-Security-Policy")
        forged = _request(port, "/login/", Host="evil.example", **{"X-Forwarded-Proto": "https"})
        assert forged.status == 400
    finally:
        server.terminate()
        server.wait(timeout=30)
