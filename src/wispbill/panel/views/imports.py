"""Import pages: the clients a router already has, and a spreadsheet of clients. Both show
what would happen first and write nothing until the operator confirms."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wispbill.billing.imports import file_preview_next_invoices, proposal_next_invoices
from wispbill.clients.services.file_import import (
    COLUMNS,
    clients_file_forget,
    clients_file_import,
    clients_file_keep,
    clients_file_kept,
    clients_file_preview,
    template_dataset,
)
from wispbill.clients.services.router_import import router_import_confirm, router_import_preview
from wispbill.core.db import to_id
from wispbill.core.models import CompanySettings
from wispbill.network.drivers import DriverError
from wispbill.network.models import Router
from wispbill.panel.forms.imports import ClientFileForm, PaidUntilForm
from wispbill.panel.views.base import forbidden
from wispbill.staff.permissions import (
    MANAGE_CLIENTS,
    MANAGE_ROUTERS,
    PermissionRequired,
    has_permission,
)

PREVIEW_ROWS = 500  # rows a preview table shows; the counts cover them all
# The columns a preview shows: enough to recognise a row beside its errors.
SHOWN_COLUMNS = ["name", "ip", "zone", "plan", "access", "pppoe_username"]


@login_required
def router_import(request, pk):
    """Import from a router: choose the zone, read the router (nothing is written), look at
    the proposal and its conflicts, then confirm."""
    router = get_object_or_404(Router, pk=pk)
    if not has_permission(request.user, MANAGE_ROUTERS):
        return forbidden(request, PermissionRequired(MANAGE_ROUTERS))
    zones = list(router.zones.all())
    zone = None
    if (zone_id := to_id(request.POST.get("zone") or request.GET.get("zone"))) is not None:
        zone = next((z for z in zones if z.pk == zone_id), None)
    paid = PaidUntilForm(request.POST if request.method == "POST" else request.GET)
    context = {
        "router": router,
        "zones": zones,
        "zone": zone,
        "company": CompanySettings.load(),
        "paid_until_text": (paid.data.get("paid_until") or "")[:30],
    }
    if zone is None:
        return render(request, "network/router_import.html", context)
    if not paid.is_valid():
        for text in paid.errors["paid_until"]:
            messages.error(request, text)
        return render(request, "network/router_import.html", context, status=400)
    paid_until = context["paid_until"] = paid.cleaned_data["paid_until"]
    try:
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            result = router_import_confirm(
                actor=request.user, router=router, zone=zone, paid_until=paid_until
            )
            _imported(request, router, result)
            return redirect(f"{reverse('panel:client-list')}?zone={zone.pk}")
        proposal = router_import_preview(
            actor=request.user, router=router, zone=zone, paid_until=paid_until
        )
        proposal_next_invoices(proposal, zone=zone, paid_until=paid_until)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except (DriverError, ValidationError) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, _("Could not read the router: %(error)s") % {"error": text})
        return render(request, "network/router_import.html", context, status=400)
    context.update(
        proposal=proposal,
        shown=proposal.clients[:PREVIEW_ROWS],
        new_plans=[p for p in proposal.plans if not p.existing],
    )
    return render(request, "network/router_import.html", context)


def _imported(request, router, result: dict) -> None:
    messages.success(
        request,
        _(
            "Imported from %(router)s: clients %(clients)s, new plans %(plans)s, router "
            "objects taken over %(objects)s. Set the price of the new plans."
        )
        % {
            "clients": result["clients_created"],
            "plans": result["plans_created"],
            "router": router.name,
            "objects": result["objects_adopted"],
        },
    )
    if result["adoption_failed"]:
        messages.warning(
            request,
            _("The router refused to hand over %(n)s objects; import again to take them over.")
            % {"n": len(result["adoption_failed"])},
        )


@login_required
def clients_import(request):
    """Import clients from a CSV or XLSX file: upload, check every row, then confirm. The
    checked file stays on the server under a token for its uploader, and the confirmation
    names the token, so a large file is sent once."""
    if not has_permission(request.user, MANAGE_CLIENTS):
        return forbidden(request, PermissionRequired(MANAGE_CLIENTS))
    form = ClientFileForm(request.POST or None, request.FILES or None)
    context = {"form": form, "columns": COLUMNS}
    if request.method != "POST" or not form.is_valid():
        return render(
            request, "clients/client_import.html", context, status=400 if form.errors else 200
        )
    zone, token = form.cleaned_data["zone"], form.cleaned_data["token"]
    paid_until = form.cleaned_data["paid_until"]
    given = {"zone": zone, "paid_until": paid_until}
    try:
        if "data" in form.cleaned_data:
            data, filename = form.cleaned_data["data"], form.cleaned_data["filename"]
            token = clients_file_keep(actor=request.user, data=data, filename=filename)
        else:
            data, filename = clients_file_kept(actor=request.user, token=token)
    except ValidationError as exc:
        form.add_error("file", exc)
        return render(request, "clients/client_import.html", context, status=400)
    try:
        if request.POST.get("confirm") == "yes":
            clients = clients_file_import(actor=request.user, data=data, filename=filename, **given)
            clients_file_forget(actor=request.user, token=token)
            count = len(clients)
            messages.success(
                request,
                ngettext("%(n)s client imported.", "%(n)s clients imported.", count) % {"n": count},
            )
            return redirect("panel:client-list")
        preview = clients_file_preview(actor=request.user, data=data, filename=filename, **given)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except ValidationError:
        # Another request changed the data since the preview: check the file again.
        preview = clients_file_preview(actor=request.user, data=data, filename=filename, **given)
    context.update(
        preview=file_preview_next_invoices(preview),
        paid_until=paid_until,
        company=CompanySettings.load(),
        shown=preview.rows[:PREVIEW_ROWS],
        token=token,
        zone=zone,
        headers=SHOWN_COLUMNS,
    )
    return render(request, "clients/client_import.html", context, status=200 if preview.ok else 400)


@login_required
def clients_import_template(request, extension):
    """The file to fill in, as XLSX or CSV."""
    if extension not in ("xlsx", "csv"):
        raise Http404
    data = template_dataset()
    if extension == "xlsx":
        body = data.export("xlsx")
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = data.export("csv").encode("utf-8-sig")  # Excel reads UTF-8 with its mark
        kind = "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="wispbill-clients.{extension}"'
    return response
