"""Real servers for the messaging tests: an SMTP server (aiosmtpd) and, through
pytest-httpserver, a local stand-in for the WhatsApp Cloud API."""

import email
import socket
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from email import policy
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from wispbill.core.models import CompanySettings

API_PATH = "/v23.0"
PHONE_ID = "1098765"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(settings.TIME_ZONE))


def pdf_text(content: bytes) -> str:
    """The PDF's text with its line breaks folded, so a wrapped date still reads whole."""
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)
    return " ".join(text.split())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mailbox:
    """What the SMTP server received; `refuse` answers the next DATA commands with 451."""

    received: list = field(default_factory=list)
    logins: list = field(default_factory=list)
    refuse: int = 0
    # When each mail arrived, on the ISP's clock (the tests' travelled one).
    arrived: list = field(default_factory=list)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.received.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.arrived.append(timezone.localtime())
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=mailbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    settings.WISPBILL_EMAIL_URL = f"smtp://billing:secret@127.0.0.1:{controller.port}"
    settings.WISPBILL_FROM_EMAIL = "facturas@isp.example"
    yield mailbox
    controller.stop()


@pytest.fixture
def whatsapp_api(settings, httpserver):
    settings.WISPBILL_WHATSAPP_API_URL = httpserver.url_for(API_PATH)
    settings.WISPBILL_WHATSAPP_TOKEN = "test-token"
    settings.WISPBILL_WHATSAPP_PHONE_ID = PHONE_ID
    return httpserver


@pytest.fixture
def channels_off(settings):
    settings.WISPBILL_EMAIL_URL = ""
    settings.WISPBILL_WHATSAPP_TOKEN = ""
    settings.WISPBILL_WHATSAPP_PHONE_ID = ""


@pytest.fixture
def company(db):
    row = CompanySettings.load()
    row.name = "Red Norte"
    row.public_url = "https://pagos.rednorte.example"
    row.payment_instructions = "Deposite en BANCO 123, cuenta 0011."
    row.save()
    return row


@pytest.fixture
def noon():
    """A working day at noon in the ISP's zone, outside the default quiet hours."""
    with time_machine.travel(local(2026, 9, 1, 12, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def billed_client(admin, company, noon):
    """A client with e-mail and a Mexican mobile, and its pending invoice of September."""
    from wispbill.billing.services.invoices import invoice_create_for_cycle

    zone = ZoneFactory(pay_day=5, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    client = ClientFactory(
        name="Lucía Fernández",
        email="lucia@example.com",
        phone="55 1234 5678",
        zone=zone,
        plan=PlanFactory(price=Decimal("1234.50")),
        start_date=date(2026, 1, 1),
    )
    # Issued on its usual day: due on the pay day plus grace, 9 September.
    invoice = invoice_create_for_cycle(actor=admin, client=client, day=date(2026, 8, 29))
    return client, invoice
