"""Stamping on issue (PPD): the invoice's CFDI is stamped when it is issued (FormaPago 99,
MetodoPago PPD) and each payment of it gets a payment complement (Pagos 2.0) naming the
invoice's UUID, its installment and the balance before, each checked against SAT's schema
and its seal verified."""

from decimal import Decimal

import pytest
from satcfdi.cfdi import CFDI

from tests.cfdi.conftest import SEPT_6, _company, verify_seal
from wispbill.billing.services.payments import payment_register
from wispbill.cfdi.models import CfdiDocument, CfdiKind, CfdiStatus
from wispbill.cfdi.services import cfdi_stamp_due

pytestmark = pytest.mark.django_db


def _checked(xml: str) -> CFDI:
    cfdi = CFDI.from_string(xml.encode())
    cfdi.to_xml(validate=True)  # SAT's schema
    assert verify_seal(cfdi)
    return cfdi


@pytest.mark.instant(SEPT_6)
def test_an_issued_invoice_is_stamped_as_ppd_and_each_payment_gets_its_complement(
    admin_api, pac, ready
):
    admin, client, invoice = ready
    _company(cfdi="on_issue")
    assert cfdi_stamp_due().stamped == 1
    document = CfdiDocument.objects.get(invoice=invoice)
    cfdi = _checked(document.xml)
    assert (cfdi["MetodoPago"], cfdi["FormaPago"], cfdi["TipoDeComprobante"]) == ("PPD", "99", "I")
    assert cfdi["Total"] == Decimal("399.00")
    first = payment_register(
        actor=admin, client=client, amount=Decimal("200.00"), method="transfer"
    )
    second = payment_register(actor=admin, client=client, amount=Decimal("199.00"))
    assert cfdi_stamp_due().stamped == 2
    assert CfdiDocument.objects.filter(kind=CfdiKind.INVOICE).count() == 1  # not made again
    for payment, installment, before, paid, forma in [
        (first, 1, "399.00", "200.00", "03"),
        (second, 2, "199.00", "199.00", "01"),
    ]:
        complement = CfdiDocument.objects.get(kind=CfdiKind.PAYMENT, payments=payment)
        assert complement.status == CfdiStatus.STAMPED
        cfdi = _checked(complement.xml)
        assert cfdi["TipoDeComprobante"] == "P" and cfdi["Receptor"]["Rfc"] == client.rfc
        (pago,) = cfdi["Complemento"]["Pagos"]["Pago"]
        assert pago["FormaDePagoP"] == forma and pago["Monto"] == Decimal(paid)
        (related,) = pago["DoctoRelacionado"]
        assert related["IdDocumento"] == document.uuid
        assert related["NumParcialidad"] == installment
        assert (related["ImpSaldoAnt"], related["ImpPagado"]) == (Decimal(before), Decimal(paid))
        assert related["ImpSaldoInsoluto"] == Decimal(before) - Decimal(paid)
        shown = admin_api.get(f"/api/v1/payments/{payment.pk}/").json()["cfdi"]
        assert shown["uuid"] == complement.uuid and shown["status"] == "stamped"
        xml = admin_api.get(f"/api/v1/payments/{payment.pk}/cfdi/")
        assert xml.status_code == 200 and complement.uuid.encode() in xml.content
    assert pac.seals_checked == 3


@pytest.mark.instant(SEPT_6)
def test_a_payment_before_the_invoice_is_stamped_waits_for_it(pac, ready):
    admin, client, invoice = ready
    _company(cfdi="on_issue")
    pac.mode = "error500"  # the PAC is down when the invoice is paid
    payment = payment_register(actor=admin, client=client, amount=invoice.total)
    assert cfdi_stamp_due().stamped == 0
    complement = CfdiDocument.objects.get(kind=CfdiKind.PAYMENT, payments=payment)
    assert complement.status == CfdiStatus.PENDING and complement.error_code == "waiting"
    pac.mode = "ok"
    CfdiDocument.objects.filter(status=CfdiStatus.PENDING).update(
        next_attempt_at=invoice.created_at
    )
    assert cfdi_stamp_due().stamped == 2
    complement.refresh_from_db()
    invoice_uuid = CfdiDocument.objects.get(invoice=invoice).uuid
    (pago,) = _checked(complement.xml)["Complemento"]["Pagos"]["Pago"]
    assert pago["DoctoRelacionado"][0]["IdDocumento"] == invoice_uuid


@pytest.mark.instant(SEPT_6)
def test_a_client_without_rfc_gets_no_ppd_cfdi(pac, ready):
    admin, client, invoice = ready
    _company(cfdi="on_issue")
    client.rfc = ""
    client.save(update_fields=["rfc"])
    payment_register(actor=admin, client=client, amount=invoice.total)
    assert cfdi_stamp_due().stamped == 0
    assert not CfdiDocument.objects.exists()
