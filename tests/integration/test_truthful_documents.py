"""Documents and pages that tell the truth: a cancelled invoice asks for nothing, a receipt
says who took the money and its reference, the dashboard says what it counts, and the Spanish
panel shows no English and no raw placeholder."""

import re
import socket
from decimal import Decimal

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from tests.factories import ClientFactory, UserFactory, ZoneFactory, grant
from tests.messaging_fixtures import pdf_text
from wispbill.audit.models import AuditAction, AuditEvent
from wispbill.billing.services.invoices import invoice_cancel
from wispbill.billing.services.payments import payment_register
from wispbill.clients.enforcement import router_reconcile
from wispbill.clients.services.clients import client_create, client_update
from wispbill.messaging.links import portal_token
from wispbill.network.drivers import DriverError
from wispbill.network.services import router_create
from wispbill.staff.permissions import MANAGE_CLIENTS, REGISTER_PAYMENTS

pytestmark = pytest.mark.django_db

DUE = "9 de septiembre de 2026"


def _login(user) -> Browser:
    browser = Browser(HTTP_ACCEPT_LANGUAGE="es")
    browser.force_login(user)
    return browser


@pytest.fixture
def cancelled(admin, billed_client):
    client, invoice = billed_client
    return client, invoice_cancel(actor=admin, invoice=invoice)


def test_a_cancelled_invoice_asks_for_nothing_in_the_panel_page_and_its_pdf(admin, cancelled):
    client, invoice = cancelled
    browser = _login(admin)
    page = browser.get(reverse("panel:invoice-page", args=[invoice.pk])).content.decode()
    pdf = pdf_text(browser.get(reverse("panel:invoice-pdf", args=[invoice.pk])).content)
    for text in (page, pdf):
        assert "Factura cancelada" in text
        assert "Saldo por pagar" not in text and "Fecha de vencimiento" not in text
        assert DUE not in text
    table = browser.get(reverse("panel:client-edit", args=[client.pk])).content.decode()
    assert "Cancelada" in table and "Nada que pagar." in table
    assert "09/09/2026" not in table


def test_a_pending_invoice_still_says_what_is_left_and_by_when(admin, billed_client):
    _client, invoice = billed_client
    page = _login(admin).get(reverse("panel:invoice-page", args=[invoice.pk])).content.decode()
    assert "Saldo por pagar" in page and "$1,234.50" in page and DUE in page
    assert "Factura cancelada" not in page


def test_the_client_page_shows_a_cancelled_invoice_as_cancelled_and_nothing_due(cancelled):
    client, invoice = cancelled
    base = f"/portal/{portal_token(client.pk)[0]}/"
    page = Browser().get(base).content.decode()
    assert "Factura cancelada" in page and "$1,234.50" not in page and DUE not in page
    assert "No debes nada por ahora" in page
    pdf = pdf_text(Browser().get(f"{base}invoices/{invoice.pk}/pdf/").content)
    assert "Factura cancelada" in pdf and "Saldo por pagar" not in pdf and DUE not in pdf


def test_a_receipt_says_its_reference_and_who_received_the_money(admin, billed_client):
    client, _invoice = billed_client
    cashier = grant(UserFactory(username="caja.norte"), REGISTER_PAYMENTS, MANAGE_CLIENTS)
    payment = payment_register(
        actor=cashier, client=client, amount=Decimal("100.00"), reference="SPEI-778812"
    )
    browser = _login(admin)
    page = browser.get(reverse("panel:receipt-page", args=[payment.pk])).content.decode()
    pdf = pdf_text(browser.get(reverse("panel:receipt-pdf", args=[payment.pk])).content)
    for text in (page, pdf):
        assert "SPEI-778812" in text and "Recibido por: caja.norte" in text


def test_the_dashboard_says_what_each_sum_counts_and_offers_only_what_staff_may_do(staff):
    page = _login(staff).get("/").content.decode()
    assert "facturado este mes" in page and "facturas emitidas desde" in page
    assert "cobrado este mes" in page and "pagos recibidos desde" in page
    assert reverse("panel:mass-periodic-tasks") not in page


def test_an_audit_reason_missing_its_argument_shows_no_placeholder(admin):
    client = ClientFactory(name="Sin Fecha")
    AuditEvent.objects.create(
        at=timezone.now(),
        actor_name="system",
        action=AuditAction.CLIENT_CUT,
        object_type="client",
        object_id=client.pk,
        object_repr=client.name,
        reason="automatic: invoice %(id)s overdue since %(date)s",
        reason_args={"id": 7},
    )
    page = _login(admin).get(reverse("panel:audit-list")).content.decode()
    assert "Sin Fecha" in page
    assert "%(" not in page and ")s" not in page


# English that must never show in the Spanish panel, and what a forgotten placeholder looks like.
ENGLISH = re.compile(
    r"\b(Router history|cannot reach|could not connect|refused|Static IP|Connection|Pending|"
    r"Paid|Cancelled|None|True|False|Save|Delete|Loading|Not allowed)\b"
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\{|\{%")


def _visible(html: str) -> str:
    """The text a person reads: no tags, scripts or attribute values."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _unreachable_router(admin):
    """A MikroTik router on a loopback port nobody listens on, after a push that failed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    router = router_create(
        actor=admin, name="Torre Caída", host="127.0.0.1", api_port=port, username="api",
        password="clave", allow_local_host=True,
    )  # fmt: skip
    with pytest.raises(DriverError):
        router_reconcile(router)
    return router


def test_the_spanish_panel_shows_no_english_and_no_raw_placeholder(admin, cancelled):
    client, invoice = cancelled
    payment_register(actor=admin, client=client, amount=Decimal("50.00"))
    browser = _login(admin)
    down = _unreachable_router(admin)
    zone = ZoneFactory(router=down)
    pppoe = client_create(
        actor=admin, name="Ana PPPoE", ip="10.77.0.2", zone=zone, plan=client.plan,
        access="pppoe", pppoe_username="ana", pppoe_password="clave-123",
    )  # fmt: skip
    client_update(actor=admin, client=pppoe, data={"access": "static"})
    router = client.zone.router
    pages = [
        "/",
        reverse("panel:client-list"),
        reverse("panel:client-edit", args=[client.pk]),
        reverse("panel:invoice-list"),
        reverse("panel:payment-list"),
        reverse("panel:router-list"),
        reverse("panel:router-edit", args=[router.pk]),
        reverse("panel:router-edit", args=[down.pk]),
        reverse("panel:client-edit", args=[pppoe.pk]),
        reverse("panel:audit-list"),
        reverse("panel:periodic-tasks"),
        reverse("panel:invoice-page", args=[invoice.pk]),
    ]
    for path in pages:
        response = browser.get(path)
        assert response.status_code == 200, path
        text = _visible(response.content.decode())
        assert not ENGLISH.search(text), (path, ENGLISH.search(text).group())
        assert not PLACEHOLDER.search(text), (path, PLACEHOLDER.search(text).group())
    # The pages did show what the words are checked on: a failed connection, an access type.
    assert "no se pudo conectar con 127.0.0.1" in _visible(
        browser.get(reverse("panel:router-edit", args=[down.pk])).content.decode()
    )
    history = _visible(browser.get(reverse("panel:client-edit", args=[pppoe.pk])).content.decode())
    assert "IP estática" in history


def test_a_promise_beyond_the_client_pages_limit_is_refused_there_and_named_in_the_panel(
    admin, billed_client
):
    client, _invoice = billed_client
    browser = _login(admin)
    # The company lets clients promise up to 5 days ahead from their page (the default).
    portal = Browser().post(f"/portal/{portal_token(client.pk)[0]}/", {"until": "2026-09-20"})
    assert portal.status_code == 400 and "Elige un día" in portal.content.decode()
    near = browser.post(
        reverse("panel:client-action", args=[client.pk, "promise"]),
        {"until": "04/09/2026"},
        follow=True,
    ).content.decode()
    assert "Promesa registrada" in near and "límite de la empresa" not in near
    far = browser.post(
        reverse("panel:client-action", args=[client.pk, "promise"]),
        {"until": "20/09/2026"},
        follow=True,
    ).content.decode()
    assert "límite de la empresa de 5 días" in far
    client.refresh_from_db()
    assert client.promise_until.isoformat() == "2026-09-20"
