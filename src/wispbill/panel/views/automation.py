from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from wispbill.automation.engine import Acted
from wispbill.automation.models import ManualRun, MassUpdate, ObjectKind
from wispbill.automation.selectors import PeriodicTaskRows
from wispbill.automation.services import mass_updates, runs
from wispbill.automation.services.company import company_settings_update
from wispbill.clients.models import Client
from wispbill.clients.switches import switches_may_change
from wispbill.core.clock import today
from wispbill.core.db import to_id
from wispbill.core.models import CompanySettings
from wispbill.core.switches import TASK_LABELS, Task
from wispbill.messaging.links import base_url
from wispbill.messaging.models import Channel, Kind, MessageStatus
from wispbill.network.models import Zone
from wispbill.panel.forms.automation import CompanySettingsForm, MassUpdateForm, RunScopeForm
from wispbill.panel.views.base import (
    forbidden,
    n_clients,
    n_zones,
    paginate,
    run_service,
    say_nothing_saved,
)
from wispbill.payments.gateway_services import gateway_settings
from wispbill.staff.permissions import (
    RUN_PERIODIC_TASKS,
    TOGGLE_PERIODIC_TASKS,
    AdminRequired,
    PermissionRequired,
    has_permission,
)

FORECAST_MAX_CLIENTS = 5_000
FORECAST_LABELS = {
    Task.INVOICES: gettext_lazy("Invoiced"),
    Task.NOTICES: gettext_lazy("Warned"),
    Task.CUTS: gettext_lazy("Cut"),
    "throttles": gettext_lazy("Speed reduced"),
    "reactivations": gettext_lazy("Reactivated"),
}


def _forbidden(request):
    return forbidden(request, PermissionRequired(TOGGLE_PERIODIC_TASKS))


@login_required
def mass_periodic_tasks(request):
    """Acciones masivas → Activar/desactivar tareas periódicas: choose, confirm, apply."""
    if not switches_may_change(request.user):
        return _forbidden(request)
    form = MassUpdateForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return render(
            request, "automation/mass_form.html", {"form": form}, status=400 if form.errors else 200
        )
    kwargs = form.service_kwargs()
    if request.POST.get("confirm") != "yes":
        preview = run_service(
            request, form, lambda: mass_updates.mass_update_preview(actor=request.user, **kwargs)
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
        request, form, lambda: mass_updates.mass_update_apply(actor=request.user, **kwargs)
    )
    if result is None:
        return render(request, "automation/mass_form.html", {"form": form}, status=400)
    # Each count agrees with its own verb ("1 zona se actualizó", "2 clientes … siguen").
    zones, own, following = (
        result.zones_changed,
        result.clients_changed,
        result.zone_billed_clients,
    )
    messages.success(
        request,
        _("Changes applied: %(zones)s; %(clients)s (%(following)s).")
        % {
            "zones": ngettext("%(n)s zone was updated", "%(n)s zones were updated", zones)
            % {"n": zones},
            "clients": ngettext(
                "%(n)s client with own billing was updated",
                "%(n)s clients with own billing were updated",
                own,
            )
            % {"n": own},
            "following": ngettext(
                "%(n)s client with zone billing follows the changed zones",
                "%(n)s clients with zone billing follow the changed zones",
                following,
            )
            % {"n": following},
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


CHANGED_NAMED = 200


def _changed_rows(mass_update: MassUpdate, kind: str) -> list[tuple[int, str]]:
    """(id, name) of the rows of one kind a mass update changed, the first CHANGED_NAMED."""
    ids = mass_update.items.filter(kind=kind).values("object_id")
    if kind == ObjectKind.ZONE:
        zones = Zone.objects.select_related("router").filter(pk__in=ids)
        return [(z.pk, str(z)) for z in zones[:CHANGED_NAMED]]
    return list(Client.objects.filter(pk__in=ids).values_list("id", "name")[:CHANGED_NAMED])


@login_required
def mass_update_detail(request, pk):
    mass_update = get_object_or_404(MassUpdate, pk=pk)
    skipped = mass_update.undo_result.get("skipped", []) if mass_update.undone_at else []
    return render(
        request,
        "automation/mass_update_detail.html",
        {
            "mu": mass_update,
            "zones": _changed_rows(mass_update, ObjectKind.ZONE),
            "clients": _changed_rows(mass_update, ObjectKind.CLIENT),
            "named": CHANGED_NAMED,
            "skipped": [
                {**row, "labels": [TASK_LABELS.get(f, f) for f in row["fields"]]} for row in skipped
            ],
        },
    )


@login_required
def mass_update_undo(request, pk):
    mass_update = get_object_or_404(MassUpdate, pk=pk)
    if not switches_may_change(request.user):
        return _forbidden(request)
    if request.method != "POST":
        return render(request, "automation/mass_undo_confirm.html", {"mu": mass_update})
    try:
        result = mass_updates.mass_update_undo(actor=request.user, mass_update=mass_update)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("panel:mass-update-detail", pk=pk)
    restored = result["zones_restored"] + result["clients_restored"]
    skipped = result["zones_skipped"] + result["clients_skipped"]
    messages.success(
        request,
        _("Undone: %(zones)s and %(clients)s got their previous values back.")
        % {
            "zones": n_zones(result["zones_restored"]),
            "clients": n_clients(result["clients_restored"]),
        },
    )
    if skipped:
        messages.warning(
            request,
            _(
                "%(zones)s and %(clients)s were left as they are: someone changed them after "
                "the mass update. They are listed below."
            )
            % {
                "zones": n_zones(result["zones_skipped"]),
                "clients": n_clients(result["clients_skipped"]),
            },
        )
    elif not restored:
        messages.info(request, _("There was nothing to restore."))
    return redirect("panel:mass-update-detail", pk=pk)


@login_required
def periodic_tasks(request):
    """Tareas periódicas: every zone and own-billing client, its three tasks, and "run now"."""
    zone_id = request.GET.get("zone")
    rows = PeriodicTaskRows(zone_id=to_id(zone_id))
    page, query = paginate(request, rows, 50)
    return render(
        request,
        "automation/periodic_tasks.html",
        {
            "page_obj": page,
            "query": query,
            "company": CompanySettings.load(),
            "params": request.GET,
            "recent_runs": ManualRun.objects.select_related("zone__router", "client")[:5],
            "task_names": TASK_LABELS.values(),
        },
    )


def _forecast(request, *, days: int, zone=None, client=None) -> list[dict] | None:
    """The real runs of the coming `days` for a scope, rolled back; None for a scope too big
    to compute while someone waits (a large ISP looks at one zone at a time), or while the
    user's previous forecast is still being computed (the page says so)."""
    if client is not None:
        in_scope = Client.objects.filter(pk=client.pk)
    else:
        in_scope = Client.objects.filter(zone=zone) if zone else Client.objects.all()
    if in_scope.count() > FORECAST_MAX_CLIENTS:
        return None
    try:
        return runs.forecast(start=today(), days=days, zone=zone, client=client, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return []


def _named_lists(acted: dict, limit: int | None = None) -> list[tuple]:
    """(key, label, count, [(id, name)]) per list of the clients a run acted on, as the
    engine kept them apart; one query."""
    shown = Acted.from_dict(acted).shown()
    ids = {i for _key, people in shown for i in people[:limit]}
    names = dict(Client.objects.filter(pk__in=ids).values_list("id", "name"))
    return [
        (
            key,
            FORECAST_LABELS[key],
            len(people),
            [(i, names.get(i, f"#{i}")) for i in people[:limit]],
        )
        for key, people in shown
    ]


@login_required
def run_now(request):
    """Ejecutar ahora: first who today's run would act on in that scope, then, confirmed, the
    run itself (queued, with its progress)."""
    if not has_permission(request.user, RUN_PERIODIC_TASKS):
        return forbidden(request, PermissionRequired(RUN_PERIODIC_TASKS))
    params = request.POST if request.method == "POST" else request.GET
    scope = RunScopeForm(params)
    if not scope.is_valid():
        messages.error(request, scope.error_text())
        return redirect("panel:periodic-tasks")
    zone, client = scope.cleaned_data["zone"], scope.cleaned_data["client"]
    if request.method == "POST" and params.get("confirm") == "yes":
        try:
            run = runs.manual_run_start(
                actor=request.user, zone=zone, client=client, dry_run=params.get("dry_run") == "1"
            )
        except PermissionDenied as exc:
            return forbidden(request, exc)
        return redirect("panel:run-detail", pk=run.pk)
    day = today()
    days = _forecast(request, days=1, zone=zone, client=client)
    forecast_day = days[0] if days else None
    return render(
        request,
        "automation/run_confirm.html",
        {
            "zone": zone,
            "client": client,
            "day": day,
            "too_big": days is None,
            "limit": FORECAST_MAX_CLIENTS,
            "lists": _named_lists(forecast_day["acted"], 15) if forecast_day else [],
            "nothing": forecast_day is not None and not any(forecast_day["acted"].values()),
            "no_cut_day": forecast_day and forecast_day["summary"].no_cut_day,
        },
    )


@login_required
def run_detail(request, pk):
    run = get_object_or_404(ManualRun.objects.select_related("zone__router", "client"), pk=pk)
    return render(
        request,
        "automation/run_detail.html",
        {
            "run": run,
            "lists": _named_lists(run.summary.get("acted", {})) if run.summary.get("acted") else [],
        },
    )


@login_required
def run_status(request, pk):
    run = get_object_or_404(ManualRun, pk=pk)
    return JsonResponse(
        {
            "status": run.status,
            "done": run.progress_done,
            "total": run.progress_total,
            "summary": run.summary,
        }
    )


@login_required
def forecast(request):
    """Pronóstico: who will be invoiced, warned and cut in the next 7 days."""
    zone = None
    if (zone_id := to_id(request.GET.get("zone"))) is not None:
        zone = get_object_or_404(Zone, pk=zone_id)
    days = _forecast(request, days=7, zone=zone)
    ids = {row[0] for day in days or [] for row in day["messages"]}
    names = dict(Client.objects.filter(pk__in=ids).values_list("id", "name"))
    for day in days or []:
        day["lists"] = _named_lists(day["acted"], 15)
        day["message_rows"] = _forecast_messages(day["messages"], names)
    return render(
        request,
        "automation/forecast.html",
        {
            "days": days or [],
            "too_big": days is None,
            "limit": FORECAST_MAX_CLIENTS,
            "zone": zone,
            "channels": Channel.choices,
        },
    )


def _forecast_messages(rows, names: dict) -> list[tuple]:
    """One day's messages by kind: for each channel (would leave, would not: channel off or no
    valid address), and the clients they go to."""
    by_kind: dict[str, dict] = {}
    for client_id, kind, channel, status in rows:
        entry = by_kind.setdefault(
            kind, {"counts": {c: [0, 0] for c in Channel.values}, "clients": {}}
        )
        entry["counts"][channel][0 if status == MessageStatus.QUEUED else 1] += 1
        entry["clients"][client_id] = names.get(client_id, "?")
    return [
        (
            Kind(kind).label,
            [by_kind[kind]["counts"][c] for c in Channel.values],
            list(by_kind[kind]["clients"].items()),
        )
        for kind in Kind.values
        if kind in by_kind
    ]


@login_required
def company_settings(request):
    if not request.user.is_superuser:
        return forbidden(request, AdminRequired())
    company = CompanySettings.load()
    form = CompanySettingsForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid():
        result = run_service(
            request,
            form,
            lambda: company_settings_update(actor=request.user, data=form.cleaned_data),
        )
        if result is not None:
            messages.success(request, _("Settings saved."))
            return redirect("panel:company-settings")
    say_nothing_saved(request, form)
    return render(
        request,
        "automation/company_settings.html",
        {"form": form, "gateways": gateway_settings(base_url(company, request))},
        status=400 if form.errors else 200,
    )
