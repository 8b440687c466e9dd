from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from wispbill.audit.models import AuditEvent
from wispbill.clients.enforcement import router_reconcile
from wispbill.clients.models import Access, BillingType, Client, ClientState
from wispbill.clients.services import zones
from wispbill.clients.switches import switches_may_change
from wispbill.core.schedule import DEFAULT
from wispbill.core.switches import Switches
from wispbill.network import services
from wispbill.network.baseline import baseline_install, baseline_plan
from wispbill.network.drivers import DriverError
from wispbill.network.models import Aaa, Enforcement, Router, Zone
from wispbill.network.sync import router_test_connection
from wispbill.panel.audit import audit_rows
from wispbill.panel.forms.base import SCHEDULE_KEYS, schedule_values, switch_values
from wispbill.panel.forms.network import RouterForm, ZoneForm, zone_initial
from wispbill.panel.views.base import FORBIDDEN, forbidden, run_service, status_for
from wispbill.radius.selectors import session_list
from wispbill.radius.switch import router_radius_confirm, switch_preview
from wispbill.staff.permissions import MANAGE_ROUTERS, has_permission


@login_required
def router_list(request):
    routers = Router.objects.annotate(
        zone_count=Count("zones", distinct=True),
        client_count=Count("zones__clients", distinct=True),
    )
    return render(request, "network/router_list.html", {"routers": routers})


def _new_zone_form(can_toggle: bool) -> ZoneForm:
    initial = {name: DEFAULT[key] for name, key in SCHEDULE_KEYS.items()}
    initial.update(task_invoices=True, task_notices=True, task_cuts=True)
    return ZoneForm(initial=initial, prefix="new", can_toggle=can_toggle)


def _router_page(
    request, router, form=None, zone_forms=None, new_zone_form=None, status=200, tab="general"
):
    can_toggle = switches_may_change(request.user)
    zone_forms = zone_forms or {}
    zones = []
    if router:
        for zone in router.zones.annotate(
            client_count=Count("clients"),
            own_count=Count("clients", filter=Q(clients__billing_type=BillingType.OWN)),
        ):
            zones.append(
                (
                    zone,
                    zone_forms.get(zone.pk)
                    or ZoneForm(
                        initial=zone_initial(zone), prefix=f"zone-{zone.pk}", can_toggle=can_toggle
                    ),
                )
            )
    events = []
    network = _network_counts(router) if router else None
    if router:
        events = AuditEvent.objects.filter(
            Q(object_type="router", object_id=router.pk)
            | Q(object_type="zone", object_id__in=[z.pk for z, _f in zones])
        )[:100]
    return render(
        request,
        "network/router_form.html",
        {
            "router": router,
            "form": form or RouterForm(instance=router, can_allow_local=request.user.is_superuser),
            "zones": zones,
            "new_zone_form": new_zone_form or _new_zone_form(can_toggle),
            "rows": audit_rows(events),
            "initial_tab": tab,
            "show_object": True,
            "network": network,
            "queue_warning": QUEUE_WARNING,
        },
        status=status,
    )


# RouterOS checks every packet against the simple queues in order: past a few hundred, the
# router's CPU suffers, and queue trees (or shaping elsewhere) scale better.
QUEUE_WARNING = 300


def _network_counts(router) -> dict:
    """What the router holds, or would hold with provisioning, counted in one query."""
    return Client.objects.filter(zone__router=router).aggregate(
        queues=Count("id", filter=~Q(state=ClientState.CANCELLED)),
        secrets=Count("id", filter=Q(access=Access.PPPOE)),
        suspended=Count("id", filter=Q(state=ClientState.SUSPENDED)),
        throttled=Count("id", filter=Q(state=ClientState.THROTTLED)),
    )


@login_required
def router_edit(request, pk=None):
    router = get_object_or_404(Router, pk=pk) if pk else None
    if request.method != "POST":
        return _router_page(request, router)
    form = RouterForm(request.POST, instance=router, can_allow_local=request.user.is_superuser)
    result = None
    if form.is_valid():
        kwargs = form.service_kwargs()
        if router:
            result = run_service(
                request,
                form,
                lambda: services.router_update(actor=request.user, router=router, data=kwargs),
            )
        else:
            result = run_service(
                request, form, lambda: services.router_create(actor=request.user, **kwargs)
            )
    if result is not None and result is not FORBIDDEN:
        messages.success(request, _("Router «%(name)s» saved.") % {"name": result.name})
        return redirect("panel:router-edit", pk=result.pk)
    router = Router.objects.get(pk=router.pk) if router else None
    return _router_page(request, router, form=form, status=status_for(result))


def _zone_from_form(form: ZoneForm):
    schedule = schedule_values(form)
    if form.errors or schedule is None:
        return None, None
    return schedule, switch_values(form.cleaned_data)


def _zone_post(request, prefix: str, save):
    """Validate a zone form and hand its values to `save(name, schedule, switches, pool)`;
    the form and the service's result (None when refused, FORBIDDEN without the
    permission)."""
    can_toggle = switches_may_change(request.user)
    form = ZoneForm(request.POST, prefix=prefix, can_toggle=can_toggle)
    result = None
    if form.is_valid():
        schedule, switches = _zone_from_form(form)
        if schedule:
            result = run_service(
                request,
                form,
                lambda: save(
                    form.cleaned_data["name"], schedule, switches, form.cleaned_data["pppoe_pool"]
                ),
            )
    return form, result


@login_required
@require_POST
def zone_create(request, router_pk):
    router = get_object_or_404(Router, pk=router_pk)
    form, result = _zone_post(
        request,
        "new",
        lambda name, schedule, switches, pool: zones.zone_create(
            actor=request.user,
            router=router,
            name=name,
            schedule=schedule,
            switches=Switches().replace(**switches) if switches else None,
            pppoe_pool=pool,
        ),
    )
    if result is not None and result is not FORBIDDEN:
        messages.success(request, _("Zone «%(name)s» added.") % {"name": result.name})
        return redirect(f"{router_url(router)}#zones")
    return _router_page(request, router, new_zone_form=form, status=status_for(result), tab="zones")


def router_url(router) -> str:
    return reverse("panel:router-edit", args=[router.pk])


@login_required
def zone_update(request, pk):
    """Save a zone; opened (a link to the zone), its card on its router's page."""
    zone = get_object_or_404(Zone.objects.select_related("router"), pk=pk)
    if request.method != "POST":
        return redirect(f"{router_url(zone.router)}#zones")
    form, result = _zone_post(
        request,
        f"zone-{zone.pk}",
        lambda name, schedule, switches, pool: zones.zone_update(
            actor=request.user,
            zone=zone,
            name=name,
            schedule=schedule,
            switches=switches,
            pppoe_pool=pool,
        ),
    )
    if result is not None and result is not FORBIDDEN:
        messages.success(
            request,
            _("Zone «%(name)s» saved. Clients with own billing in it were not changed.")
            % {"name": result.name},
        )
        return redirect(f"{router_url(zone.router)}#zones")
    return _router_page(
        request, zone.router, zone_forms={zone.pk: form}, status=status_for(result), tab="zones"
    )


@login_required
@require_POST
def zone_delete(request, pk):
    zone = get_object_or_404(Zone.objects.select_related("router"), pk=pk)
    try:
        zones.zone_delete(actor=request.user, zone=zone)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Zone «%(name)s» deleted.") % {"name": zone.name})
    return redirect(f"{router_url(zone.router)}#zones")


def _unmanaged(request, router):
    """A router wispbill does not connect to has nothing to sync, test or install: say so
    (instead of a green "in sync"), and send the user back to its page."""
    if router.enforcement != Enforcement.NONE:
        return None
    messages.info(
        request,
        _(
            "«%(name)s» is not managed: its control on the router is «None (database only)», "
            "so wispbill does not connect to it. Choose «MikroTik (API)» to manage it."
        )
        % {"name": router.name},
    )
    return redirect(f"{router_url(router)}#sync")


@login_required
@require_POST
def router_sync_now(request, pk):
    router = get_object_or_404(Router, pk=pk)
    if unmanaged := _unmanaged(request, router):
        return unmanaged
    try:
        result = router_reconcile(router, actor=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except DriverError as exc:
        messages.error(
            request, _("Could not sync %(name)s: %(error)s") % {"name": router.name, "error": exc}
        )
    else:
        if failed := len(result["failed"]):
            messages.warning(
                request,
                ngettext(
                    "%(name)s synced with %(n)s entry that failed.",
                    "%(name)s synced with %(n)s entries that failed.",
                    failed,
                )
                % {"name": router.name, "n": failed},
            )
        else:
            messages.success(
                request,
                _("%(name)s is in sync: %(added)s, %(removed)s.")
                % {
                    "name": router.name,
                    "added": ngettext("%(n)s entry added", "%(n)s entries added", result["added"])
                    % {"n": result["added"]},
                    "removed": ngettext(
                        "%(n)s entry removed", "%(n)s entries removed", result["removed"]
                    )
                    % {"n": result["removed"]},
                },
            )
    return redirect(f"{router_url(router)}#sync")


@login_required
@require_POST
def router_test(request, pk):
    router = get_object_or_404(Router, pk=pk)
    if unmanaged := _unmanaged(request, router):
        return unmanaged
    try:
        info = router_test_connection(router, actor=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except DriverError as exc:
        messages.error(request, _("Connection failed: %(error)s") % {"error": exc})
    else:
        messages.success(
            request,
            _("Connected to %(identity)s, RouterOS %(version)s.")
            % {
                "identity": info.get("identity") or router.name,
                "version": info.get("version") or "?",
            },
        )
    return redirect(f"{router_url(router)}#sync")


@login_required
def router_rules(request, pk):
    """Preview, then install, the firewall and NAT rules the lists need."""
    router = get_object_or_404(Router, pk=pk)
    if unmanaged := _unmanaged(request, router):
        return unmanaged
    try:
        plan = baseline_plan(router, actor=request.user)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except (DriverError, ValidationError) as exc:
        text = " ".join(exc.messages) if hasattr(exc, "messages") else str(exc)
        messages.error(request, _("Could not read the rules: %(error)s") % {"error": text})
        return redirect(f"{router_url(router)}#sync")
    if request.method == "POST" and not plan.empty:
        try:
            baseline_install(router, plan, actor=request.user)
        except PermissionDenied as exc:
            return forbidden(request, exc)
        except DriverError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                ngettext("%(n)s rule installed", "%(n)s rules installed", len(plan.add))
                % {"n": len(plan.add)}
                + ", "
                + ngettext("%(n)s removed.", "%(n)s removed.", len(plan.remove))
                % {"n": len(plan.remove)},
            )
        return redirect(f"{router_url(router)}#sync")
    return render(request, "network/router_rules.html", {"router": router, "plan": plan})


@login_required
def router_radius(request, pk):
    """The guided switch between API and RADIUS mode: what changes, the last step once
    FreeRADIUS accepts the router's clients, and who is online through RADIUS."""
    router = get_object_or_404(Router, pk=pk)
    if request.method == "POST":
        try:
            router_radius_confirm(actor=request.user, router=router)
        except PermissionDenied as exc:
            return forbidden(request, exc)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("FreeRADIUS accepts its clients: the secrets leave it."))
        return redirect("panel:router-radius", pk=router.pk)
    to = Aaa.API if router.aaa == Aaa.RADIUS and not router.radius_secrets_kept else Aaa.RADIUS
    context = {
        "router": router,
        "preview": switch_preview(router=router, to=to),
        "can_confirm": has_permission(request.user, MANAGE_ROUTERS),
        "online": session_list(router=router.pk, active=True).select_related("client")[:200],
    }
    return render(request, "network/router_radius.html", context)
