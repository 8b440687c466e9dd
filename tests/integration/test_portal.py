"""The client's page behind a signed link, the PDF endpoints and the outbox over the API."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client as Browser

from tests.factories import ClientFactory
from tests.messaging_fixtures import local, pdf_text
from wispbill.audit.models import AuditEvent
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.billing.services.payments import payment_register, payment_void
from wispbill.clients.models import Promise
from wispbill.messaging.documents import receipt_document_context
from wispbill.messaging.links import portal_token

pytestmark = pytest.mark.django_db


def _path(url: str) -> str:
    return url.split("pagos.rednorte.example", 1)[1]


@pytest.fixture
def link(admin_api, billed_client):
    client, _invoice = billed_client
    response = admin_api.post(f"/api/v1/clients/{client.pk}/portal-link/")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def neighbour(admin, billed_client):
    """Another client of the same zone, with an invoice of its own."""
    client, invoice = billed_client
    other = ClientFactory(name="Ramón Ortiz", zone=client.zone, plan=client.plan)
    return other, invoice_create_for_cycle(actor=admin, client=other, day=invoice.issued_on)


def test_portal_link_answers_url_and_expiry(link, billed_client):
    client, _invoice = billed_client
    assert link["url"].startswith("https://pagos.rednorte.example/portal/")
    assert link["expires_at"].startswith(
        (local(2026, 9, 1, 12) + timedelta(days=settings.PORTAL_LINK_DAYS)).date().isoformat()
    )
    assert AuditEvent.objects.filter(action="client.portal_link", object_id=client.pk).exists()


def test_the_page_shows_the_clients_own_data(link, billed_client, neighbour):
    client, invoice = billed_client
    page = Browser().get(_path(link["url"]))
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert "Lucía Fernández" in html and "$1,234.50" in html
    assert "9 de septiembre de 2026" in html and "Deposite en BANCO 123" in html
    assert f"invoices/{invoice.pk}/pdf/" in html
    assert "Ramón Ortiz" not in html and f"invoices/{neighbour[1].pk}/" not in html
    # No staff functions: no panel navigation, no logout, no API.
    assert "/logout/" not in html and "/api/" not in html
    english = Browser().get(_path(link["url"]) + "?lang=en").content.decode()
    assert "Amount due" in english and "September 9, 2026" in english


def test_the_page_and_the_receipt_number_each_document(link, admin, billed_client):
    """The numbers a client reads on its documents: F- for an invoice, R- for a payment (with
    the day it was received), and the receipt names the invoices it paid by their numbers."""
    client, invoice = billed_client
    payment = payment_register(actor=admin, client=client, amount=Decimal("500.00"))
    html = Browser().get(_path(link["url"])).content.decode()
    assert f"F-{invoice.pk:06d} · " in html and f"R-{payment.pk:06d} · " in html
    receipt = receipt_document_context(payment)
    assert [number for _allocation, number in receipt["allocations"]] == [f"F-{invoice.pk:06d}"]
    assert f"F-{invoice.pk:06d} (" in render_to_string("documents/receipt.html", receipt)


def test_a_voided_payment_is_listed_as_voided(link, admin, billed_client):
    """The client sees the payment it made and that it was voided, not a payment that counts."""
    client, _invoice = billed_client
    kept = payment_register(actor=admin, client=client, amount=Decimal("500.00"))
    voided = payment_register(actor=admin, client=client, amount=Decimal("200.00"))
    payment_void(actor=admin, payment=voided, reason="Cheque sin fondos")
    html = Browser().get(_path(link["url"])).content.decode()
    rows = html.split('data-testid="payment"')[1:]
    (undone,) = [row for row in rows if f"R-{voided.pk:06d}" in row]
    assert 'data-testid="payment-undone"' in undone and "Anulado" in undone
    assert "No pagó nada." in undone and "money undone" in undone
    (counted,) = [row for row in rows if f"R-{kept.pk:06d}" in row]
    assert "payment-undone" not in counted and "undone" not in counted


def test_documents_of_the_client_only(link, billed_client, neighbour):
    client, invoice = billed_client
    base = _path(link["url"])
    own = Browser().get(f"{base}invoices/{invoice.pk}/pdf/")
    assert own.status_code == 200 and own["Content-Type"] == "application/pdf"
    assert "Lucía Fernández" in pdf_text(own.content)
    assert Browser().get(f"{base}invoices/{neighbour[1].pk}/pdf/").status_code == 404
    assert Browser().get(f"{base}invoices/999999/pdf/").status_code == 404
    payment = payment_register(actor=None, client=neighbour[0], amount=Decimal("10.00"))
    assert Browser().get(f"{base}payments/{payment.pk}/receipt/").status_code == 404


def test_altered_and_expired_links_are_refused(link, billed_client, noon):
    client, invoice = billed_client
    path = _path(link["url"])
    token = path.split("/")[2]
    altered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for bad in (altered, "nothing", portal_token(client.pk)[0].replace(":", ":x", 1)):
        page = Browser().get(f"/portal/{bad}/")
        assert page.status_code == 403
        assert "Lucía" not in page.content.decode() and "$1,234.50" not in page.content.decode()
        assert Browser().get(f"/portal/{bad}/invoices/{invoice.pk}/pdf/").status_code == 403
    # A token for another client cannot be made from this one's: the id is signed.
    noon.shift(timedelta(days=settings.PORTAL_LINK_DAYS - 1))
    assert Browser().get(path).status_code == 200
    noon.shift(timedelta(days=1, seconds=1))
    expired = Browser().get(path)
    assert expired.status_code == 403 and "Lucía" not in expired.content.decode()


def test_promise_within_the_rules(link, billed_client, company):
    client, _invoice = billed_client
    path = _path(link["url"])
    browser = Browser()
    too_far = browser.post(path, {"until": "2026-09-20"})
    assert too_far.status_code == 400 and "Elige un día" in too_far.content.decode()
    done = browser.post(path, {"until": "2026-09-05"})
    assert done.status_code == 302 and "promised=1" in done["Location"]
    client.refresh_from_db()
    assert client.promise_until == date(2026, 9, 5)
    event = AuditEvent.objects.get(action="client.promise", object_id=client.pk)
    assert event.actor is None and event.actor_name == "system"
    # One per cycle by default: the second is refused and changes nothing.
    again = browser.post(path, {"until": "2026-09-06"})
    assert again.status_code == 400 and "Ya hiciste" in again.content.decode()
    client.refresh_from_db()
    assert client.promise_until == date(2026, 9, 5) and Promise.objects.count() == 1
    assert browser.post(path, {"until": "not a date"}).status_code == 400


def test_promises_switched_off_or_nothing_owed(link, admin, billed_client, company):
    client, _invoice = billed_client
    path = _path(link["url"])
    company.portal_promise_days = 0
    company.save()
    page = Browser().get(path).content.decode()
    assert 'name="until"' not in page
    assert Browser().post(path, {"until": "2026-09-03"}).status_code == 400
    company.portal_promise_days = 5
    company.save()
    payment_register(actor=admin, client=client, amount=Decimal("1234.50"))
    refused = Browser().post(path, {"until": "2026-09-03"})
    assert refused.status_code == 400 and "No tienes saldo pendiente" in refused.content.decode()
    assert not Promise.objects.exists()


def test_the_notice_page_links_to_the_page_and_the_notice_port_serves_it(billed_client):
    client, invoice = billed_client
    notice_port = {"SERVER_PORT": str(settings.NOTICE_PORT), "REMOTE_ADDR": client.ip}
    notice = Browser().get("/anything/", **notice_port)
    html = notice.content.decode()
    start = html.index('href="/portal/') + len('href="')
    portal_path = html[start : html.index('"', start)].replace("&amp;", "&")
    page = Browser().get(portal_path, **notice_port)
    assert page.status_code == 200 and "Lucía Fernández" in page.content.decode()
    pdf = Browser().get(portal_path.split("?")[0] + f"invoices/{invoice.pk}/pdf/", **notice_port)
    assert pdf["Content-Type"] == "application/pdf"
    # Everything else on the notice port is still the notice page.
    assert "/portal/" in Browser().get("/api/v1/clients/", **notice_port).content.decode()


def test_pdfs_through_the_api(staff_api, admin, billed_client):
    client, invoice = billed_client
    response = staff_api.get(f"/api/v1/invoices/{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Lucía Fernández" in text and "$1,234.50" in text
    assert "9 de septiembre de 2026" in text and f"F-{invoice.pk:06d}" in text
    assert "Red Norte" in text and "Deposite en BANCO 123" in text

    payment = payment_register(actor=admin, client=client, amount=Decimal("500.00"))
    receipt = staff_api.get(f"/api/v1/payments/{payment.pk}/receipt/")
    assert receipt["Content-Type"] == "application/pdf"
    text = pdf_text(receipt.content)
    assert "Lucía Fernández" in text and "$500.00" in text and f"R-{payment.pk:06d}" in text

    client.language = "en"
    client.save()
    english = pdf_text(staff_api.get(f"/api/v1/invoices/{invoice.pk}/pdf/").content)
    assert "September 9, 2026" in english and "due date" in english.lower()

    assert staff_api.get("/api/v1/invoices/999999/pdf/").status_code == 404
    assert staff_api.get("/api/v1/payments/999999/receipt/").status_code == 404
    assert Browser().get(f"/api/v1/invoices/{invoice.pk}/pdf/").status_code == 401
    assert staff_api.post("/api/v1/clients/999999/portal-link/").status_code == 404


def test_messages_api(admin_api, settings, billed_client):
    settings.WISPBILL_EMAIL_URL = ""
    client, invoice = billed_client
    from wispbill.messaging.models import Kind
    from wispbill.messaging.services import message_enqueue

    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    body = admin_api.get(f"/api/v1/messages/?client={client.pk}").json()
    assert body["count"] == 2
    row = body["results"][0]
    assert set(row) >= {
        "id",
        "client",
        "channel",
        "kind",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    }
    assert row["kind"] == "invoice" and row["status"] == "failed" and row["client"] == client.pk
    assert admin_api.get("/api/v1/messages/?status=queued").json()["count"] == 0
    assert admin_api.get("/api/v1/messages/?status=nope").status_code == 400
    assert admin_api.get("/api/v1/messages/?client=abc").status_code == 400
    assert admin_api.get(f"/api/v1/messages/{row['id']}/").json()["id"] == row["id"]
