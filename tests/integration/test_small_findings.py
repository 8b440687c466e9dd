"""Issue 16's smaller findings: bounds on what a client may take, passwords nobody guesses,
the notice port whatever the host, two addresses for serve, client-page links that can be
withdrawn and stay out of the logs, and a payment that a retry does not make twice."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client as Browser
from django.utils import timezone
from rest_framework.test import APIClient

from tests.clock import child_env
from tests.factories import UserFactory
from tests.integration.test_messaging_parallel import _in_parallel
from tests.messaging_fixtures import pdf_text
from wispbill.audit.models import AuditEvent
from wispbill.billing.models import Payment, PaymentKey
from wispbill.billing.services.payments import payment_register
from wispbill.clients.models import Client
from wispbill.core.models import CompanySettings
from wispbill.staff.services import api_key_create

pytestmark = pytest.mark.django_db


# Company settings that bound what a client can do on its own


@pytest.mark.parametrize(
    ("field", "value"),
    [("portal_promise_days", 29), ("portal_promises_per_cycle", 6), ("run_hour", 24)],
)
def test_company_limits_are_bounded_in_the_api(admin_api, field, value):
    before = CompanySettings.load()
    response = admin_api.patch(
        "/api/v1/company/", {field: value}, format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 400 and list(response.json()) == [field]
    assert str(value - 1) in response.json()[field][0]
    assert getattr(CompanySettings.load(), field) == getattr(before, field)
    # The bound itself is allowed.
    assert admin_api.patch("/api/v1/company/", {field: value - 1}, format="json").status_code == 200
    assert getattr(CompanySettings.load(), field) == value - 1


def test_company_limits_are_bounded_in_the_panel(admin):
    boss = Browser()
    boss.force_login(admin)
    form = boss.get("/settings/").context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        no_cut_weekdays=[], holidays="", portal_promise_days="90", portal_promises_per_cycle="50"
    )
    page = boss.post("/settings/", data)
    html = page.content.decode()
    assert page.status_code == 400
    assert "Una promesa puede durar como máximo 28 días." in html
    assert "Un cliente puede hacer como máximo 5 promesas por ciclo." in html
    company = CompanySettings.load()
    assert (company.portal_promise_days, company.portal_promises_per_cycle) == (5, 1)


# Passwords like the username or the product's name


@pytest.mark.parametrize("password", ["mostrador-2026", "Wispbill2026!", "w1spb1ll-isp"])
def test_staff_api_refuses_passwords_like_the_username_or_the_product(admin_api, password):
    response = admin_api.post(
        "/api/v1/staff/",
        {"username": "mostrador", "password": password},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 400 and list(response.json()) == ["password"]
    assert "demasiado similar" in " ".join(response.json()["password"])
    assert not User.objects.filter(username="mostrador").exists()
    made = admin_api.post(
        "/api/v1/staff/", {"username": "mostrador", "password": "luz-de-cerro-7"}, format="json"
    )
    assert made.status_code == 201


def test_staff_edit_and_own_change_refuse_passwords_like_the_username(admin, admin_api):
    ana = UserFactory(username="anagarcia")
    response = admin_api.patch(
        f"/api/v1/staff/{ana.pk}/", {"password": "anagarcia99"}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["password"]
    ana.refresh_from_db()
    assert ana.check_password("secret-pass")

    boss = Browser()
    boss.force_login(admin)
    page = boss.post(
        f"/staff/{ana.pk}/",
        {"username": "anagarcia", "password": "wispbill-2027", "is_active": "on"},
    )
    assert "demasiado similar al nombre del producto" in page.content.decode()

    browser = Browser()
    browser.force_login(ana)
    weak = browser.post(
        "/password/",
        {
            "old_password": "secret-pass",
            "new_password1": "AnaGarcia#1",
            "new_password2": "AnaGarcia#1",
        },
    )
    assert "demasiado similar" in weak.content.decode()
    ana.refresh_from_db()
    assert ana.check_password("secret-pass")


def test_createsuperuser_refuses_a_password_like_the_product(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "WispBill-2026")
    with pytest.raises(Exception, match="nombre del producto|product's name"):
        call_command(
            "createsuperuser", interactive=False, username="jefa", email="jefa@isp.example"
        )
    assert not User.objects.filter(username="jefa").exists()


# The notice port: documents whatever the host, and no redirect to another site


def _portal_path_on_notice_port(client, **notice_port) -> str:
    html = Browser().get("/", **notice_port).content.decode()
    start = html.index('href="/portal/') + len('href="')
    return html[start : html.index('"', start)].split("?")[0]


def test_notice_port_serves_a_cut_clients_pdfs_whatever_the_host(billed_client, company, admin):
    client, invoice = billed_client
    company.public_url = ""  # links are then built from where the client is
    company.notice_host = "10.0.0.5"
    company.save()
    Client.objects.filter(pk=client.pk).update(state="suspended")
    payment = payment_register(actor=admin, client=client, amount=Decimal("100.00"))
    for host in ("www.google.com", "evil.example:8443", "not a host!"):
        notice_port = {
            "SERVER_PORT": str(settings.NOTICE_PORT),
            "REMOTE_ADDR": client.ip,
            "HTTP_HOST": host,
        }
        base = _portal_path_on_notice_port(client, **notice_port)
        page = Browser().get(base, **notice_port)
        assert page.status_code == 200 and "Lucía Fernández" in page.content.decode()
        for path in (f"invoices/{invoice.pk}/pdf/", f"payments/{payment.pk}/receipt/"):
            pdf = Browser().get(base + path, **notice_port)
            assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
            text = pdf_text(pdf.content)
            assert "Lucía Fernández" in text
            # Its link to the client page is the notice address, never the host asked for.
            assert "http://10.0.0.5:" in text and host.split(":")[0] not in text


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("//evil.example/", ""),
        ("/\\evil.example/", ""),
        ("//evil.example", "next=/"),
        ("///evil.example/", ""),
        ("/\\/evil.example/", ""),
    ],
)
def test_understood_on_the_notice_port_never_redirects_to_another_site(billed_client, path, query):
    client, _invoice = billed_client
    Client.objects.filter(pk=client.pk).update(notice_active=True)
    # The raw path, as a router's redirect delivers it (the test client would read "//x" as
    # a host).
    notice_port = {
        "SERVER_PORT": str(settings.NOTICE_PORT),
        "REMOTE_ADDR": client.ip,
        "HTTP_HOST": "example.com",
        "PATH_INFO": path,
        "QUERY_STRING": query,
    }
    html = Browser().get("/", **notice_port).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    done = Browser().post("/", {"token": token}, **notice_port)
    assert done.status_code == 302 and done["Location"] == "/"
    notice_port.update(PATH_INFO="/news/", QUERY_STRING="next=//evil.example")
    kept = Browser().post("/", {"token": token}, **notice_port)
    assert kept["Location"] == "/news/?next=//evil.example"  # a path here; nothing reads next


# serve: the panel and the notice page on addresses of their own; no token in the access log


def _free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def _answers(url: str) -> tuple[int, str] | None:
    """The status and body at `url`, or None when nothing listens there."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return None


@pytest.mark.slow
@pytest.mark.embedded
def test_serve_binds_the_panel_and_the_notice_page_to_their_own_addresses(tmp_path):
    port, notice_port = _free_port("127.0.0.1"), _free_port("127.0.0.2")
    env = {**os.environ, "WISPBILL_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "wispbill.cli", "serve", "--web-workers", "1"),
            *("--address", "127.0.0.1", "--port", str(port)),
            *("--notice-address", "127.0.0.2", "--notice-port", str(notice_port)),
        ],
        env=child_env(env),  # at the test's instant, as every process a test starts
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    token = "eyJjIjoxfQ:1tSecretPart:TheSignatureItself"
    try:
        deadline = time.monotonic() + 90
        while _answers(f"http://127.0.0.1:{port}/login/") is None:
            assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.3)
        assert _answers(f"http://127.0.0.1:{port}/login/")[0] == 200
        # The notice page on its own address, and only there.
        status, body = _answers(f"http://127.0.0.2:{notice_port}/any/path")
        assert status == 404 and "avisos de pago" in body
        assert _answers(f"http://127.0.0.1:{notice_port}/any/path") is None
        # The panel is not on the notice page's address.
        assert _answers(f"http://127.0.0.2:{port}/login/") is None
        refused = _answers(f"http://127.0.0.2:{notice_port}/portal/{token}/invoices/1/pdf/")
        assert refused[0] == 403
        assert _answers(f"http://127.0.0.1:{port}/portal/{token}/?lang=en")[0] == 403
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            output = server.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
    assert f"http://127.0.0.2:{notice_port}/" in output
    assert "GET /portal/[hidden]/invoices/1/pdf/ HTTP/1.1" in output
    assert "GET /portal/[hidden]/?lang=en HTTP/1.1" in output
    assert "TheSignatureItself" not in output and "1tSecretPart" not in output


# Client-page links that can be revoked


def _link_path(api, client) -> str:
    response = api.post(f"/api/v1/clients/{client.pk}/portal-link/")
    assert response.status_code == 200
    return response.json()["url"].split("pagos.rednorte.example", 1)[1]


def _no_longer_valid(path: str) -> bool:
    page = Browser().get(path)
    html = page.content.decode()
    return page.status_code == 403 and "Este enlace ya no es válido" in html and "Lucía" not in html


def test_staff_revoke_a_clients_links_through_the_api(admin_api, nobody_api, billed_client):
    client, invoice = billed_client
    old = _link_path(admin_api, client)
    assert Browser().get(old).status_code == 200
    url = f"/api/v1/clients/{client.pk}/portal-link/revoke/"
    assert nobody_api.post(url).status_code == 403
    assert Browser().get(old).status_code == 200  # a refused revoke changed nothing
    assert admin_api.post("/api/v1/clients/999999/portal-link/revoke/").status_code == 404
    response = admin_api.post(url)
    assert response.status_code == 200 and response.json() == {"client": client.pk, "revoked": True}
    assert _no_longer_valid(old)
    assert Browser().get(f"{old}invoices/{invoice.pk}/pdf/").status_code == 403
    assert AuditEvent.objects.filter(action="client.portal_links_revoked", object_id=client.pk)
    fresh = _link_path(admin_api, client)
    assert Browser().get(fresh).status_code == 200 and _no_longer_valid(old)
    # A link that was never genuine still says so, not "withdrawn".
    assert "no funciona" in Browser().get("/portal/nothing/").content.decode()


def test_the_panel_button_revokes_the_links(admin, admin_api, billed_client):
    client, _invoice = billed_client
    old = _link_path(admin_api, client)
    boss = Browser()
    boss.force_login(admin)
    page = boss.get(f"/clients/{client.pk}/").content.decode()
    assert f'action="/clients/{client.pk}/portal-link/revoke/"' in page
    done = boss.post(f"/clients/{client.pk}/portal-link/revoke/", follow=True)
    assert "emitidos hasta ahora ya no funcionan" in done.content.decode()
    assert _no_longer_valid(old)


def test_a_cancelled_clients_links_stop_working_for_good(admin_api, billed_client):
    client, _invoice = billed_client
    old = _link_path(admin_api, client)
    url = f"/api/v1/clients/{client.pk}/"
    assert admin_api.patch(url, {"state": "cancelled"}, format="json").status_code == 200
    assert _no_longer_valid(old)
    assert admin_api.patch(url, {"state": "active"}, format="json").status_code == 200
    assert _no_longer_valid(old)  # coming back does not revive the old links
    assert Browser().get(_link_path(admin_api, client)).status_code == 200


def test_the_notice_page_link_follows_a_revocation(admin_api, billed_client):
    client, _invoice = billed_client
    notice_port = {"SERVER_PORT": str(settings.NOTICE_PORT), "REMOTE_ADDR": client.ip}
    before = _portal_path_on_notice_port(client, **notice_port)
    admin_api.post(f"/api/v1/clients/{client.pk}/portal-link/revoke/")
    assert Browser().get(before, **notice_port).status_code == 403
    after = _portal_path_on_notice_port(client, **notice_port)
    assert Browser().get(after, **notice_port).status_code == 200


# A payment that a retry does not make twice


def _pay(api, client, key=None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    data = {"client": client.pk, "amount": "100.00", "method": "cash", **body}
    return api.post("/api/v1/payments/", data, format="json", HTTP_ACCEPT_LANGUAGE="es", **headers)


def test_the_same_idempotency_key_answers_the_first_payment_again(
    admin_api, staff_api, billed_client, noon
):
    client, invoice = billed_client
    first = _pay(admin_api, client, "caja-1-0001")
    assert first.status_code == 201
    again = _pay(admin_api, client, "caja-1-0001")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Payment.objects.filter(client=client).count() == 1
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("100.00")
    # The same key with another request is refused, clearly, and pays nothing.
    other = _pay(admin_api, client, "caja-1-0001", amount="200.00")
    assert other.status_code == 422 and list(other.json()) == ["idempotency_key"]
    assert "ya se usó" in other.json()["idempotency_key"][0]
    assert Payment.objects.filter(client=client).count() == 1
    # Another user's key is its own; without a key, every request pays.
    assert _pay(staff_api, client, "caja-1-0001").status_code == 201
    assert _pay(admin_api, client).status_code == 201
    assert _pay(admin_api, client).status_code == 201
    assert Payment.objects.filter(client=client).count() == 4
    # After 24 hours the key is free again.
    noon.shift(timedelta(hours=24, seconds=1))
    later = _pay(admin_api, client, "caja-1-0001")
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    assert Payment.objects.filter(client=client).count() == 5


def test_a_failed_request_does_not_use_its_key_and_bad_keys_are_refused(admin_api, billed_client):
    client, _invoice = billed_client
    assert _pay(admin_api, client, "k-1", amount="-5").status_code == 400
    assert _pay(admin_api, client, "k-1").status_code == 201
    for bad in ("x" * 256, ""):
        response = _pay(admin_api, client, bad)
        assert response.status_code == 400 and list(response.json()) == ["idempotency_key"]
    assert Payment.objects.filter(client=client).count() == 1


def test_the_key_is_held_by_the_database(admin, billed_client):
    client, _invoice = billed_client
    payment = payment_register(actor=admin, client=client, amount=Decimal("1.00"))
    row = {"user": admin, "key": "k", "fingerprint": "f", "payment": payment}
    PaymentKey.objects.create(created_at=timezone.now(), **row)
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentKey.objects.create(created_at=timezone.now(), **row)


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_with_one_key_make_one_payment(admin, billed_client):
    if connection.vendor != "postgresql":
        pytest.skip("threads share SQLite's in-memory test database only with table locks")
    client, _invoice = billed_client
    _key, plain = api_key_create(user=admin)

    def pay():
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
        response = _pay(api, client, "parallel-1")
        return response.status_code, response.json()

    answers = _in_parallel(pay, times=4)
    assert [status for status, _body in answers] == [201] * 4
    assert len({body["id"] for _status, body in answers}) == 1
    assert Payment.objects.filter(client=client).count() == 1


def test_the_panel_payment_form_sent_twice_is_one_payment(admin, billed_client):
    client, _invoice = billed_client
    boss = Browser()
    boss.force_login(admin)
    page = boss.get(f"/clients/{client.pk}/").content.decode()
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    form = {"amount": "300.00", "method": "cash", "paid_on": "", "reference": "", "note": ""}
    url = f"/clients/{client.pk}/payments/"
    boss.post(url, {**form, "once": once, "activate": "1"})
    second = boss.post(url, {**form, "once": once, "activate": "1"}, follow=True)
    assert "ya se había enviado" in second.content.decode()
    assert Payment.objects.filter(client=client).count() == 1
    # A fresh form is a new payment.
    fresh = re.search(r'name="once" value="([^"]+)"', second.content.decode()).group(1)
    assert fresh != once
    boss.post(url, {**form, "once": fresh, "activate": "1"})
    assert Payment.objects.filter(client=client).count() == 2
