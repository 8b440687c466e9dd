"""PDF invoices and receipts, rendered with WeasyPrint from the same templates a page shows."""

from pathlib import Path

import segno
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from satcfdi.cfdi import CFDI

from wispbill.billing.models import Invoice, Payment
from wispbill.billing.selectors import client_balance
from wispbill.cfdi.models import CfdiDocument, CfdiKind
from wispbill.cfdi.selectors import stamped_cfdi_of, stamped_xml
from wispbill.messaging.company import company_settings
from wispbill.messaging.links import portal_link

# The documents' one stylesheet: the PDF reads it from here, a browser as a static file.
STYLESHEET = Path(__file__).parent / "static" / "documents" / "documents.css"


def invoice_number(invoice_id: int) -> str:
    return f"F-{invoice_id:06d}"


def receipt_number(payment_id: int) -> str:
    return f"R-{payment_id:06d}"


def _common(client, company, request) -> dict:
    link = portal_link(client, company=company, request=request).url
    return {
        "company": company,
        "client": client,
        "link": link,
        # An SVG data URI: the page and the PDF show it without another request. Only for
        # an absolute link (a phone's camera cannot open a path without a host).
        "qr": segno.make(link, error="m").svg_data_uri(scale=4, border=2)
        if link.startswith(("http://", "https://"))
        else "",
        "language": translation.get_language(),
    }


def invoice_document_context(invoice: Invoice, *, request=None) -> dict:
    """What documents/invoice.html shows, for a page or a PDF (in the active language)."""
    company = company_settings()
    return {
        **_common(invoice.client, company, request),
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "number": invoice_number(invoice.pk),
        # Its CFDI's fiscal folio once stamped: the number the client's accountant asks for.
        "cfdi": stamped_cfdi_of(invoice),
    }


def receipt_document_context(payment: Payment, *, request=None) -> dict:
    """What documents/receipt.html shows, for a page or a PDF (in the active language)."""
    company = company_settings()
    # Each invoice the payment went to, with the number the client reads on it.
    allocations = [
        (allocation, invoice_number(allocation.invoice_id))
        for allocation in payment.allocations.select_related("invoice").order_by("id")
    ]
    balance = client_balance(payment.client)
    return {
        **_common(payment.client, company, request),
        "payment": payment,
        "allocations": allocations,
        "number": receipt_number(payment.pk),
        "received_on": payment.paid_on,
        "balance": balance,
        # A client reads a negative balance as a debt: what it has in its favour is said so.
        "credit": -balance if balance < 0 else 0,
    }


def _pdf(template: str, context: dict) -> bytes:
    # Imported here: loading Pango takes a while, and most commands never render a PDF.
    from weasyprint import CSS, HTML

    return HTML(string=render_to_string(template, context)).write_pdf(
        stylesheets=[CSS(filename=STYLESHEET)]
    )


def invoice_pdf(invoice: Invoice, *, language: str | None = None, request=None) -> bytes:
    """The invoice as a PDF, in the client's language unless another is asked for."""
    invoice = Invoice.objects.select_related("client").get(pk=invoice.pk)
    with translation.override(language or invoice.client.language):
        return _pdf("documents/invoice.html", invoice_document_context(invoice, request=request))


def receipt_pdf(payment: Payment, *, language: str | None = None, request=None) -> bytes:
    """The payment's receipt as a PDF, in the client's language unless another is asked for."""
    payment = Payment.objects.select_related("client").get(pk=payment.pk)
    with translation.override(language or payment.client.language):
        return _pdf("documents/receipt.html", receipt_document_context(payment, request=request))


def cfdi_name(document: CfdiDocument) -> str:
    """The CFDI's files' name: its series and folio, then SAT's UUID."""
    return f"CFDI-{document.series}{document.folio}-{document.uuid}"


def _listed(value) -> list:
    """satcfdi reads a node that may repeat as one mapping or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _traslados(node) -> list:
    return list(((node or {}).get("Impuestos") or {}).get("Traslados", {}).values())


def cfdi_document_context(document: CfdiDocument) -> dict:
    """What documents/cfdi.html shows of a stamped CFDI: everything read back from its XML
    (what SAT has), not from the database, so the paper says what the stamp covers."""
    xml = stamped_xml(document)
    if xml is None:
        raise ValueError("the CFDI is not stamped")
    cfdi = CFDI.from_string(xml.encode())
    stamp = cfdi["Complemento"]["TimbreFiscalDigital"]
    url = cfdi.verifica_url
    payments = []
    for pagos in _listed(cfdi["Complemento"].get("Pagos")):
        for pago in _listed(pagos.get("Pago")):
            payments.append({"pago": pago, "related": _listed(pago.get("DoctoRelacionado"))})
    return {
        "document": document,
        "cfdi": cfdi,
        "stamp": stamp,
        "concepts": [
            {"concept": concept, "taxes": _traslados(concept)}
            for concept in _listed(cfdi.get("Conceptos"))
        ],
        "taxes": _traslados(cfdi),
        "payments": payments,
        "global": cfdi.get("InformacionGlobal"),
        "stamp_chain": stamp.cadena_original(),
        "verify_url": url,
        "verify_qr": segno.make(url, error="m").svg_data_uri(scale=3, border=1),
        "company": company_settings(),
        "language": translation.get_language(),
    }


def cfdi_pdf(document: CfdiDocument, *, language: str | None = None) -> bytes:
    """The printed representation of a stamped CFDI (ValueError when it has no stamp), in
    the client's language (the company's for a global one) unless another is asked for."""
    if language is None:
        client = _cfdi_client(document)
        language = client.language if client is not None else None
    with translation.override(language or translation.get_language()):
        return _pdf("documents/cfdi.html", cfdi_document_context(document))


def _cfdi_client(document: CfdiDocument):
    if document.invoice_id:
        return Invoice.objects.select_related("client").get(pk=document.invoice_id).client
    payment = document.payments.select_related("client").first()
    return payment.client if payment is not None and document.kind != CfdiKind.GLOBAL else None


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    """A PDF shown in the browser, saved under its number's name."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
