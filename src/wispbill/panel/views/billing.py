from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wispbill.billing.models import Invoice, InvoiceStatus, Payment
from wispbill.billing.services.invoices import invoice_cancel as cancel_invoice
from wispbill.billing.services.payments import payment_register
from wispbill.clients.models import Client
from wispbill.core.db import to_id
from wispbill.messaging.documents import (
    invoice_document_context,
    invoice_number,
    invoice_pdf,
    pdf_response,
    receipt_document_context,
    receipt_number,
    receipt_pdf,
)
from wispbill.panel.forms.billing import PaymentForm
from wispbill.panel.views.base import paginate


@login_required
def invoice_list(request):
    params = request.GET
    qs = Invoice.objects.select_related("client__zone__router").order_by("-pay_date", "-id")
    if params.get("status") in InvoiceStatus.values:
        qs = qs.filter(status=params["status"])
    if (zone_id := to_id(params.get("zone"))) is not None:
        qs = qs.filter(client__zone_id=zone_id)
    if params.get("kind") in ("automatic", "manual"):
        qs = qs.filter(automatic=params["kind"] == "automatic")
    if q := params.get("q", "").strip():
        qs = qs.filter(Q(client__name__icontains=q) | Q(client__ip__startswith=q))
    page, query = paginate(request, qs)
    return render(
        request,
        "billing/invoice_list.html",
        {
            "page_obj": page,
            "query": query,
            "params": params,
            "statuses": InvoiceStatus.choices,
        },
    )


@login_required
@require_POST
def invoice_cancel(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        cancel_invoice(actor=request.user, invoice=invoice)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Invoice %(id)s cancelled.") % {"id": invoice.pk})
    return redirect(f"{_client_url(invoice.client_id)}#money")


def _client_url(pk) -> str:
    return reverse("panel:client-edit", args=[pk])


@login_required
@require_POST
def payment_create(request, client_pk):
    client = get_object_or_404(Client, pk=client_pk)
    form = PaymentForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(f"{_client_url(client.pk)}#money")
    activate = request.POST.get("activate") == "1"
    try:
        payment = payment_register(
            actor=request.user, client=client, activate_service=activate, **form.cleaned_data
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        client.refresh_from_db()
        messages.success(
            request,
            _("Payment of %(amount)s registered; the client is %(state)s.")
            % {"amount": payment.amount, "state": client.get_state_display().lower()},
        )
    return redirect(f"{_client_url(client.pk)}#money")


def _document_page(request, template: str, document, context_of, pdf_view: str):
    """A document as the client gets it (its language, the PDF's template), with the panel's
    buttons in the staff member's language; they do not print."""
    tools = {
        "back": f"{_client_url(document.client_id)}#money",
        "back_label": _("Back to the client"),
        "print_label": _("Print"),
        "pdf": reverse(pdf_view, args=[document.pk]),
        "pdf_label": _("Download PDF"),
    }
    with translation.override(document.client.language):
        context = context_of(document, request=request)
        return render(request, template, {**context, "tools": tools})


@login_required
def invoice_page(request, pk):
    """The invoice in the panel, printable, from the template of its PDF."""
    invoice = get_object_or_404(Invoice.objects.select_related("client"), pk=pk)
    return _document_page(
        request, "documents/invoice.html", invoice, invoice_document_context, "panel:invoice-pdf"
    )


@login_required
def invoice_pdf_download(request, pk):
    invoice = get_object_or_404(Invoice, pk=pk)
    return pdf_response(invoice_pdf(invoice, request=request), f"{invoice_number(invoice.pk)}.pdf")


@login_required
def receipt_page(request, pk):
    """The payment's receipt in the panel, printable, from the template of its PDF."""
    payment = get_object_or_404(Payment.objects.select_related("client"), pk=pk)
    return _document_page(
        request, "documents/receipt.html", payment, receipt_document_context, "panel:receipt-pdf"
    )


@login_required
def receipt_pdf_download(request, pk):
    payment = get_object_or_404(Payment, pk=pk)
    return pdf_response(receipt_pdf(payment, request=request), f"{receipt_number(payment.pk)}.pdf")
