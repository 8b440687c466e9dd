"""The client's own page, opened by a signed link: no password, and nothing but that client's
data. Every query below is scoped to the client the link names."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wispbill.billing.models import Invoice, Payment
from wispbill.billing.selectors import client_balance, pending_invoices
from wispbill.cfdi.models import CfdiDocument, CfdiKind
from wispbill.cfdi.selectors import (
    invoice_cfdi,
    payment_cfdi,
    stamped_xml,
    with_invoice_cfdis,
    with_payment_cfdis,
)
from wispbill.clients.models import Client, ClientState
from wispbill.core.models import CompanySettings
from wispbill.messaging.documents import (
    cfdi_name,
    cfdi_pdf,
    invoice_number,
    invoice_pdf,
    pdf_response,
    receipt_number,
    receipt_pdf,
)
from wispbill.messaging.links import base_url, portal_access
from wispbill.network.models import Aaa
from wispbill.payments.gateway_services import payment_link_create
from wispbill.payments.gateways import GatewayError, gateways_on
from wispbill.portal.services import portal_promise_make, portal_promise_rules
from wispbill.radius.selectors import client_radius_status

LANGUAGES = dict(settings.LANGUAGES)


def _private(response: HttpResponse) -> HttpResponse:
    # The link is the key: keep it out of caches, search engines and other sites' logs
    # (same-origin, not no-referrer: a form post must keep its Origin for the CSRF check).
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _language(request, client: Client | None) -> str:
    """The language asked for with ?lang=, else the client's own."""
    chosen = request.GET.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return client.language if client and client.language in LANGUAGES else settings.LANGUAGE_CODE


def _open(request, token: str) -> tuple[Client | None, str, bool]:
    """The client the link opens (or None), the page's language, and whether the link was
    revoked."""
    access = portal_access(token)
    language = _language(request, access.client)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return access.client, language, access.revoked


def _refused(request, language: str, *, revoked: bool) -> HttpResponse:
    company = CompanySettings.load()
    context = {"company": company, "lang": language, "revoked": revoked}
    return _private(render(request, "portal/refused.html", context, status=403))


def _page(request, token, client, language, *, error="", pay_error="", status=200) -> HttpResponse:
    company = CompanySettings.load()
    # A cancelled invoice stays in the list, saying so: an invoice the client saw yesterday
    # does not vanish without a word.
    # Each with the number the client reads on its document, and its stamped CFDI if any.
    invoices = [
        (invoice, invoice_number(invoice.pk), _stamped(invoice_cfdi(invoice)))
        for invoice in with_invoice_cfdis(Invoice.objects.filter(client=client))[:12]
    ]
    payments = [
        (payment, receipt_number(payment.pk), _stamped(payment_cfdi(payment)))
        for payment in with_payment_cfdis(Payment.objects.filter(client=client))[:6]
    ]
    balance = client_balance(client)
    context = {
        "company": company,
        "client": client,
        "token": token,
        "lang": language,
        "balance": balance,
        "owed": max(balance, 0),
        "credit": -balance if balance < 0 else 0,
        "oldest": pending_invoices(client).first(),
        "invoices": invoices,
        "payments": payments,
        "rules": portal_promise_rules(client),
        "error": error,
        "pay_error": pay_error,
        "gateways": gateways_on(),
        "promised": request.GET.get("promised") == "1",
        "suspended": client.state == ClientState.SUSPENDED,
        "throttled": client.state == ClientState.THROTTLED,
        # Known only where the router accounts its sessions to wispbill (RADIUS mode).
        "connection": (
            client_radius_status(client.pk) if client.zone.router.aaa == Aaa.RADIUS else None
        ),
    }
    return _private(render(request, "portal/page.html", context, status=status))


@require_http_methods(["GET", "POST"])
def page(request, token: str):
    """The client's balance, invoices, payments, how to pay, and a payment promise."""
    client, language, revoked = _open(request, token)
    if client is None:
        return _refused(request, language, revoked=revoked)
    if request.method == "GET":
        return _page(request, token, client, language)
    try:
        until = date.fromisoformat(request.POST.get("until", ""))
    except ValueError:
        error = translation.gettext("Choose the day you will pay.")
    else:
        try:
            portal_promise_make(client=client, until=until)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return redirect(f"{reverse('portal:page', args=[token])}?lang={language}&promised=1")
    return _page(request, token, client, language, error=error, status=400)


@require_GET
def invoice_document(request, token: str, pk: int):
    client, language, revoked = _open(request, token)
    if client is None:
        return _refused(request, language, revoked=revoked)
    invoice = get_object_or_404(Invoice, pk=pk, client=client)
    pdf = invoice_pdf(invoice, language=language, request=request)
    return _private(pdf_response(pdf, f"{invoice_number(invoice.pk)}.pdf"))


def _stamped(document: CfdiDocument | None) -> CfdiDocument | None:
    return document if document is not None and stamped_xml(document) is not None else None


@require_GET
def cfdi_file(request, token: str, pk: int, fmt: str):
    """A CFDI of the client's own (its invoice's, or its payment's complement), stamped, as
    SAT has it (XML) or printed (PDF). A global CFDI is nobody's in particular."""
    client, language, revoked = _open(request, token)
    if client is None:
        return _refused(request, language, revoked=revoked)
    if fmt not in ("xml", "pdf"):
        raise Http404
    mine = Q(kind=CfdiKind.INVOICE, invoice__client=client) | Q(
        kind=CfdiKind.PAYMENT, payments__client=client
    )
    document = _stamped(CfdiDocument.objects.filter(mine, pk=pk).distinct().first())
    if document is None:
        raise Http404
    if fmt == "xml":
        response = HttpResponse(document.xml.encode(), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{cfdi_name(document)}.xml"'
        return _private(response)
    return _private(
        pdf_response(cfdi_pdf(document, language=language), f"{cfdi_name(document)}.pdf")
    )


@require_GET
def receipt_document(request, token: str, pk: int):
    client, language, revoked = _open(request, token)
    if client is None:
        return _refused(request, language, revoked=revoked)
    payment = get_object_or_404(Payment, pk=pk, client=client)
    pdf = receipt_pdf(payment, language=language, request=request)
    return _private(pdf_response(pdf, f"{receipt_number(payment.pk)}.pdf"))


@require_GET
def pay_page(request, token: str):
    """Where the messages' pay links lead: the client's page, which offers each gateway on for
    what is owed now. Opening it creates no checkout: mail scanners and chat previews open
    links, and a checkout is made only when the client presses a button."""
    client, language, revoked = _open(request, token)
    if client is None:
        return _refused(request, language, revoked=revoked)
    return _page(request, token, client, language)


@require_POST
def pay_online(request, token: str, provider: str):
    """To the gateway's checkout for what the client owes now (the amount is the database's,
    never the browser's)."""
    client, language, revoked = _open(request, token)
    if client is None:
        return _refused(request, language, revoked=revoked)
    # Never the request's host: on the notice port it is the site the client asked for.
    site = base_url(CompanySettings.load(), request)
    try:
        url = payment_link_create(
            actor=None,
            client=client,
            provider=provider,
            site_url=site,
            return_url=f"{site}{reverse('portal:page', args=[token])}?lang={language}",
        )
    except (ValidationError, GatewayError) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return _page(request, token, client, language, pay_error=message, status=400)
    return _private(redirect(url))
