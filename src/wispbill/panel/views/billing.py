import csv
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from wispbill.audit.models import SYSTEM
from wispbill.billing.models import Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from wispbill.billing.reports import cash_report as select_cash_report
from wispbill.billing.reports import payment_list as select_payments
from wispbill.billing.reports import payment_totals
from wispbill.billing.services.invoices import invoice_cancel_check
from wispbill.billing.services.payment_keys import (
    PaymentKeyReused,
    payment_register_once,
    request_fingerprint,
)
from wispbill.billing.services.payments import (
    payment_register,
    payment_void,
    payment_void_permission_check,
)
from wispbill.cfdi.models import CfdiDocument, CfdiStatus
from wispbill.cfdi.selectors import stamped_cfdi_of, with_invoice_cfdis
from wispbill.cfdi.services import invoice_and_cfdi_cancel
from wispbill.clients.models import Client
from wispbill.core.clock import business_day, today
from wispbill.core.db import to_id
from wispbill.core.formatting import money, short_date, spreadsheet_cell
from wispbill.messaging.documents import (
    invoice_document_context,
    invoice_number,
    invoice_pdf,
    pdf_response,
    receipt_document_context,
    receipt_number,
    receipt_pdf,
)
from wispbill.panel.forms.base import apply_errors, parse_day
from wispbill.panel.forms.billing import InvoiceCancelForm, PaymentForm, PaymentVoidForm
from wispbill.panel.views.base import paginate
from wispbill.panel.views.clients import client_payment_page

# A report longer than this is refused: it would be a year of rows nobody reads on screen.
LONGEST_REPORT = timedelta(days=366)


@login_required
def invoice_list(request):
    params = request.GET
    qs = with_invoice_cfdis(Invoice.objects.select_related("client__zone__router")).order_by(
        "-pay_date", "-id"
    )
    if params.get("status") in InvoiceStatus.values:
        qs = qs.filter(status=params["status"])
    if params.get("overdue") == "1":
        qs = qs.overdue_on(business_day())
    if (zone_id := to_id(params.get("zone"))) is not None:
        qs = qs.filter(client__zone_id=zone_id)
    if (invoice_id := to_id(params.get("id"))) is not None:
        qs = qs.filter(pk=invoice_id)
    if start := parse_day(params.get("from", "")):
        qs = qs.filter(issued_on__gte=start)
    if end := parse_day(params.get("to", "")):
        qs = qs.filter(issued_on__lte=end)
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
@require_http_methods(["GET", "POST"])
def invoice_cancel(request, pk):
    """Cancel an invoice. One without a stamped CFDI is cancelled from the list's button
    (its question in the browser); one with a stamped CFDI gets this page first, which asks
    SAT's reason (and the replacing CFDI for 01): its CFDI is cancelled at the PAC too, or
    nothing is."""
    invoice = get_object_or_404(Invoice.objects.select_related("client"), pk=pk)
    stamped = stamped_cfdi_of(invoice)
    # Said before the form, not after it was filled in: who may not, or what may not be.
    refused = _cancel_refused(request.user, invoice) if stamped is not None else ""
    form = InvoiceCancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and not refused and (stamped is None or form.is_valid()):
        values = form.cleaned_data if stamped is not None else {}
        try:
            invoice_and_cfdi_cancel(actor=request.user, invoice=invoice, **values)
        except ValidationError as exc:
            if stamped is None:
                messages.error(request, " ".join(exc.messages))
                return redirect(f"{_client_url(invoice.client_id)}#money")
            apply_errors(form, exc)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            return redirect(f"{_client_url(invoice.client_id)}#money")
        else:
            done = _("Invoice %(number)s cancelled.") % {"number": invoice_number(invoice.pk)}
            if stamped is not None:
                done = _("Invoice %(number)s and its CFDI %(uuid)s cancelled.") % {
                    "number": invoice_number(invoice.pk),
                    "uuid": stamped.uuid,
                }
            messages.success(request, done)
            return redirect(f"{_client_url(invoice.client_id)}#money")
    if stamped is None:
        return redirect(f"{_client_url(invoice.client_id)}#money")
    return render(
        request,
        "billing/invoice_cancel.html",
        {
            "invoice": invoice,
            "number": invoice_number(invoice.pk),
            "cfdi": stamped,
            "form": form,
            "refused": refused,
        },
        status=400 if form.errors or refused and request.method == "POST" else 200,
    )


def _cancel_refused(user, invoice: Invoice) -> str:
    """Why `user` may not cancel `invoice` (the service's own check), or "" when it may."""
    try:
        invoice_cancel_check(user, invoice)
    except (PermissionDenied, ValidationError) as exc:
        return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return ""


def _client_url(pk) -> str:
    return reverse("panel:client-edit", args=[pk])


@login_required
@require_POST
def payment_create(request, client_pk):
    client = get_object_or_404(Client, pk=client_pk)
    form = PaymentForm(request.POST)
    if request.POST.get("back") == "1":
        # "No, correct it" from the large-payment question: the form again, as it was typed.
        return client_payment_page(request, client, form, status=200)
    if not form.is_valid():
        return _payment_refused(request, client, form)
    activate = request.POST.get("activate") == "1"
    fields = {
        **form.cleaned_data,
        "client": client,
        "activate_service": activate,
        "confirm_large": request.POST.get("confirm_large") == "1",
    }
    once = fields.pop("once")
    try:
        if once:
            done = payment_register_once(
                actor=request.user,
                key=f"panel:{once}",
                fingerprint=request_fingerprint({**fields, "client": client.pk}),
                **fields,
            )
            payment, replayed = done.payment, done.replayed
        else:
            payment, replayed = payment_register(actor=request.user, **fields), False
    except ValidationError as exc:
        if "confirm_large" in getattr(exc, "error_dict", {}):
            return _confirm_large(request, client, form, exc.message_dict["confirm_large"][0])
        apply_errors(form, exc)
        return _payment_refused(request, client, form)
    except PaymentKeyReused:
        messages.error(
            request,
            _("This form was already sent; open the client again to register another payment."),
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        client.refresh_from_db()
        if replayed:
            messages.info(
                request,
                _("This form was already sent: the payment of %(amount)s was registered once.")
                % {"amount": money(payment.amount)},
            )
        else:
            messages.success(
                request,
                _("Payment of %(amount)s registered; the client is %(state)s.")
                % {"amount": money(payment.amount), "state": client.get_state_display().lower()},
            )
    return redirect(f"{_client_url(client.pk)}#money")


def _payment_refused(request, client, form):
    """A refused payment: the client's page with the form as it was typed, the reasons on its
    fields and one line above that says nothing was registered."""
    messages.error(request, _("The payment was not registered: %(why)s") % {"why": _why(form)})
    return client_payment_page(request, client, form, status=400)


def _why(form) -> str:
    return " ".join(
        f"{form.fields[field].label}: {' '.join(errors)}"
        if field in form.fields
        else " ".join(errors)
        for field, errors in form.errors.items()
    )


def _confirm_large(request, client, form, question: str):
    """Ask before a payment far above what the client owes; the answer sends the same form
    again, confirmed."""
    data = form.cleaned_data
    fields = {
        "amount": f"{data['amount']:.2f}",
        "method": data["method"],
        "paid_on": data["paid_on"].strftime("%d/%m/%Y") if data.get("paid_on") else "",
        "reference": data.get("reference", ""),
        "note": data.get("note", ""),
        "activate": request.POST.get("activate", ""),
        "confirm_large": "1",
        # The same form, so a double click on "Yes" is still one payment.
        "once": data.get("once", ""),
    }
    return render(
        request,
        "billing/payment_confirm_large.html",
        {"client": client, "question": question, "fields": fields, "amount": data["amount"]},
    )


def _void_allowed(user, payment) -> str:
    """Why `user` may not void `payment` (the service's own refusal), or "" when it may."""
    try:
        payment_void_permission_check(user, payment)
    except PermissionDenied as exc:
        return str(exc)
    return ""


@login_required
def payment_void_page(request, pk):
    """ "Anular pago": a page that names the payment, its amount and client, and asks why."""
    payment = get_object_or_404(Payment.objects.select_related("client"), pk=pk)
    form = PaymentVoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            payment_void(actor=request.user, payment=payment, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Payment %(number)s of %(amount)s voided; its money is owed again.")
                % {"number": receipt_number(payment.pk), "amount": money(payment.amount)},
            )
            return redirect(f"{_client_url(payment.client_id)}#money")
    payment.refresh_from_db()
    return render(
        request,
        "billing/payment_void.html",
        {
            "payment": payment,
            "number": receipt_number(payment.pk),
            "form": form,
            "refused": _void_allowed(request.user, payment),
            "allocations": payment.allocations.order_by("id"),
            # The void changes money, not the SAT's records: their CFDIs stay stamped.
            "stamped": CfdiDocument.objects.filter(
                Q(invoice__allocations__payment=payment) | Q(payments=payment),
                status=CfdiStatus.STAMPED,
            )
            .distinct()
            .order_by("id"),
        },
        status=400 if form.errors else 200,
    )


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


def _days(request) -> tuple:
    """The days a payments page covers: `from` and `to` as typed (dd/mm/yyyy or ISO). A text
    that is no day is left out, and the page says so."""
    days = []
    for name in ("from", "to"):
        text = request.GET.get(name, "").strip()
        day = parse_day(text)
        if text and day is None:
            messages.warning(
                request,
                _("«%(value)s» is not a date (write it as dd/mm/yyyy); it was left out.")
                % {"value": text[:30]},
            )
        days.append(day)
    return tuple(days)


def _csv(filename: str, header: list, rows) -> HttpResponse:
    # A BOM, so a spreadsheet opened by double click reads the accents as UTF-8.
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(header)
    # Names, notes and references are typed by people (or by a client paying online).
    writer.writerows([spreadsheet_cell(cell) for cell in row] for row in rows)
    return response


@login_required
def payment_list(request):
    """Pagos: every payment received, filtered by day, method, who registered it or client."""
    params = request.GET
    start, end = _days(request)
    qs = select_payments(
        start=start,
        end=end,
        method=params.get("method", "") if params.get("method") in PaymentMethod.values else "",
        actor_name=params.get("who", ""),
        search=params.get("q", ""),
        status=params.get("status", "") if params.get("status") in PaymentStatus.values else "",
    )
    if params.get("export") == "csv":
        return _csv(
            "pagos.csv" if request.LANGUAGE_CODE == "es" else "payments.csv",
            [
                _("Payment date"),
                _("Client"),
                _("Amount"),
                _("Method"),
                _("Reference"),
                _("Registered by"),
                _("Registered at"),
                _("Note"),
                _("Status"),
                _("Reason for the void"),
            ],
            (
                (
                    p.paid_on.isoformat(),
                    p.client.name,
                    f"{p.amount:.2f}",
                    p.get_method_display(),
                    p.reference,
                    p.actor_name,
                    timezone.localtime(p.received_at).strftime("%Y-%m-%d %H:%M"),
                    p.note,
                    p.get_status_display(),
                    p.void_reason,
                )
                for p in qs.iterator(chunk_size=2000)
            ),
        )
    page, query = paginate(request, qs)
    return render(
        request,
        "billing/payment_list.html",
        {
            "page_obj": page,
            "query": query,
            "params": params,
            "start": start,
            "end": end,
            "totals": payment_totals(qs),
            "methods": PaymentMethod.choices,
            "statuses": PaymentStatus.choices,
            "actors": _actors(),
        },
    )


def _actors() -> list[str]:
    """Who can have registered a payment: the staff, and the system (the API's and the
    command line's payments with no person). Read from the few users, not the many payments."""
    names = (
        User.objects.filter(is_staff=True).order_by("username").values_list("username", flat=True)
    )
    return [*names, SYSTEM]


@login_required
def cash_report(request):
    """Corte de caja: the money received each day, per staff user and method, with totals."""
    params = request.GET
    start, end = _days(request)
    end = end or start or today()
    start = start or end
    if start > end:
        start, end = end, start
    if end - start > LONGEST_REPORT:
        start = end - LONGEST_REPORT
        messages.info(
            request,
            _("A report covers at most a year; it starts on %(day)s.") % {"day": short_date(start)},
        )
    report = select_cash_report(start=start, end=end)
    if params.get("export") == "csv":
        return _csv(
            f"corte-{start.isoformat()}-{end.isoformat()}.csv",
            [
                _("Payment date"),
                _("Registered by"),
                _("Method"),
                _("Payments"),
                _("Total"),
                _("IVA"),
            ],
            [
                *(
                    (
                        row.day.isoformat(),
                        row.actor_name,
                        row.method_label,
                        row.count,
                        f"{row.total:.2f}",
                        f"{tax:.2f}",
                    )
                    for row, tax in report.rows_with_tax
                ),
                ("", "", _("Total"), report.count, f"{report.total:.2f}", f"{report.tax:.2f}"),
            ],
        )
    day = start if start == end else None
    return render(
        request,
        "billing/cash_report.html",
        {
            "report": report,
            "day": day,
            "previous": day - timedelta(days=1) if day and day > date.min else None,
            "next": day + timedelta(days=1) if day and day < today() else None,
            "params": params,
        },
    )
