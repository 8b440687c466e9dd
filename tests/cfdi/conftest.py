"""Real parts for the CFDI tests: CSD-shaped certificates made here with `cryptography` (valid
around the test's instant, the RFC where SAT puts it, the key as SAT's .key: PKCS#8 DER
encrypted with the password), and a PAC stand-in on loopback speaking the SW Sapien paths that
satcfdi's driver uses, which checks each seal against the certificate in the XML and adds a
TimbreFiscalDigital signed with its own certificate."""

import json
import re
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings
from satcfdi.cfdi import CFDI
from satcfdi.models import Signer
from werkzeug import Response

from tests.factories import ClientFactory, PlanFactory, UserFactory, ZoneFactory
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.billing.services.payments import payment_register
from wispbill.cfdi.csd import csd_install
from wispbill.cfdi.models import CfdiDocument
from wispbill.cfdi.services import cfdi_stamp_due
from wispbill.core.models import CompanySettings
from wispbill.devtools.csd import COMPANY_RFC, PASSWORD, Csd, make_csd
from wispbill.devtools.pac import pac_csd, verify_seal, with_stamp

PERSON_RFC = "PEPJ8001019QA"
SEPT_6 = "2026-09-06 10:00"
CFDI_NS = "http://www.sat.gob.mx/cfd/4"


@pytest.fixture
def csd() -> Csd:
    """Made at the test's instant: valid around it."""
    return make_csd()


@dataclass
class PacStandIn:
    """What the stand-in is told to do, and what it saw."""

    url: str
    mode: str = "ok"  # ok, refuse, error500, garbage, slow, lost, cancel_down (stamps only)
    stamped: dict = field(default_factory=dict)  # customid -> (uuid, xml)
    stamp_calls: int = 0
    cancelled: list = field(default_factory=list)
    seals_checked: int = 0


@pytest.fixture
def pac(httpserver):
    """The PAC stand-in, and the settings that point wispbill at it."""
    pac_signer = Signer.load(*pac_csd())
    stand_in = PacStandIn(url=httpserver.url_for("/"))

    def fail(status: int, code: str, message: str) -> Response:
        body = {"status": "error", "message": code, "messageDetail": message}
        return Response(json.dumps(body), status=status, content_type="application/json")

    def authenticate(request):
        if (request.headers.get("user"), request.headers.get("password")) != ("isp", "secreto"):
            return fail(401, "AU4101", "usuario o contraseña inválidos")
        body = {"status": "success", "data": {"token": "T0KEN", "expires_in": 0}}
        return Response(json.dumps(body), content_type="application/json")

    def stamp(request):
        stand_in.stamp_calls += 1
        if request.headers.get("Authorization") != "Bearer T0KEN":
            return fail(401, "AU2000", "token inválido")
        if stand_in.mode == "error500":
            return Response("Internal Server Error", status=500)
        if stand_in.mode == "garbage":
            return Response("<html>proxy</html>", status=200, content_type="text/html")
        if stand_in.mode == "slow":
            time.sleep(2)
        xml = request.files["xml"].read()
        cfdi = CFDI.from_string(xml)
        if not verify_seal(cfdi):
            return fail(400, "CFDI40102", "El resultado de la digestión debe ser igual al sello")
        stand_in.seals_checked += 1
        if stand_in.mode == "refuse":
            return fail(
                400,
                "CFDI40147",
                "El campo RegimenFiscalReceptor no corresponde con el RFC del receptor.",
            )
        customid = request.headers.get("customid", "")
        if customid in stand_in.stamped:
            uuid, stamped = stand_in.stamped[customid]
            body = {
                "status": "error",
                "message": "307. El comprobante contiene un timbre previo.",
                "data": {"uuid": uuid, "cfdi": stamped},
            }
            return Response(json.dumps(body), status=400, content_type="application/json")
        uuid, stamped = with_stamp(xml, pac_signer, cfdi)
        stand_in.stamped[customid] = (uuid, stamped)
        if stand_in.mode == "lost":
            time.sleep(2)  # stamped, but the answer does not arrive in time
        body = {"status": "success", "data": {"uuid": uuid, "cfdi": stamped}}
        return Response(json.dumps(body), content_type="application/json")

    def cancel(request):
        if stand_in.mode in ("error500", "cancel_down"):
            return Response("Internal Server Error", status=500)
        parts = request.path.strip("/").split("/")  # cfdi33 cancel rfc uuid reason [subst]
        stand_in.cancelled.append(parts[2:])
        body = {
            "status": "success",
            "data": {"uuid": {parts[3]: "201"}, "acuse": "<Acuse/>"},
        }
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/security/authenticate", method="POST").respond_with_handler(
        authenticate
    )
    httpserver.expect_request("/v4/cfdi33/stamp/v4", method="POST").respond_with_handler(stamp)
    httpserver.expect_request(
        re.compile(r"^/cfdi33/cancel/.*"), method="POST"
    ).respond_with_handler(cancel)
    with override_settings(
        WISPBILL_PAC="swsapien",
        WISPBILL_PAC_USER="isp",
        WISPBILL_PAC_PASSWORD="secreto",
        WISPBILL_PAC_URL=stand_in.url,
    ):
        yield stand_in


# --- a company that stamps, and a client with an RFC ---------------------------------------


def _company(**values) -> CompanySettings:
    defaults = {
        "rfc": COMPANY_RFC,
        "legal_name": "Escuela Kemper Urgate",
        "tax_regime": "601",
        "postal_code": "42501",
        "cfdi": "on_payment",
    }
    CompanySettings.objects.update_or_create(pk=1, defaults={**defaults, **values})
    return CompanySettings.load()


def _good() -> dict:
    return {
        "rfc": PERSON_RFC,
        "fiscal_name": "Juan Pérez Pérez",
        "fiscal_regime": "612",
        "fiscal_postal_code": "06000",
    }


@pytest.fixture
def ready(csd):
    """A company with its fiscal data and CSD, stamping on payment, and a client with an
    RFC whose September invoice is issued."""
    _company()
    admin = UserFactory(is_superuser=True)
    csd_install(actor=admin, certificate=csd.certificate, private_key=csd.key, password=PASSWORD)
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    client = ClientFactory(
        zone=zone,
        plan=PlanFactory(price=Decimal("399.00")),
        start_date=date(2026, 1, 1),
        task_invoices=False,
        **_good(),
    )
    invoice = invoice_create_for_cycle(actor=admin, client=client, day=date(2026, 9, 6))
    return admin, client, invoice


def _pay(admin, client, invoice) -> CfdiDocument:
    payment_register(actor=admin, client=client, amount=invoice.total)
    return CfdiDocument.objects.get(invoice=invoice)


def _stamped(admin, client, invoice) -> CfdiDocument:
    """The invoice paid in full, and its PUE CFDI stamped."""
    document = _pay(admin, client, invoice)
    assert cfdi_stamp_due().stamped == 1
    document.refresh_from_db()
    return document
