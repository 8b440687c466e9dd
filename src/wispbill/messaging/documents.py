"""PDF invoices and receipts, rendered with WeasyPrint from the same templates a page shows."""

from pathlib import Path

import segno
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

from wispbill.billing.models import Invoice, Payment
from wispbill.billing.selectors import client_balance
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
    }


def receipt_document_context(payment: Payment, *, request=None) -> dict:
    """What documents/receipt.html shows, for a page or a PDF (in the active language)."""
    company = company_settings()
    allocations = list(payment.allocations.select_related("invoice").order_by("id"))
    for allocation in allocations:
        allocation.number = invoice_number(allocation.invoice_id)
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


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    """A PDF shown in the browser, saved under its number's name."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
