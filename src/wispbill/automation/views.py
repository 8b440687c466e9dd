from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from wispbill.automation import services
from wispbill.automation.forms import MassUpdateForm
from wispbill.automation.models import MassUpdate
from wispbill.panel.views import forbidden, paginate, run_service
from wispbill.staff.permissions import TOGGLE_PERIODIC_TASKS, PermissionRequired, has_permission


def _forbidden(request):
    return forbidden(request, PermissionRequired(TOGGLE_PERIODIC_TASKS))


@login_required
def mass_periodic_tasks(request):
    """Acciones masivas → Activar/desactivar tareas periódicas: choose, confirm, apply."""
    if not has_permission(request.user, TOGGLE_PERIODIC_TASKS):
        return _forbidden(request)
    form = MassUpdateForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return render(
            request, "automation/mass_form.html", {"form": form}, status=400 if form.errors else 200
        )
    kwargs = form.service_kwargs()
    if request.POST.get("confirm") != "yes":
        preview = run_service(
            request, form, lambda: services.mass_update_preview(actor=request.user, **kwargs)
        )
        if preview is None:
            return render(request, "automation/mass_form.html", {"form": form}, status=400)
        return render(
            request,
            "automation/mass_confirm.html",
            {
                "form": form,
                "preview": preview,
                "kwargs": kwargs,
            },
        )
    result = run_service(
        request, form, lambda: services.mass_update_apply(actor=request.user, **kwargs)
    )
    if result is None:
        return render(request, "automation/mass_form.html", {"form": form}, status=400)
    messages.success(
        request,
        _(
            "Changes applied: %(zones)s zones and %(clients)s clients with own billing were "
            "updated (%(following)s clients with zone billing follow the changed zones)."
        )
        % {
            "zones": result.zones_changed,
            "clients": result.clients_changed,
            "following": result.zone_billed_clients,
        },
    )
    return redirect("panel:mass-update-detail", pk=result.pk)


@login_required
def mass_update_list(request):
    page, query = paginate(request, MassUpdate.objects.select_related("zone__router"), 25)
    return render(
        request,
        "automation/mass_update_list.html",
        {
            "page_obj": page,
            "query": query,
        },
    )


@login_required
def mass_update_detail(request, pk):
    mass_update = get_object_or_404(MassUpdate, pk=pk)
    return render(request, "automation/mass_update_detail.html", {"mu": mass_update})


@login_required
def mass_update_undo(request, pk):
    mass_update = get_object_or_404(MassUpdate, pk=pk)
    if not has_permission(request.user, TOGGLE_PERIODIC_TASKS):
        return _forbidden(request)
    if request.method != "POST":
        return render(request, "automation/mass_undo_confirm.html", {"mu": mass_update})
    try:
        result = services.mass_update_undo(actor=request.user, mass_update=mass_update)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("panel:mass-update-detail", pk=pk)
    restored = result["zones_restored"] + result["clients_restored"]
    skipped = result["zones_skipped"] + result["clients_skipped"]
    messages.success(
        request,
        _("Undone: %(zones)s zones and %(clients)s clients got their previous values back.")
        % {"zones": result["zones_restored"], "clients": result["clients_restored"]},
    )
    if skipped:
        messages.warning(
            request,
            _(
                "%(zones)s zones and %(clients)s clients were left as they are: someone changed "
                "them after the mass update."
            )
            % {"zones": result["zones_skipped"], "clients": result["clients_skipped"]},
        )
    elif not restored:
        messages.info(request, _("There was nothing to restore."))
    return redirect("panel:mass-update-detail", pk=pk)
