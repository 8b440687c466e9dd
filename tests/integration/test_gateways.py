"""Online payments through Mercado Pago and Stripe, each stood in for by pytest-httpserver on
loopback: pay links for what the database says is owed, signed webhooks that pay once whatever
is delivered twice, in parallel or out of order, refunds that reverse without cutting, and
payments that name no client kept for a person."""

import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test import Client as Browser
from django.utils import timezone

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from wispbill.audit.models import AuditAction, AuditEvent
from wispbill.billing.models import Invoice, Payment
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.clients.models import Client
from wispbill.payments.models import BankLine

pytestmark = pytest.mark.django_db
MP_SECRET = "mp-webhook-secret"
STRIPE_SECRET = "whsec_test"
MP_TOKEN = "APP_USR-token"
STRIPE_KEY = "sk_test_key"


@pytest.fixture
def gateways(settings, httpserver):
    base = httpserver.url_for("").rstrip("/")
    settings.WISPBILL_MERCADOPAGO_ACCESS_TOKEN = MP_TOKEN
    settings.WISPBILL_MERCADOPAGO_WEBHOOK_SECRET = MP_SECRET
    settings.WISPBILL_MERCADOPAGO_API_URL = base
    settings.WISPBILL_STRIPE_SECRET_KEY = STRIPE_KEY
    settings.WISPBILL_STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.WISPBILL_STRIPE_API_URL = base
    return httpserver


@pytest.fixture
def isp(db):
    zone = ZoneFactory()
    plan = PlanFactory(price=Decimal("400.00"))
    ana = ClientFactory(zone=zone, plan=plan, name="Ana Gómez", email="ana@example.com")
    invoice = invoice_create_for_cycle(actor=None, client=ana)
    Client.objects.filter(pk=ana.pk).update(state="suspended")
    return {"ana": ana, "invoice": invoice, "plan": plan, "zone": zone}


def _state(client) -> tuple:
    """What the client and its people see: state, each invoice's status and paid amount, each
    payment's method, reference, amount and status, and the credit."""
    client = Client.objects.get(pk=client.pk)
    invoices = [(i.status, i.paid_amount) for i in Invoice.objects.filter(client=client)]
    payments = [
        (p.method, p.reference, p.amount, p.status)
        for p in Payment.objects.filter(client=client).order_by("id")
    ]
    return client.state, invoices, payments, client.credit


# --- Mercado Pago ----------------------------------------------------------------------------


def _mp_sign(data_id: str, request_id: str, secret: str = MP_SECRET) -> str:
    ts = str(int(time.time() * 1000))
    manifest = f"id:{data_id};request-id:{request_id};ts:{ts};"
    return f"ts={ts},v1={hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()}"


def _mp_payment(httpserver, pay_id: str, status: str, amount: str, reference):
    httpserver.clear()
    httpserver.expect_request(
        f"/v1/payments/{pay_id}", method="GET", headers={"Authorization": f"Bearer {MP_TOKEN}"}
    ).respond_with_json(
        {
            "id": int(pay_id),
            "status": status,
            "transaction_amount": float(amount),
            "external_reference": reference,
            "date_approved": timezone.now().isoformat(),
        }
    )


def _mp_notify(pay_id: str, *, secret: str = MP_SECRET, request_id: str = "req-1"):
    body = json.dumps({"action": "payment.updated", "type": "payment", "data": {"id": pay_id}})
    return Browser().post(
        f"/webhooks/mercadopago/?data.id={pay_id}&type=payment",
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=_mp_sign(pay_id, request_id, secret),
        HTTP_X_REQUEST_ID=request_id,
    )


def test_mercadopago_link_is_a_preference_for_what_the_database_says(gateways, isp, staff_api):
    gateways.expect_request("/checkout/preferences", method="POST").respond_with_json(
        {"id": "pref-1", "init_point": "https://mp.example/checkout?pref_id=pref-1"}
    )
    ana, invoice = isp["ana"], isp["invoice"]
    answer = staff_api.post(
        f"/api/v1/clients/{ana.pk}/payment-link/",
        {"provider": "mercadopago", "invoice": invoice.pk, "amount": "1.00"},
        format="json",
    )
    assert answer.status_code == 400  # an amount from outside is refused, not obeyed
    assert "amount" in answer.json()
    answer = staff_api.post(
        f"/api/v1/clients/{ana.pk}/payment-link/",
        {"provider": "mercadopago", "invoice": invoice.pk},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"url": "https://mp.example/checkout?pref_id=pref-1"}
    sent, _response = gateways.log[-1]
    assert sent.headers["Authorization"] == f"Bearer {MP_TOKEN}"
    body = json.loads(sent.data)
    assert body["items"][0]["unit_price"] == float(invoice.total)
    assert body["items"][0]["currency_id"] == "MXN"
    assert body["external_reference"] == f"wispbill:client={ana.pk};invoice={invoice.pk}"
    assert body["notification_url"].endswith("/webhooks/mercadopago/")
    assert MP_TOKEN not in sent.url


def test_stripe_link_is_a_checkout_session_in_pesos_for_card_and_oxxo(gateways, isp, staff_api):
    gateways.expect_request("/v1/checkout/sessions", method="POST").respond_with_json(
        {"id": "cs_1", "url": "https://checkout.stripe.example/c/cs_1"}
    )
    ana, invoice = isp["ana"], isp["invoice"]
    answer = staff_api.post(
        f"/api/v1/clients/{ana.pk}/payment-link/", {"provider": "stripe"}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["url"] == "https://checkout.stripe.example/c/cs_1"
    sent, _response = gateways.log[-1]
    form = {key: values[0] for key, values in parse_qs(sent.get_data(as_text=True)).items()}
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][currency]"] == "mxn"
    assert form["line_items[0][price_data][unit_amount]"] == str(int(invoice.total * 100))
    assert {form["payment_method_types[0]"], form["payment_method_types[1]"]} == {"card", "oxxo"}
    assert form["metadata[client]"] == str(ana.pk)
    assert sent.headers["Authorization"] == f"Bearer {STRIPE_KEY}"


def test_no_link_when_nothing_is_owed_the_gateway_is_off_or_the_user_may_not(
    gateways, isp, settings, staff_api, nobody_api
):
    paid_up = ClientFactory(zone=isp["zone"], plan=isp["plan"])
    url = f"/api/v1/clients/{paid_up.pk}/payment-link/"
    answer = staff_api.post(url, {"provider": "stripe"}, format="json")
    assert answer.status_code == 400
    assert "non_field_errors" in answer.json()
    other = f"/api/v1/clients/{isp['ana'].pk}/payment-link/"
    answer = staff_api.post(other, {"provider": "stripe", "invoice": 999999}, format="json")
    assert answer.status_code == 400 and "invoice" in answer.json()
    assert nobody_api.post(other, {"provider": "stripe"}, format="json").status_code == 403
    settings.WISPBILL_STRIPE_SECRET_KEY = ""
    answer = staff_api.post(other, {"provider": "stripe"}, format="json")
    assert answer.status_code == 400 and "provider" in answer.json()
    assert gateways.log == []  # nothing was asked of any gateway


def test_mercadopago_pays_once_and_a_refund_reverses_without_cutting(gateways, isp):
    ana, invoice = isp["ana"], isp["invoice"]
    total = invoice.total
    reference = f"wispbill:client={ana.pk};invoice={invoice.pk}"
    _mp_payment(gateways, "555001", "approved", str(total), reference)
    before = _state(ana)

    forged = _mp_notify("555001", secret="not-the-secret")
    assert forged.status_code in (400, 401)
    assert _state(ana) == before

    assert _mp_notify("555001").status_code == 200
    paid = ("active", [("paid", total)], [("mercadopago", "555001", total, "applied")], 0)
    assert _state(ana) == paid
    assert _mp_notify("555001", request_id="req-2").status_code == 200  # delivered again
    assert _state(ana) == paid
    payment = Payment.objects.get(client=ana)
    assert payment.paid_on == timezone.localdate()

    _mp_payment(gateways, "555001", "refunded", str(total), reference)
    assert _mp_notify("555001", request_id="req-3").status_code == 200
    reversed_ = (
        "active",
        [("pending", Decimal("0.00"))],
        [("mercadopago", "555001", total, "reversed")],
        0,
    )
    assert _state(ana) == reversed_
    assert AuditEvent.objects.filter(action=AuditAction.PAYMENT_REVERSED).count() == 1
    _mp_payment(gateways, "555001", "approved", str(total), reference)
    assert _mp_notify("555001", request_id="req-4").status_code == 200  # a late "approved"
    assert _state(ana) == reversed_


def test_a_mercadopago_payment_naming_no_client_waits_for_a_person(gateways, isp, staff_api):
    ana = isp["ana"]
    _mp_payment(gateways, "777001", "approved", "150.00", None)
    before = _state(ana)
    assert _mp_notify("777001").status_code == 200
    assert _mp_notify("777001", request_id="again").status_code == 200
    assert _state(ana) == before
    line = BankLine.objects.get()
    assert (line.status, line.amount, line.reference, line.reason) == (
        "unmatched",
        Decimal("150.00"),
        "777001",
        "no_client",
    )
    answer = staff_api.post(
        f"/api/v1/bank-lines/{line.pk}/assign/", {"client": ana.pk}, format="json"
    )
    assert answer.status_code == 200, answer.content
    state, _invoices, payments, _credit = _state(ana)
    assert payments == [("mercadopago", "777001", Decimal("150.00"), "applied")]


# --- Stripe ----------------------------------------------------------------------------------


def _stripe_event(kind: str, obj: dict) -> bytes:
    event = {
        "id": f"evt_{kind}",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


def _session(ana, pi: str, cents: int, status: str = "paid") -> dict:
    return {
        "id": f"cs_{pi}",
        "object": "checkout.session",
        "payment_intent": pi,
        "payment_status": status,
        "amount_total": cents,
        "metadata": {"client": str(ana.pk), "invoice": ""},
    }


def _stripe_post(body: bytes, *, ts: int | None = None, secret: str = STRIPE_SECRET):
    ts = int(time.time()) if ts is None else ts
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return Browser().post(
        "/webhooks/stripe/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={ts},v1={digest}",
    )


def test_stripe_signed_events_pay_once_stale_and_forged_ones_change_nothing(gateways, isp):
    ana, invoice = isp["ana"], isp["invoice"]
    cents = int(invoice.total * 100) + 5_000  # 50.00 more than owed: credit
    body = _stripe_event("checkout.session.completed", _session(ana, "pi_1", cents))
    before = _state(ana)
    assert _stripe_post(body, secret="whsec_other").status_code in (400, 401)
    assert _stripe_post(body, ts=int(time.time()) - 6 * 60).status_code in (400, 401)
    assert Browser().post(
        "/webhooks/stripe/", body, content_type="application/json"
    ).status_code in (400, 401)
    assert _state(ana) == before

    assert _stripe_post(body).status_code == 200
    assert _stripe_post(body).status_code == 200
    amount = Decimal(cents) / 100
    paid = (
        "active",
        [("paid", invoice.total)],
        [("stripe", "pi_1", amount, "applied")],
        Decimal("50.00"),
    )
    assert _state(ana) == paid

    refund = _stripe_event(
        "charge.refunded", {"id": "ch_1", "payment_intent": "pi_1", "refunded": True}
    )
    assert _stripe_post(refund).status_code == 200
    assert _state(ana) == (
        "active",
        [("pending", Decimal("0.00"))],
        [("stripe", "pi_1", amount, "reversed")],
        Decimal("0.00"),
    )


def test_stripe_oxxo_pays_when_paid_and_a_refund_seen_first_means_it_never_pays(gateways, isp):
    ana, invoice = isp["ana"], isp["invoice"]
    cents = int(invoice.total * 100)
    voucher = _stripe_event("checkout.session.completed", _session(ana, "pi_oxxo", cents, "unpaid"))
    assert _stripe_post(voucher).status_code == 200
    assert Payment.objects.count() == 0  # a voucher is not money
    paid = _stripe_event(
        "checkout.session.async_payment_succeeded", _session(ana, "pi_oxxo", cents)
    )
    assert _stripe_post(paid).status_code == 200
    assert _state(ana)[2] == [("stripe", "pi_oxxo", invoice.total, "applied")]

    # Reordered: the refund of another payment arrives before its payment.
    refund = _stripe_event(
        "charge.refunded", {"id": "ch_2", "payment_intent": "pi_late", "refunded": True}
    )
    assert _stripe_post(refund).status_code == 200
    late = _stripe_event("checkout.session.completed", _session(ana, "pi_late", 10_000))
    assert _stripe_post(late).status_code == 200
    assert _state(ana)[2] == [("stripe", "pi_oxxo", invoice.total, "applied")]
    assert _state(ana)[3] == 0


def test_webhook_bodies_are_bounded(gateways):
    huge = b"{" + b" " * (300 * 1024) + b"}"
    assert _stripe_post(huge).status_code == 413


@pytest.mark.django_db(transaction=True)
def test_parallel_deliveries_of_one_payment_pay_once(gateways):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the race needs PostgreSQL")
    ana = ClientFactory(plan=PlanFactory(price=Decimal("400.00")))
    invoice_create_for_cycle(actor=None, client=ana)
    body = _stripe_event("checkout.session.completed", _session(ana, "pi_race", 40_000))
    start, answers = threading.Barrier(6), []

    def deliver():
        start.wait()
        try:
            answers.append(_stripe_post(body).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 6
    assert [(p.reference, p.amount) for p in Payment.objects.filter(client=ana)] == [
        ("pi_race", Decimal("400.00"))
    ]


# --- the pages ------------------------------------------------------------------------------


def test_the_client_page_offers_the_gateways_that_are_on_and_goes_to_the_checkout(
    gateways, isp, settings
):
    from wispbill.messaging.links import portal_token

    ana = isp["ana"]
    gateways.expect_request("/checkout/preferences", method="POST").respond_with_json(
        {"init_point": "https://mp.example/checkout?pref_id=p2"}
    )
    token, _expires = portal_token(ana.pk, revision=ana.portal_links_revision)
    page = Browser().get(f"/portal/{token}/?lang=es")
    html = page.content.decode()
    assert 'data-testid="pay-mercadopago"' in html and 'data-testid="pay-stripe"' in html
    assert "Pagar en línea" in html
    answer = Browser().post(f"/portal/{token}/pay/mercadopago/?lang=es", {"amount": "1.00"})
    assert answer.status_code == 302
    assert answer["Location"] == "https://mp.example/checkout?pref_id=p2"
    body = json.loads(gateways.log[-1][0].data)
    assert body["items"][0]["unit_price"] == float(isp["invoice"].total)
    assert Browser().post(f"/portal/{token}/pay/paypal/").status_code == 400
    assert Browser().post("/portal/not-a-token/pay/mercadopago/").status_code == 403

    settings.WISPBILL_STRIPE_WEBHOOK_SECRET = ""
    html = Browser().get(f"/portal/{token}/").content.decode()
    assert 'data-testid="pay-stripe"' not in html and 'data-testid="pay-mercadopago"' in html


def test_staff_see_the_gateways_and_make_a_link_on_the_client_page(gateways, isp, admin, staff):
    gateways.expect_request("/v1/checkout/sessions", method="POST").respond_with_json(
        {"url": "https://checkout.stripe.example/c/cs_9"}
    )
    browser = Browser()
    browser.force_login(admin)
    company = browser.get(_company_url()).content.decode()
    assert "/webhooks/mercadopago/" in company and "/webhooks/stripe/" in company
    assert MP_TOKEN not in company and STRIPE_SECRET not in company and STRIPE_KEY not in company
    browser.force_login(staff)
    ana = isp["ana"]
    answer = browser.post(f"/clients/{ana.pk}/payment-link/", {"provider": "stripe"})
    assert answer.status_code == 302
    page = browser.get(answer["Location"]).content.decode()
    assert "https://checkout.stripe.example/c/cs_9" in page


def _company_url() -> str:
    from django.urls import reverse

    return reverse("panel:company-settings")
