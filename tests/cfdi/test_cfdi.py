"""CFDI 4.0 (issue 19): the CSD checked once, fiscal data checked where it enters, an invoice
paid in full stamped as PUE by a PAC stand-in that checks its seal, once, whatever the PAC does
(refuses, answers 500 or garbage, answers too late), and cancelled only with SAT's reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from satcfdi.cfdi import CFDI

from tests.cfdi.conftest import (
    COMPANY_RFC,
    PASSWORD,
    PERSON_RFC,
    SEPT_6,
    _company,
    _good,
    _pay,
    make_csd,
    verify_seal,
)
from tests.factories import ClientFactory
from wispbill.cfdi import pac as pac_adapter
from wispbill.cfdi.models import CfdiDocument, CfdiStatus
from wispbill.cfdi.services import cfdi_stamp_due, document_retry, invoice_cfdi_cancel
from wispbill.core.models import CompanySettings

pytestmark = pytest.mark.django_db


def _upload(api, csd, **changes):
    files = {
        "certificate": ("csd.cer", csd.certificate),
        "private_key": ("csd.key", csd.key),
        "password": csd.password,
        **changes,
    }
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {
        name: SimpleUploadedFile(value[0], value[1]) if isinstance(value, tuple) else value
        for name, value in files.items()
    }
    return api.post("/api/v1/company/csd/", data, format="multipart", HTTP_ACCEPT_LANGUAGE="es")


@pytest.mark.instant(SEPT_6)
def test_the_csd_is_checked_and_kept_encrypted(admin_api, csd):
    _company()
    answer = _upload(admin_api, csd)
    assert answer.status_code == 200, answer.content
    assert answer.json()["serial"] == "30001000000500003416"
    assert answer.json()["rfc"] == COMPANY_RFC
    company = CompanySettings.load()
    assert company.csd_serial == "30001000000500003416"
    assert PASSWORD not in company.csd_password and company.csd_key
    assert "csd" not in str(admin_api.get("/api/v1/company/").json()).lower()


@pytest.mark.instant(SEPT_6)
@pytest.mark.parametrize(
    "case, message",
    [
        ("wrong_password", "no se abre con esta contraseña"),
        ("other_key", "pertenece a otro certificado"),
        ("expired", "no hoy"),
        ("other_rfc", "no el de la empresa"),
        ("garbage", "no es un certificado"),
    ],
)
def test_a_bad_csd_is_refused_and_nothing_is_kept(admin_api, csd, case, message):
    _company()
    if case == "wrong_password":
        answer = _upload(admin_api, csd, password="otra-clave")
    elif case == "other_key":
        answer = _upload(admin_api, csd, private_key=("csd.key", make_csd().key))
    elif case == "expired":
        answer = _upload(admin_api, make_csd(days_from=-800, days_to=-1))
    elif case == "other_rfc":
        answer = _upload(admin_api, make_csd(rfc="XIA190128J61"))
    else:
        answer = _upload(admin_api, csd, certificate=("csd.cer", b"not a certificate"))
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert CompanySettings.load().csd_certificate == ""


@pytest.mark.instant(SEPT_6)
@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"rfc": "PEPJ8001019Q1"}, "rfc", "dígito verificador"),
        ({"fiscal_postal_code": "0600"}, "fiscal_postal_code", "5 dígitos"),
        ({"fiscal_regime": "601"}, "fiscal_regime", "no es para una persona física"),
        ({"fiscal_name": ""}, "fiscal_name", "nombre fiscal"),
    ],
)
def test_a_client_fiscal_data_is_checked_where_it_enters(admin_api, changes, field, message):
    client = ClientFactory()
    data = {
        "rfc": PERSON_RFC,
        "fiscal_name": "Juan Pérez Pérez",
        "fiscal_regime": "612",
        "fiscal_postal_code": "06000",
        **changes,
    }
    answer = admin_api.patch(
        f"/api/v1/clients/{client.pk}/", data, format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert answer.status_code == 400
    assert field in answer.json() and message in str(answer.json()[field])
    client.refresh_from_db()
    assert client.rfc == ""
    good = admin_api.patch(
        f"/api/v1/clients/{client.pk}/",
        {**data, **{field: value for field, value in _good().items() if field in changes}},
        format="json",
    )
    assert good.status_code == 200, good.content
    assert good.json()["rfc"] == PERSON_RFC and good.json()["cfdi_use"] == "S01"


@pytest.mark.instant(SEPT_6)
def test_a_paid_invoice_is_stamped_once_as_pue(pac, ready):
    admin, client, invoice = ready
    document = _pay(admin, client, invoice)
    assert document.status == CfdiStatus.PENDING
    outcome = cfdi_stamp_due()
    document.refresh_from_db()
    assert (outcome.stamped, outcome.failed) == (1, 0)
    assert document.status == CfdiStatus.STAMPED and pac.seals_checked == 1
    cfdi = CFDI.from_string(document.xml.encode())
    cfdi.to_xml(validate=True)  # SAT's schema
    assert verify_seal(cfdi)
    assert cfdi["Complemento"]["TimbreFiscalDigital"]["UUID"] == document.uuid
    assert (cfdi["MetodoPago"], cfdi["FormaPago"]) == ("PUE", "01")
    assert cfdi["Total"] == invoice.total == Decimal("399.00")
    assert cfdi["SubTotal"] == invoice.subtotal
    assert cfdi["Impuestos"]["TotalImpuestosTrasladados"] == invoice.tax
    assert cfdi["Receptor"]["Rfc"] == PERSON_RFC
    # Nothing stamps it again.
    assert cfdi_stamp_due().stamped == 0
    assert pac.stamp_calls == 1


@pytest.mark.instant(SEPT_6)
def test_without_pac_settings_the_document_waits_with_the_reason(ready):
    admin, client, invoice = ready
    document = _pay(admin, client, invoice)
    cfdi_stamp_due()
    document.refresh_from_db()
    assert document.status == CfdiStatus.PENDING and "PAC" in document.error_message


@pytest.mark.instant(SEPT_6)
def test_a_refusal_shows_the_pac_code_and_goes_again_after_the_fix(pac, ready):
    admin, client, invoice = ready
    pac.mode = "refuse"
    document = _pay(admin, client, invoice)
    cfdi_stamp_due()
    document.refresh_from_db()
    assert document.status == CfdiStatus.ERROR
    assert document.error_code == "CFDI40147" and "RegimenFiscalReceptor" in document.error
    pac.mode = "ok"
    document_retry(actor=admin, document=document)
    cfdi_stamp_due()
    document.refresh_from_db()
    assert document.status == CfdiStatus.STAMPED and document.error == ""
    with pytest.raises(ValidationError):
        document_retry(actor=admin, document=document)  # a stamped one is not sent again
    assert pac.stamp_calls == 2


@pytest.mark.instant(SEPT_6)
@pytest.mark.parametrize("mode", ["error500", "garbage"])
def test_a_pac_without_a_usable_answer_is_tried_again_later(pac, ready, mode):
    admin, client, invoice = ready
    pac.mode = mode
    document = _pay(admin, client, invoice)
    assert cfdi_stamp_due().failed == 1
    document.refresh_from_db()
    assert document.status == CfdiStatus.PENDING and document.attempts == 1
    assert document.next_attempt_at > timezone.now() and document.error
    assert cfdi_stamp_due().failed == 0  # not due yet: not sent again at once
    pac.mode = "ok"
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=True):
        assert cfdi_stamp_due().stamped == 1
    document.refresh_from_db()
    assert document.status == CfdiStatus.STAMPED


@pytest.mark.real_clock
def test_a_lost_answer_is_asked_again_and_stamps_once(pac, ready, monkeypatch):
    admin, client, invoice = ready
    monkeypatch.setattr(pac_adapter, "TIMEOUT", 1)
    pac.mode = "lost"
    document = _pay(admin, client, invoice)
    assert cfdi_stamp_due().failed == 1
    document.refresh_from_db()
    assert document.status == CfdiStatus.PENDING and document.error_code == "timeout"
    pac.mode = "ok"
    monkeypatch.setattr(pac_adapter, "TIMEOUT", 30)  # a loaded machine answers slowly
    CfdiDocument.objects.filter(pk=document.pk).update(next_attempt_at=timezone.now())
    assert cfdi_stamp_due().stamped == 1
    document.refresh_from_db()
    ((uuid, _xml),) = pac.stamped.values()
    assert document.uuid == uuid  # the stamp the PAC made the first time


@pytest.mark.instant(SEPT_6)
def test_cancelling_a_stamped_cfdi_needs_sat_reason(pac, ready):
    admin, client, invoice = ready
    document = _pay(admin, client, invoice)
    cfdi_stamp_due()
    with pytest.raises(ValidationError, match="reason|motivo"):
        invoice_cfdi_cancel(invoice=invoice, reason="")
    with pytest.raises(ValidationError):
        invoice_cfdi_cancel(invoice=invoice, reason="01")  # 01 needs the substitute
    pac.mode = "error500"  # the PAC down: said as such, to try again later
    with translation.override("en"), pytest.raises(ValidationError) as down:
        invoice_cfdi_cancel(invoice=invoice, reason="02")
    assert down.value.messages == [
        "The PAC did not answer the cancellation (500: HTTP 500 Internal Server Error); "
        "nothing changed. Try again in a few minutes."
    ]
    document.refresh_from_db()
    assert document.status == CfdiStatus.STAMPED and pac.cancelled == []
    pac.mode = "ok"
    invoice_cfdi_cancel(invoice=invoice, reason="02")
    document.refresh_from_db()
    assert document.status == CfdiStatus.CANCELLED
    assert pac.cancelled == [[COMPANY_RFC, document.uuid, "02"]]
