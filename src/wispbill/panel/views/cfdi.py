"""Facturación electrónica: every CFDI with its status and what to do about an error,
"reintentar", the XML and PDF downloads; the company's CSD on its own page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wispbill.cfdi.csd import csd_install
from wispbill.cfdi.models import CfdiDocument, CfdiKind, CfdiStatus
from wispbill.cfdi.selectors import (
    cfdi_client,
    cfdi_counts,
    cfdi_page_list,
    cfdi_problem,
    stamped_xml,
)
from wispbill.cfdi.services import cfdi_replace, document_retry, replace_refusal
from wispbill.core.models import CompanySettings
from wispbill.messaging.documents import cfdi_name, cfdi_pdf, pdf_response
from wispbill.panel.forms.cfdi import CsdForm
from wispbill.panel.views.base import (
    forbidden,
    paginate,
    run_action,
    run_service,
    say_nothing_saved,
)
from wispbill.staff.permissions import MANAGE_INVOICES, AdminRequired, has_permission


@login_required
def cfdi_list_page(request):
    """Every CFDI, newest first, filtered by status and kind or found by UUID or client."""
    params = request.GET
    status = params.get("status") if params.get("status") in CfdiStatus.values else ""
    kind = params.get("kind") if params.get("kind") in CfdiKind.values else ""
    page, query = paginate(
        request, cfdi_page_list(status=status, kind=kind, search=params.get("q", ""))
    )
    can_manage = has_permission(request.user, MANAGE_INVOICES)
    for document in page.object_list:
        document.client = cfdi_client(document)
        document.problem = cfdi_problem(document)
        document.label = f"{document.series}{document.folio}"
        document.replaces_label = f"{document.series}{document.replaces_id}"
        document.replaceable = (
            can_manage
            and document.status == CfdiStatus.STAMPED
            and not replace_refusal(document, complements=False)
        )
    counts = cfdi_counts()
    return render(
        request,
        "cfdi/cfdi_list.html",
        {
            "page_obj": page,
            "query": query,
            "params": params,
            "statuses": CfdiStatus.choices,
            "kinds": CfdiKind.choices,
            "counts": [(value, label, counts[value]) for value, label in CfdiStatus.choices],
            "company": CompanySettings.load(),
            "can_retry": can_manage,
            "is_admin": request.user.is_superuser,
            "filtered": bool(status or kind or params.get("q", "").strip()),
        },
    )


@login_required
@require_POST
def cfdi_replace_view(request, pk):
    """Re-issue a stamped invoice CFDI with the data as it is now (asked in the browser)."""
    document = get_object_or_404(CfdiDocument, pk=pk)
    refused = run_action(
        request,
        lambda: cfdi_replace(actor=request.user, document=document),
        lambda: (
            _(
                "A CFDI that replaces %(folio)s is queued with the data as it is now; once it "
                "is stamped, %(folio)s is cancelled with SAT's reason 01."
            )
            % {"folio": f"{document.series}{document.folio}"}
        ),
    )
    return refused or redirect("panel:cfdi-list")


@login_required
@require_POST
def cfdi_retry(request, pk):
    document = get_object_or_404(CfdiDocument, pk=pk)
    refused = run_action(
        request,
        lambda: document_retry(actor=request.user, document=document),
        lambda: (
            _("CFDI %(folio)s is queued to be stamped again.")
            % {"folio": f"{document.series}{document.folio}"}
        ),
    )
    return refused or redirect("panel:cfdi-list")


def _stamped(pk) -> CfdiDocument:
    document = get_object_or_404(CfdiDocument, pk=pk)
    if stamped_xml(document) is None:
        raise Http404
    return document


@login_required
def cfdi_xml_download(request, pk):
    document = _stamped(pk)
    response = HttpResponse(document.xml.encode(), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{cfdi_name(document)}.xml"'
    return response


@login_required
def cfdi_pdf_download(request, pk):
    document = _stamped(pk)
    return pdf_response(cfdi_pdf(document), f"{cfdi_name(document)}.pdf")


@login_required
def csd_page(request):
    """The company's CSD: the one in use (number, validity, never the key) and a new one."""
    if not request.user.is_superuser:
        return forbidden(request, AdminRequired())
    form = CsdForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        info = run_service(
            request,
            form,
            lambda: csd_install(
                actor=request.user,
                certificate=form.cleaned_data["certificate"],
                private_key=form.cleaned_data["private_key"],
                password=form.cleaned_data["password"],
            ),
        )
        if info is not None:
            messages.success(
                request,
                _("CSD %(serial)s installed: CFDI are signed with it from now on.")
                % {"serial": info.serial},
            )
            return redirect("panel:cfdi-csd")
    say_nothing_saved(request, form)
    return render(
        request,
        "cfdi/csd.html",
        {"form": form, "company": CompanySettings.load()},
        status=400 if form.errors else 200,
    )
