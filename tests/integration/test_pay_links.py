"""Pay links in the messages that ask for money: with a gateway on, the invoice and the reminder
(e-mail and WhatsApp) lead to the client's pay page, a link that keeps working and carries no
secret; opening it makes no checkout at the gateway. Without a gateway, no pay line at all."""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import Client as Browser

from wispbill.billing.services.payments import payment_register
from wispbill.messaging.models import Kind, Message
from wispbill.messaging.sending import messages_send_due
from wispbill.messaging.services import message_enqueue

pytestmark = pytest.mark.django_db
SECRETS = ("APP_USR-token", "mp-webhook-secret", "sk_test_key", "whsec_test")


@pytest.fixture
def gateways(settings, httpserver):
    base = httpserver.url_for("").rstrip("/")
    settings.WISPBILL_MERCADOPAGO_ACCESS_TOKEN, settings.WISPBILL_MERCADOPAGO_API_URL = (
        SECRETS[0],
        base,
    )
    settings.WISPBILL_MERCADOPAGO_WEBHOOK_SECRET = SECRETS[1]
    settings.WISPBILL_STRIPE_SECRET_KEY, settings.WISPBILL_STRIPE_API_URL = SECRETS[2], base
    settings.WISPBILL_STRIPE_WEBHOOK_SECRET = SECRETS[3]
    return httpserver


def _body(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def _pay_link(body: str) -> str:
    [link] = [word for word in body.split() if "/pay/" in word]
    return link


@pytest.mark.parametrize("kind", [Kind.INVOICE, Kind.REMINDER])
def test_a_message_asking_for_money_carries_the_pay_page_link(
    kind, gateways, smtp_server, whatsapp_api, billed_client
):
    client, invoice = billed_client
    message_enqueue(client=client, kind=kind, invoice=invoice)
    messages_send_due()

    [mail] = smtp_server.received
    body = _body(mail)
    assert "Paga en línea ahora (Mercado Pago, Stripe):" in body
    link = _pay_link(body)
    assert link.startswith("https://pagos.rednorte.example/portal/") and link.endswith("/pay/")
    assert not any(secret in body for secret in SECRETS)
    whatsapp = Message.objects.get(kind=kind, channel="whatsapp")
    assert whatsapp.params[3] == link

    # The link opens the client's page with its pay buttons; no checkout is made by opening it.
    page = Browser().get(urlsplit(link).path)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="pay-mercadopago"' in html and 'data-testid="pay-stripe"' in html
    assert "Lucía Fernández" in html and "$1,234.50" in html
    assert not [request for request, _response in gateways.log if "/checkout" in request.path]


def test_without_a_gateway_no_pay_line_and_whatsapp_keeps_the_page_link(
    smtp_server, whatsapp_api, billed_client
):
    client, invoice = billed_client
    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    messages_send_due()
    body = _body(smtp_server.received[0])
    assert "/pay/" not in body and "Paga en línea" not in body
    whatsapp = Message.objects.get(channel="whatsapp")
    assert whatsapp.params[3].startswith("https://pagos.rednorte.example/portal/")
    assert "/pay/" not in whatsapp.params[3]


def test_a_receipt_has_no_pay_link(
    gateways, smtp_server, admin, billed_client, django_capture_on_commit_callbacks
):
    client, _invoice = billed_client
    with django_capture_on_commit_callbacks(execute=True):
        payment_register(actor=admin, client=client, amount=Decimal("1234.50"))
    receipt = Message.objects.get(kind=Kind.RECEIPT, channel="email")
    assert "/pay/" not in receipt.body


def test_a_broken_pay_link_is_refused(gateways, billed_client):
    page = Browser().get("/portal/not-a-token/pay/")
    assert page.status_code == 403
