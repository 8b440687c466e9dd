"""The outbox against real servers: an SMTP server receiving the invoice with its PDF, a local
WhatsApp Cloud API failing and recovering, quiet hours, the unique key and the receipt."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from werkzeug import Response

from tests.factories import ClientFactory
from tests.messaging_fixtures import API_PATH, PHONE_ID, local, pdf_text
from wispbill.audit.models import AuditEvent
from wispbill.billing.debt import client_cut, client_reactivate
from wispbill.billing.services.invoices import invoice_cancel
from wispbill.billing.services.payments import payment_register
from wispbill.clients.models import Client, ClientState
from wispbill.messaging.models import Kind, Message, MessageStatus
from wispbill.messaging.sending import messages_send_due
from wispbill.messaging.services import (
    client_set_opt_out,
    message_enqueue,
    message_resend,
    messages_enqueue_bulk,
)
from wispbill.messaging.timing import MAX_ATTEMPTS

pytestmark = pytest.mark.django_db
MESSAGES = f"{API_PATH}/{PHONE_ID}/messages"
MEDIA = f"{API_PATH}/{PHONE_ID}/media"


def _attachments(mail) -> list:
    return [part for part in mail.iter_attachments()]


def test_invoice_email_reaches_the_smtp_server_with_its_pdf(smtp_server, billed_client):
    client, invoice = billed_client
    rows = message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    # WhatsApp is not configured here: its row says so and is never sent.
    assert sorted((m.channel, m.status) for m in rows) == [
        ("email", "queued"),
        ("whatsapp", "failed"),
    ]

    assert messages_send_due() == {"sent": 1, "failed": 0}

    assert len(smtp_server.received) == 1
    mail = smtp_server.received[0]
    assert smtp_server.logins == [("billing", "secret")]
    assert mail["To"] == "lucia@example.com"
    assert "facturas@isp.example" in mail["From"] and "Red Norte" in mail["From"]
    assert mail["Subject"] == "Tu factura de Red Norte"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Lucía Fernández" in body and "$1,234.50" in body
    assert "https://pagos.rednorte.example/portal/" in body
    [pdf] = _attachments(mail)
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == f"F-{invoice.pk:06d}.pdf"
    text = pdf_text(pdf.get_content())
    assert "Lucía Fernández" in text and "$1,234.50" in text
    assert "9 de septiembre de 2026" in text  # the due date, in the client's Spanish

    message = Message.objects.get(channel="email")
    assert message.status == MessageStatus.SENT and message.attempts == 1
    assert message.provider_id == mail["Message-ID"] and message.sent_at is not None
    # Sent is sent: running again sends nothing.
    assert messages_send_due() == {"sent": 0, "failed": 0}
    assert len(smtp_server.received) == 1


def test_a_refused_email_is_retried_later_and_sent_once(smtp_server, billed_client, noon):
    client, invoice = billed_client
    smtp_server.refuse = 1
    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    assert messages_send_due() == {"sent": 0, "failed": 1}
    message = Message.objects.get(channel="email")
    assert message.status == MessageStatus.QUEUED and "451" in message.last_error
    assert message.next_attempt_at == timezone.now() + timedelta(minutes=1)
    noon.shift(timedelta(minutes=1))
    assert messages_send_due() == {"sent": 1, "failed": 0}
    assert len(smtp_server.received) == 1


def _template_calls(httpserver) -> list[dict]:
    return [json.loads(r.data) for r, _resp in httpserver.log if r.path == MESSAGES]


def test_whatsapp_fails_then_recovers_with_back_off(whatsapp_api, settings, billed_client, noon):
    settings.WISPBILL_EMAIL_URL = ""
    client, invoice = billed_client
    answers = iter(
        [
            Response(
                json.dumps(
                    {
                        "error": {
                            "message": "Service temporarily unavailable",
                            "type": "OAuthException",
                            "code": 131016,
                            "error_data": {"messaging_product": "whatsapp", "details": "busy"},
                        }
                    }
                ),
                status=503,
                content_type="application/json",
            ),
            Response(
                json.dumps(
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": "+525512345678", "wa_id": "525512345678"}],
                        "messages": [{"id": "wamid.OK1"}],
                    }
                ),
                content_type="application/json",
            ),
        ]
    )
    whatsapp_api.expect_request(MEDIA, method="POST").respond_with_json({"id": "media-77"})
    whatsapp_api.expect_request(MESSAGES, method="POST").respond_with_handler(
        lambda request: next(answers)
    )

    client.email = ""
    client.save()
    [row] = message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    assert (row.channel, row.recipient) == ("whatsapp", "+525512345678")

    assert messages_send_due() == {"sent": 0, "failed": 1}
    message = Message.objects.get(channel="whatsapp")
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert message.last_error == "WhatsApp 131016: Service temporarily unavailable (busy)"
    # Not again before its back-off has passed.
    noon.shift(timedelta(seconds=30))
    assert messages_send_due() == {"sent": 0, "failed": 0}
    noon.shift(timedelta(seconds=30))
    assert messages_send_due() == {"sent": 1, "failed": 0}
    message.refresh_from_db()
    assert (message.status, message.provider_id, message.attempts) == ("sent", "wamid.OK1", 2)
    assert messages_send_due() == {"sent": 0, "failed": 0}

    calls = _template_calls(whatsapp_api)
    assert len(calls) == 2  # one failed, one sent: the client got it once
    sent = calls[-1]
    assert sent["to"] == "+525512345678" and sent["type"] == "template"
    template = sent["template"]
    assert template["name"] == "wispbill_invoice" and template["language"] == {"code": "es"}
    header, body = template["components"]
    assert header["parameters"][0]["document"] == {
        "id": "media-77",
        "filename": f"F-{invoice.pk:06d}.pdf",
    }
    params = [p["text"] for p in body["parameters"]]
    assert params[:3] == ["Lucía Fernández", "$1,234.50", "9 de septiembre de 2026"]
    assert params[3].startswith("https://pagos.rednorte.example/portal/")
    uploads = [r for r, _resp in whatsapp_api.log if r.path == MEDIA]
    assert uploads[0].headers["Authorization"] == "Bearer test-token"
    assert uploads[0].files["file"].read().startswith(b"%PDF")


def test_whatsapp_error_about_the_message_fails_at_once(whatsapp_api, settings, billed_client):
    settings.WISPBILL_EMAIL_URL = ""
    client, invoice = billed_client
    whatsapp_api.expect_request(MESSAGES, method="POST").respond_with_json(
        {"error": {"message": "Template name does not exist in the translation", "code": 132001}},
        status=400,
    )
    message_enqueue(client=client, kind=Kind.REMINDER, invoice=invoice)
    assert messages_send_due() == {"sent": 0, "failed": 1}
    message = Message.objects.get(channel="whatsapp")
    assert message.status == MessageStatus.FAILED and "132001" in message.last_error
    # A reminder carries no PDF: nothing was uploaded.
    assert [r.path for r, _resp in whatsapp_api.log] == [MESSAGES]


def test_a_message_that_keeps_failing_is_given_up(
    whatsapp_api, settings, admin, billed_client, noon
):
    settings.WISPBILL_EMAIL_URL = ""
    client, invoice = billed_client
    whatsapp_api.expect_request(MESSAGES, method="POST").respond_with_data("down", status=502)
    client_cut(actor=admin, client=client)
    message_enqueue(client=client, kind=Kind.CUT, invoice=invoice)
    for _attempt in range(MAX_ATTEMPTS):
        assert messages_send_due() == {"sent": 0, "failed": 1}
        noon.shift(timedelta(days=1))  # past any back-off, at noon again
    message = Message.objects.get(channel="whatsapp")
    assert (message.status, message.attempts) == ("failed", MAX_ATTEMPTS)
    assert "502" in message.last_error
    assert messages_send_due() == {"sent": 0, "failed": 0}


def test_nothing_leaves_in_quiet_hours(smtp_server, billed_client, company, noon):
    client, invoice = billed_client
    noon.move_to(local(2026, 9, 1, 22, 30))
    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    assert messages_send_due() == {"sent": 0, "failed": 0}
    noon.move_to(local(2026, 9, 2, 7, 59))
    assert messages_send_due() == {"sent": 0, "failed": 0}
    assert smtp_server.received == []
    assert Message.objects.get(channel="email").status == MessageStatus.QUEUED
    noon.move_to(local(2026, 9, 2, 8, 0))
    assert messages_send_due() == {"sent": 1, "failed": 0}
    # The company may choose other hours, or none.
    company.quiet_hours = "12:00-13:00"
    company.save()
    noon.move_to(local(2026, 9, 2, 12, 30))
    message_enqueue(client=client, kind=Kind.REMINDER, invoice=invoice)
    assert messages_send_due() == {"sent": 0, "failed": 0}
    company.quiet_hours = ""
    company.save()
    assert messages_send_due() == {"sent": 1, "failed": 0}


def test_channel_off_invalid_phone_and_opt_out_are_visible(channels_off, admin, billed_client):
    client, invoice = billed_client
    rows = {
        m.channel: m for m in message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    }
    assert rows["email"].status == rows["whatsapp"].status == MessageStatus.FAILED
    assert "WISPBILL_EMAIL_URL" in rows["email"].error_text
    assert rows["whatsapp"].error_text == (
        "Canal apagado: falta configurar WISPBILL_WHATSAPP_TOKEN, WISPBILL_WHATSAPP_PHONE_ID."
    )
    # Each reader sees the reason in their own language.
    with translation.override("en"):
        assert rows["whatsapp"].error_text.startswith("Channel off: WISPBILL_WHATSAPP_TOKEN")
    assert messages_send_due() == {"sent": 0, "failed": 0}

    other = ClientFactory(zone=client.zone, plan=client.plan, phone="12-34", email="")
    from wispbill.billing.services.invoices import invoice_create_for_cycle

    bad_invoice = invoice_create_for_cycle(actor=admin, client=other, day=invoice.issued_on)
    [row] = message_enqueue(client=other, kind=Kind.INVOICE, invoice=bad_invoice)
    assert row.channel == "whatsapp" and row.status == "failed"

    client_set_opt_out(actor=admin, client=client, channel="email", opted_out=True)
    assert AuditEvent.objects.filter(action="client.messages_opt_out").count() == 1
    rows = message_enqueue(client=client, kind=Kind.REMINDER, invoice=invoice)
    assert [m.channel for m in rows] == ["whatsapp"]


def test_invalid_phone_says_why(whatsapp_api, settings, admin, billed_client):
    settings.WISPBILL_EMAIL_URL = ""
    client, invoice = billed_client
    client.phone = "12-34"
    client.email = ""
    client.save()
    [row] = message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    assert row.status == "failed" and "12-34" in row.error_text and "MX" in row.error_text
    assert messages_send_due() == {"sent": 0, "failed": 0}
    assert whatsapp_api.log == []


def test_bulk_enqueue_is_set_based_and_queues_nothing_twice(
    smtp_server, admin, billed_client, django_assert_max_num_queries
):
    client, invoice = billed_client
    from wispbill.billing.services.invoices import invoice_create_for_cycle

    pairs = [(client.pk, invoice.pk)]
    for n in range(30):
        other = ClientFactory(
            zone=client.zone, plan=client.plan, email=f"c{n}@example.com", phone=""
        )
        pairs.append(
            (
                other.pk,
                invoice_create_for_cycle(actor=admin, client=other, day=invoice.issued_on).pk,
            )
        )
    # Every client is written to: a mismatched pair (another client's invoice) is skipped.
    pairs.append((client.pk, pairs[1][1]))
    with django_assert_max_num_queries(8):
        assert messages_enqueue_bulk(kind=Kind.INVOICE, items=pairs) == 31
    assert messages_enqueue_bulk(kind=Kind.INVOICE, items=pairs) == 0
    assert Message.objects.filter(status="queued").count() == 31
    assert messages_enqueue_bulk(kind=Kind.REMINDER, items=pairs[:5]) == 5


def test_a_payment_sends_its_receipt_whatever_the_switches(
    smtp_server, admin, billed_client, company, django_capture_on_commit_callbacks
):
    client, invoice = billed_client
    client.zone.task_invoices = client.zone.task_notices = client.zone.task_cuts = False
    client.zone.save()
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_register(actor=admin, client=client, amount=Decimal("1300.00"))
    # Queued in the payment's transaction, sent by the task after the commit.
    message = Message.objects.get(kind=Kind.RECEIPT, channel="email")
    assert message.payment_id == payment.pk and message.status == MessageStatus.SENT
    [mail] = smtp_server.received
    [pdf] = _attachments(mail)
    text = pdf_text(pdf.get_content())
    assert f"R-{payment.pk:06d}" in text and "$1,300.00" in text and "$1,234.50" in text
    assert "$65.50" in text  # the credit left over


def test_a_reminder_for_an_invoice_paid_meanwhile_is_not_sent(smtp_server, admin, billed_client):
    client, invoice = billed_client
    message_enqueue(client=client, kind=Kind.REMINDER, invoice=invoice)
    invoice_cancel(actor=admin, invoice=invoice)
    assert messages_send_due() == {"sent": 0, "failed": 0}
    message = Message.objects.get(kind=Kind.REMINDER, channel="email")
    assert message.status == "failed" and "ya no está pendiente" in message.error_text
    assert smtp_server.received == []


def test_resend_queues_a_message_again(smtp_server, admin, billed_client):
    client, invoice = billed_client
    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    messages_send_due()
    message = Message.objects.get(channel="email")
    message_resend(actor=admin, message=message)
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert messages_send_due() == {"sent": 1, "failed": 0}
    assert len(smtp_server.received) == 2
    assert AuditEvent.objects.filter(action="message.resent").count() == 1


def test_send_messages_command_prints_json(smtp_server, billed_client, capsys):
    client, invoice = billed_client
    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    call_command("send-messages")
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {
        "sent": 1,
        "failed": 0,
    }


def test_the_cut_notice_of_a_throttled_client_says_reduced_speed(
    smtp_server, whatsapp_api, billed_client
):
    client, invoice = billed_client
    whatsapp_api.expect_request(MESSAGES, method="POST").respond_with_json(
        {"messages": [{"id": "wamid.T1"}]}
    )
    # The cut task reduced the speed instead of suspending (a bulk update, as the engine's).
    Client.objects.filter(pk=client.pk).update(state=ClientState.THROTTLED)
    message_enqueue(client=client, kind=Kind.CUT, invoice=invoice)
    assert messages_send_due() == {"sent": 2, "failed": 0}
    [mail] = smtp_server.received
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert mail["Subject"] == "Se redujo la velocidad de tu internet"
    assert "Se redujo la velocidad de tu internet por un saldo pendiente de $1,234.50" in body
    assert "suspend" not in (mail["Subject"] + body).lower()
    [call] = _template_calls(whatsapp_api)
    assert call["template"]["name"] == "wispbill_throttled"


def test_a_cut_notice_is_not_sent_once_the_service_is_back(smtp_server, admin, billed_client):
    client, invoice = billed_client
    client_cut(actor=admin, client=client)
    message_enqueue(client=client, kind=Kind.CUT, invoice=invoice)
    # Reactivated by hand before the message left (it waited for the quiet hours, say).
    client_reactivate(actor=admin, client=client)
    assert messages_send_due() == {"sent": 0, "failed": 0}
    message = Message.objects.get(kind=Kind.CUT, channel="email")
    assert message.status == MessageStatus.FAILED
    assert message.error_text == "No enviado: el servicio del cliente ya no está cortado."
    assert smtp_server.received == []
