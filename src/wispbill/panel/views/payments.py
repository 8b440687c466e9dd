"""Conciliación bancaria: import a bank statement (look first, then confirm), and assign by
hand the lines that matched nobody."""

import base64
import binascii
import zlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from wispbill.clients.models import Client
from wispbill.clients.selectors import client_list
from wispbill.core.db import to_id
from wispbill.core.formatting import money
from wispbill.messaging.company import company_settings
from wispbill.messaging.links import base_url, portal_link
from wispbill.panel.views.base import forbidden, paginate
from wispbill.payments.gateway_services import payment_link_create
from wispbill.payments.gateways import GatewayError, gateways_on
from wispbill.payments.models import BankLine, BankLineStatus, StatementFormat
from wispbill.payments.selectors import bank_lines
from wispbill.payments.services import (
    bank_line_assign,
    bank_statement_import,
    bank_statement_preview,
)
from wispbill.payments.statements import MAX_BYTES, declared_size_check, size_check
from wispbill.staff.permissions import REGISTER_PAYMENTS, PermissionRequired, has_permission

PREVIEW_ROWS = 500  # lines a preview table shows; the counts cover them all
FOUND_CLIENTS = 20  # clients the assignment's search box lists


@login_required
def bank_line_list(request):
    """The lines of the imported statements: those nobody's reference matched first."""
    status = request.GET.get("status")
    status = status if status in BankLineStatus.values else BankLineStatus.UNMATCHED
    page, query = paginate(request, bank_lines(status=status, q=request.GET.get("q", "").strip()))
    return render(
        request,
        "payments/bank_lines.html",
        {"page_obj": page, "query": query, "status": status, "q": request.GET.get("q", "")},
    )


def _upload(request) -> tuple[bytes, str] | None:
    """The statement's bytes and name: uploaded, or carried back by the confirmation form
    (compressed and encoded: a form field's size is capped well below a statement's), so what
    is imported is exactly what was looked at. Bounded by the request's size before a byte
    of it is read."""
    declared_size_check(request.META.get("CONTENT_LENGTH"))
    upload = request.FILES.get("file")
    if upload:
        size_check(upload.size)
        return upload.read(), upload.name or ""
    encoded = request.POST.get("encoded", "")
    if not encoded:
        return None
    try:
        unpacked = zlib.decompressobj()
        data = unpacked.decompress(base64.b64decode(encoded, validate=True), MAX_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise ValidationError({"file": [_("Upload the file again.")]}) from None
    size_check(len(data))
    return data, request.POST.get("filename", "")


@login_required
def bank_statement_upload(request):
    """Import a statement: upload it, see what each line would do, then confirm."""
    if not has_permission(request.user, REGISTER_PAYMENTS):
        return forbidden(request, PermissionRequired(REGISTER_PAYMENTS))
    fmt = request.POST.get("format") or StatementFormat.GENERIC
    context = {
        "formats": StatementFormat.choices,
        "format": fmt,
        "max_bytes": MAX_BYTES,
        "max_mb": MAX_BYTES // (1024 * 1024),
    }
    if request.method != "POST":
        return render(request, "payments/bank_statement.html", context)
    try:
        upload = _upload(request)
        if upload is None:
            context["errors"] = [_("Choose the statement file.")]
            return render(request, "payments/bank_statement.html", context, status=400)
        data, filename = upload
        if request.POST.get("confirm") == "yes":
            result = bank_statement_import(
                actor=request.user, data=data, fmt=fmt, filename=filename
            )
            _imported(request, result)
            return redirect("panel:bank-lines")
        preview = bank_statement_preview(actor=request.user, data=data, fmt=fmt, filename=filename)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except ValidationError as exc:
        context["errors"] = exc.messages
        return render(request, "payments/bank_statement.html", context, status=400)
    names = dict(
        Client.objects.filter(pk__in={c for _l, c in preview.matched[:PREVIEW_ROWS]}).values_list(
            "pk", "name"
        )
    )
    context.update(
        preview=preview,
        matched=[(line, client, names.get(client)) for line, client in preview.matched][
            :PREVIEW_ROWS
        ],
        unmatched=preview.unmatched[:PREVIEW_ROWS],
        reasons=dict(BankLine._meta.get_field("reason").choices),
        encoded=base64.b64encode(zlib.compress(data)).decode(),
        filename=filename,
    )
    return render(request, "payments/bank_statement.html", context)


def _imported(request, result) -> None:
    applied, kept = len(result.payments), len(result.unmatched)
    messages.success(
        request,
        ngettext(
            "%(n)s transfer applied as a payment.", "%(n)s transfers applied as payments.", applied
        )
        % {"n": applied}
        + " "
        + ngettext(
            "%(n)s line kept to assign by hand.", "%(n)s lines kept to assign by hand.", kept
        )
        % {"n": kept},
    )
    if result.duplicates:
        messages.info(
            request,
            ngettext(
                "%(n)s line had been imported before and was not applied again.",
                "%(n)s lines had been imported before and were not applied again.",
                len(result.duplicates),
            )
            % {"n": len(result.duplicates)},
        )


@login_required
def bank_line_assign_page(request, pk):
    """Assign a line to a client: search, choose, confirm."""
    line = get_object_or_404(BankLine.objects.select_related("client"), pk=pk)
    if not has_permission(request.user, REGISTER_PAYMENTS):
        return forbidden(request, PermissionRequired(REGISTER_PAYMENTS))
    q = (request.POST.get("q") or request.GET.get("q") or "").strip()
    chosen = None
    if (client_id := to_id(request.POST.get("client") or request.GET.get("client"))) is not None:
        chosen = Client.objects.filter(pk=client_id).first()
    context = {"line": line, "q": q, "chosen": chosen}
    if request.method == "POST" and chosen is not None and request.POST.get("confirm") == "yes":
        try:
            bank_line_assign(actor=request.user, line=line, client=chosen)
        except PermissionDenied as exc:
            return forbidden(request, exc)
        except ValidationError as exc:
            context["errors"] = exc.messages
            return render(request, "payments/bank_line_assign.html", context, status=400)
        messages.success(
            request,
            _("%(amount)s applied to %(client)s as a payment.")
            % {"amount": money(line.amount), "client": chosen.name},
        )
        return redirect("panel:bank-lines")
    if chosen is None and q:
        found = client_list(search=q)
        by_reference = Client.objects.filter(payment_reference=q)
        context["found"] = list(by_reference) + list(found[:FOUND_CLIENTS])
    return render(request, "payments/bank_line_assign.html", context)


PAYMENT_LINK_SESSION_KEY = "panel.payment_link"


@login_required
@require_POST
def client_payment_link(request, pk):
    """A link to a gateway's checkout for what the client owes now, shown once on the client's
    messages tab for staff to copy and send."""
    client = get_object_or_404(Client, pk=pk)
    company = company_settings()
    try:
        url = payment_link_create(
            actor=request.user,
            client=client,
            provider=request.POST.get("provider", ""),
            site_url=base_url(company, request),
            return_url=portal_link(client, company=company, request=request).url,
        )
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except (ValidationError, GatewayError) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
    else:
        request.session[PAYMENT_LINK_SESSION_KEY] = {"client": client.pk, "url": url}
    return redirect(f"{reverse('panel:client-edit', args=[pk])}#messages")


def client_payment_links_context(request, client: Client) -> dict:
    """What the client page's messages tab shows of the online payments."""
    link = request.session.pop(PAYMENT_LINK_SESSION_KEY, None)
    return {
        "payment_link": link if link and link.get("client") == client.pk else None,
        "gateways": gateways_on(),
        "can_register_payments": has_permission(request.user, REGISTER_PAYMENTS),
    }
