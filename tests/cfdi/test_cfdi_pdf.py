"""The printed representation of a stamped CFDI (issue 19): every fact SAT asks for read back
from the PDF's text (SAT's verification address beside its QR), the API and the
e-mails that carry the PDF and the XML once the CFDI is stamped."""

import re
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader
from satcfdi.cfdi import CFDI

from tests.cfdi.conftest import COMPANY_RFC, PERSON_RFC, SEPT_6, _company, _pay, _stamped
from tests.messaging_fixtures import pdf_text
from wispbill.billing.services.payments import payment_register
from wispbill.cfdi.models import CfdiDocument, CfdiKind
from wispbill.cfdi.services import cfdi_stamp_due
from wispbill.messaging.documents import cfdi_document_context, cfdi_pdf, invoice_pdf
from wispbill.messaging.models import Kind
from wispbill.messaging.sending import messages_send_due
from wispbill.messaging.services import message_enqueue

pytestmark = pytest.mark.django_db


def _squeezed(text: str) -> str:
    """Seals and chains wrap anywhere on paper: compare them without the breaks."""
    return text.replace(" ", "")


@pytest.mark.instant(SEPT_6)
def test_the_pdf_of_a_stamped_cfdi_says_what_sat_asks(pac, ready):
    admin, client, invoice = ready
    document = _stamped(admin, client, invoice)
    cfdi = CFDI.from_string(document.xml.encode())
    stamp = cfdi["Complemento"]["TimbreFiscalDigital"]

    text = pdf_text(cfdi_pdf(document, language="es"))

    assert document.uuid in text
    # Whole under its label too (not only in the chain): people copy it from there.
    assert text.count(document.uuid) >= 2
    assert "IVA 16 %" in text and "0,16" not in text and "0.16" not in text
    assert "E48 - Unidad de servicio" in text and "Uso del CFDI" in text
    assert f"F{document.pk}" in text  # series and folio
    assert COMPANY_RFC in text and PERSON_RFC in text
    assert "ESCUELA KEMPER URGATE" in text and "JUAN PÉREZ PÉREZ" in text
    assert "601" in text and "612" in text and "S01" in text
    assert "Servicio de internet" in text and "$343.97" in text and "$55.03" in text
    assert "$399.00" in text
    assert cfdi["NoCertificado"] in text and stamp["NoCertificadoSAT"] in text
    assert "2026-09-06" in text  # the stamp's date
    # The date of issue whole on one line, day and hour together (read without folding).
    printed = PdfReader(BytesIO(cfdi_pdf(document, language="es")))
    assert len(printed.pages) == 1  # a one-line invoice on one sheet, its last line too
    lines = printed.pages[0].extract_text()
    assert re.search(r"^2026-09-06 \d\d:\d\d:\d\d$", lines, re.MULTILINE), lines
    flat = _squeezed(text)
    assert cfdi["Sello"] in flat and stamp["SelloSAT"] in flat
    chain = stamp.cadena_original()
    assert chain.startswith("||1.1|" + document.uuid) and _squeezed(chain) in flat
    assert "cadena original del complemento de certificación digital del sat" in text.lower()
    # SAT's verification address, with the last 8 characters of the CFDI's seal.
    url = (
        "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?"
        f"id={document.uuid}&re={COMPANY_RFC}&rr={PERSON_RFC}&tt=399.00&fe={cfdi['Sello'][-8:]}"
    )
    assert url in flat
    assert cfdi_document_context(document)["verify_url"] == url

    english = pdf_text(cfdi_pdf(document, language="en"))
    assert "original chain of the certification complement" in english.lower()
    # The invoice's own PDF names its CFDI's fiscal folio.
    assert f"Folio fiscal (UUID): {document.uuid}" in pdf_text(invoice_pdf(invoice, language="es"))


@pytest.mark.instant(SEPT_6)
def test_a_payment_complement_prints_the_invoice_it_pays(pac, ready):
    admin, client, invoice = ready
    _company(cfdi="on_issue")
    assert cfdi_stamp_due().stamped == 1
    ppd = CfdiDocument.objects.get(invoice=invoice)
    payment = payment_register(actor=admin, client=client, amount=Decimal("200.00"))
    assert cfdi_stamp_due().stamped == 1
    complement = CfdiDocument.objects.get(kind=CfdiKind.PAYMENT, payments=payment)

    text = pdf_text(cfdi_pdf(complement, language="es"))

    assert complement.uuid in text and ppd.uuid in text
    assert "$399.00" in text and "$200.00" in text and "$199.00" in text  # before, paid, left


@pytest.mark.instant(SEPT_6)
def test_the_api_serves_the_pdf_and_xml_only_once_stamped(admin_api, pac, ready):
    admin, client, invoice = ready
    document = _pay(admin, client, invoice)
    for path in (
        f"/api/v1/cfdi/{document.pk}/pdf/",
        f"/api/v1/cfdi/{document.pk}/xml/",
        f"/api/v1/invoices/{invoice.pk}/cfdi/pdf/",
    ):
        assert admin_api.get(path).status_code == 404
    cfdi_stamp_due()
    document.refresh_from_db()
    pdf = admin_api.get(f"/api/v1/invoices/{invoice.pk}/cfdi/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert document.uuid in pdf_text(pdf.content)
    assert admin_api.get(f"/api/v1/cfdi/{document.pk}/pdf/").status_code == 200
    xml = admin_api.get(f"/api/v1/cfdi/{document.pk}/xml/")
    assert xml["Content-Type"] == "application/xml" and xml.content.decode() == document.xml
    assert admin_api.get("/api/v1/cfdi/999999/pdf/").status_code == 404


@pytest.mark.instant(SEPT_6)
def test_the_invoice_email_carries_the_cfdi_once_stamped(pac, ready, smtp_server):
    admin, client, invoice = ready
    client.email = "juan@example.com"
    client.save(update_fields=["email"])
    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    messages_send_due()
    # Not stamped yet: the invoice's PDF alone.
    [before] = smtp_server.received
    assert [p.get_filename() for p in before.iter_attachments()] == [f"F-{invoice.pk:06d}.pdf"]

    document = _stamped(admin, client, invoice)
    message_enqueue(client=client, kind=Kind.RECEIPT, payment=client.payments.get())
    invoice_message = client.messages.get(kind=Kind.INVOICE, channel="email")
    invoice_message.status = "failed"
    invoice_message.save(update_fields=["status"])
    from wispbill.messaging.services import message_resend

    message_resend(actor=admin, message=invoice_message)
    # The receipt, the invoice sent again, and the CFDI on its own (the invoice had left
    # without it).
    assert messages_send_due()["sent"] == 3

    name = f"CFDI-F{document.pk}-{document.uuid}"
    for mail in smtp_server.received[1:]:
        files = {p.get_filename(): p for p in mail.iter_attachments()}
        assert f"{name}.pdf" in files and f"{name}.xml" in files
        assert files[f"{name}.xml"].get_content_type() == "application/xml"
        xml = files[f"{name}.xml"].get_content()
        xml = xml if isinstance(xml, bytes) else xml.encode()
        assert xml.decode() == document.xml
        assert document.uuid in pdf_text(files[f"{name}.pdf"].get_content())
