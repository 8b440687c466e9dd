"""The outbox in the panel: the messages page, "reenviar", the client's messages tab with its
channels and page link, the invoice and receipt documents, and the forecast's messages."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client as Browser

from tests.factories import ClientFactory, PlanFactory, UserFactory, ZoneFactory
from tests.messaging_fixtures import local, pdf_text
from wispbill.audit.models import AuditEvent
from wispbill.billing.services.payments import payment_register
from wispbill.messaging.models import Kind, Message, MessageStatus, OptOut
from wispbill.messaging.sending import messages_send_due
from wispbill.messaging.services import message_enqueue
from wispbill.staff.models import PanelPermission
from wispbill.staff.permissions import MANAGE_CLIENTS, REGISTER_PAYMENTS

pytestmark = pytest.mark.django_db


def _login(user, language: str = "es") -> Browser:
    browser = Browser()
    browser.force_login(user)
    if language != "es":
        browser.post("/i18n/setlang/", {"language": language, "next": "/"})
    return browser


def _granted(username: str, *codenames: str):
    """A staff member holding these permissions (the rows the permission table will hold)."""
    user = UserFactory(username=username)
    kind = ContentType.objects.get_for_model(PanelPermission)
    for codename in codenames:
        permission, _created = Permission.objects.get_or_create(
            codename=codename, content_type=kind, defaults={"name": codename}
        )
        user.user_permissions.add(permission)
    return user


@pytest.fixture
def outbox(smtp_server, billed_client, noon):
    """Lucía's invoice e-mail sent (its WhatsApp not: the channel is off), and a reminder
    queued at 22:30 that waits for the end of the quiet hours."""
    client, invoice = billed_client
    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    assert messages_send_due() == {"sent": 1, "failed": 0}
    noon.move_to(local(2026, 9, 1, 22, 30))
    message_enqueue(client=client, kind=Kind.REMINDER, invoice=invoice)
    messages_send_due()
    return client, invoice


def _row(page: str, message: Message) -> str:
    start = page.index(f'data-message="{message.pk}"')
    return page[start : page.index("</tr>", start)]


def test_messages_page_says_what_happened_to_each_message(admin, outbox):
    client, _invoice = outbox
    sent, off, waiting = (
        Message.objects.get(kind=Kind.INVOICE, channel="email"),
        Message.objects.get(kind=Kind.INVOICE, channel="whatsapp"),
        Message.objects.get(kind=Kind.REMINDER, channel="email"),
    )
    page = _login(admin).get("/messages/").content.decode()
    assert f'href="/clients/{client.pk}/#messages">Lucía Fernández' in page
    assert "Enviado" in _row(page, sent) and "01/09/2026 12:00" in _row(page, sent)
    assert "lucia@example.com" in _row(page, sent)
    assert "No enviado" in _row(page, off)
    assert "Canal apagado: falta configurar WISPBILL_WHATSAPP_TOKEN" in _row(page, off)
    assert "En espera" in _row(page, waiting)
    assert "Horario silencioso: ningún mensaje sale antes de las 08:00." in _row(page, waiting)
    assert "sale 02/09/2026 08:00" in _row(page, waiting)
    # The reasons are stored untranslated: an English reader gets them in English.
    english = _login(admin, "en").get("/messages/").content.decode()
    assert "Channel off: WISPBILL_WHATSAPP_TOKEN" in _row(english, off)
    assert "Quiet hours: no message leaves until 08:00." in _row(english, waiting)
    assert "Not sent" in _row(english, off) and "Waiting" in _row(english, waiting)


def test_a_retry_says_when_and_why(admin, smtp_server, billed_client, noon):
    client, invoice = billed_client
    smtp_server.refuse = 1
    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    messages_send_due()
    message = Message.objects.get(channel="email")
    row = _row(_login(admin).get("/messages/").content.decode(), message)
    assert "El intento 1 falló: SMTP 451" in row and "sale 01/09/2026 12:01" in row


def test_messages_page_filters_and_pages(admin, outbox, django_assert_max_num_queries):
    client, _invoice = outbox
    other = ClientFactory(name="Ramón Ortiz", email="ramon@example.com", phone="", zone=client.zone)
    for _n in range(60):  # each payment queues its receipt
        payment_register(actor=None, client=other, amount=Decimal("1"))
    browser = _login(admin)

    def rows(**params) -> int:
        return browser.get("/messages/", params).content.decode().count("data-message=")

    with django_assert_max_num_queries(12):
        assert rows() == 50  # a page
    assert rows(page=2) == 4 + 60 - 50
    assert rows(q="lucía") == 4 and rows(q="ramon@") == 50
    assert rows(q="lucia fernandez") == 4  # as the clients list finds her, accents or not
    assert rows(kind="reminder") == 2 and rows(channel="whatsapp") == 2
    assert rows(status="failed") == 2 and rows(status="sent") == 1
    assert rows(client=client.pk) == 4 and rows(client=client.pk, kind="invoice") == 2
    assert rows(day="2026-09-01") == 50 and rows(day="2026-09-02") == 0
    assert rows(day="01/09/2026") == 50 and rows(day="02/09/2026") == 0
    # Unknown values are no filter, never an error.
    assert rows(kind="nope", status="x", channel="y", day="31/02", client="abc") == 50


def test_resend_asks_confirmation_needs_the_permission_and_is_audited(admin, nobody, outbox):
    staff = nobody
    sent = Message.objects.get(kind=Kind.INVOICE, channel="email")
    staff_page = _login(staff).get("/messages/").content.decode()
    assert "Reenviar" not in staff_page
    assert _login(staff).post(f"/messages/{sent.pk}/resend/").status_code == 403
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT

    page = _login(admin).get("/messages/").content.decode()
    assert "¿Enviar de nuevo este mensaje a lucia@example.com?" in _row(page, sent)
    response = _login(admin).post(
        f"/messages/{sent.pk}/resend/", {"next": "/messages/?kind=invoice"}
    )
    assert response["Location"] == "/messages/?kind=invoice"
    sent.refresh_from_db()
    assert sent.status == MessageStatus.QUEUED
    assert AuditEvent.objects.filter(action="message.resent").count() == 1
    # A message already waiting, or one whose channel is off, is refused with the reason.
    off = Message.objects.get(kind=Kind.INVOICE, channel="whatsapp")
    browser = _login(admin)
    browser.post(f"/messages/{off.pk}/resend/")
    assert "Canal apagado" in browser.get("/messages/").content.decode()
    # Somewhere else: back to the messages page.
    assert browser.post(f"/messages/{off.pk}/resend/", {"next": "https://evil.example/"})[
        "Location"
    ] == ("/messages/")


def test_client_tab_lists_its_messages_and_switches_channels(admin, nobody, outbox):
    staff = nobody
    client, _invoice = outbox
    page = _login(admin).get(f"/clients/{client.pk}/").content.decode()
    assert 'data-tab="messages">Mensajes' in page
    assert page.count("data-message=") == 4
    assert "Recordatorio de pago" in page

    staff_page = _login(staff).get(f"/clients/{client.pk}/").content.decode()
    assert 'Solo lectura: necesita el permiso "Administrar clientes"' in staff_page
    assert _login(staff).post(f"/clients/{client.pk}/channels/", {"email": "0"}).status_code == 403
    assert not OptOut.objects.exists()

    response = _login(admin).post(
        f"/clients/{client.pk}/channels/", {"email": ["0"], "whatsapp": ["0", "1"]}
    )
    assert response["Location"] == f"/clients/{client.pk}/#messages"
    assert list(OptOut.objects.values_list("client_id", "channel")) == [(client.pk, "email")]
    assert AuditEvent.objects.filter(action="client.messages_opt_out").count() == 1
    page = _login(admin).get(f"/clients/{client.pk}/").content.decode()
    assert 'name="email" value="1" aria-label' in page
    assert 'aria-label="Enviar mensajes por Correo electrónico">' in page  # not checked


def test_client_page_link_for_staff_who_may_create_it(admin, nobody, billed_client):
    staff = nobody
    client, _invoice = billed_client
    cashier = _granted("cashier", REGISTER_PAYMENTS)
    clerk = _granted("clerk", MANAGE_CLIENTS)

    assert _login(staff).post(f"/clients/{client.pk}/portal-link/").status_code == 403
    assert "Crear un enlace" not in _login(staff).get(f"/clients/{client.pk}/").content.decode()
    for user in (admin, cashier, clerk):
        browser = _login(user)
        response = browser.post(f"/clients/{client.pk}/portal-link/")
        assert response["Location"] == f"/clients/{client.pk}/#messages"
        page = browser.get(f"/clients/{client.pk}/").content.decode()
        start = page.index('data-testid="portal-link"')
        url = page[
            page.rindex('value="', 0, start) + 7 : page.index(
                '"', page.rindex('value="', 0, start) + 7
            )
        ]
        assert url.startswith("https://pagos.rednorte.example/portal/")
        assert "Vale hasta el 01/10/2026." in page
        opened = Browser().get(url.split("pagos.rednorte.example", 1)[1])
        assert opened.status_code == 200 and "Lucía Fernández" in opened.content.decode()
        # Shown once: the next visit makes no new link by itself.
        assert (
            'data-testid="portal-link"'
            not in browser.get(f"/clients/{client.pk}/").content.decode()
        )
    assert AuditEvent.objects.filter(action="client.portal_link").count() == 3


def test_invoice_and_receipt_documents_from_the_panel(admin, staff, billed_client):
    client, invoice = billed_client
    client.language = "en"
    client.save()
    payment = payment_register(actor=admin, client=client, amount=Decimal("1300.00"))
    page = _login(staff).get(f"/clients/{client.pk}/").content.decode()
    assert (
        f'href="/invoices/{invoice.pk}/"' in page and f'href="/invoices/{invoice.pk}/pdf/"' in page
    )
    assert f'href="/payments/{payment.pk}/"' in page
    assert f'href="/payments/{payment.pk}/receipt/"' in page

    html = _login(staff).get(f"/invoices/{invoice.pk}/").content.decode()
    # The client's document in its language, the panel's buttons in the staff member's.
    assert f"F-{invoice.pk:06d}" in html and "September 9, 2026" in html and "Invoice" in html
    assert "Imprimir" in html and "Descargar PDF" in html and "data-print" in html
    assert f'href="/clients/{client.pk}/#money"' in html
    assert "/static/documents/screen.css" in html  # its buttons do not print

    pdf = _login(staff).get(f"/invoices/{invoice.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert "September 9, 2026" in pdf_text(pdf.content)
    receipt = _login(staff).get(f"/payments/{payment.pk}/receipt/")
    assert f"R-{payment.pk:06d}" in pdf_text(receipt.content)
    assert "$1,300.00" in _login(staff).get(f"/payments/{payment.pk}/").content.decode()
    assert Browser().get(f"/invoices/{invoice.pk}/pdf/").status_code == 302  # login first
    assert _login(staff).get("/invoices/999999/").status_code == 404


def test_forecast_shows_the_messages_each_day_would_queue(admin, smtp_server, company):
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    for name, email in (("Raúl Torres", "raul@example.com"), ("Eva Luna", "eva@")):
        ClientFactory(
            zone=zone,
            name=name,
            email=email,
            phone="",
            start_date=date(2026, 8, 15),
            plan=PlanFactory(price=Decimal("399.00")),
        )
    with time_machine.travel(local(2026, 8, 24, 12, 0), tick=False):
        page = _login(admin).get("/periodic-tasks/forecast/").content.decode()
    day = page.index('data-day="2026-08-25"')
    table = page[page.index('data-testid="forecast-messages"', day) : page.index("</table>", day)]
    # One invoice e-mail would leave; Eva's address is not valid, so hers would not.
    assert "Factura" in table and "1 <span" in table and "(1 no saldrá)" in table
    assert "Raúl Torres" in table and "Eva Luna" in table
    assert not Message.objects.exists()


def test_quiet_hours_are_validated_where_they_are_saved(admin, admin_api):
    for bad in ("21-8", "25:00-08:00", "9:00-17:00", "nunca"):
        response = admin_api.patch("/api/v1/company/", {"quiet_hours": bad}, format="json")
        assert response.status_code == 400, bad
        assert "HH:MM-HH:MM" in response.json()["quiet_hours"][0]
    english = admin_api.patch(
        "/api/v1/company/", {"quiet_hours": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert english.json()["quiet_hours"][0].startswith("Write the quiet hours as HH:MM-HH:MM")
    for good, stored in ((" 22:00-07:00 ", "22:00-07:00"), ("", "")):
        response = admin_api.patch("/api/v1/company/", {"quiet_hours": good}, format="json")
        assert response.status_code == 200 and response.json()["quiet_hours"] == stored
    spanish = admin_api.patch("/api/v1/company/", {"quiet_hours": "x"}, format="json")
    assert "Escriba" in spanish.json()["quiet_hours"][0]


def test_the_reason_a_message_waits_follows_the_company_hours(admin, outbox, company):
    _client, _invoice = outbox
    waiting = Message.objects.get(kind=Kind.REMINDER, channel="email")
    company.quiet_hours = ""
    company.save()
    with time_machine.travel(local(2026, 9, 1, 22, 31), tick=False):
        row = _row(_login(admin).get("/messages/").content.decode(), waiting)
    assert "Sale en menos de un minuto." in row
    assert waiting.next_attempt_at < local(2026, 9, 1, 22, 31) + timedelta(minutes=1)
