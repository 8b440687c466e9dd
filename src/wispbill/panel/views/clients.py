from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wispbill.audit.selectors import audit_events_for
from wispbill.billing import debt
from wispbill.billing.models import Charge, ChargeStatus
from wispbill.billing.promises import promise_limit_passed
from wispbill.billing.selectors import client_balance, client_next_charge, client_rows
from wispbill.billing.services.charges import charge_create, charge_delete
from wispbill.billing.services.invoices import (
    charge_invoice_now,
    invoice_create_for_cycle,
    invoice_day_check,
    invoice_draft,
)
from wispbill.cfdi.selectors import with_invoice_cfdis, with_payment_cfdis
from wispbill.clients.models import BillingType, Client, ClientState, Plan
from wispbill.clients.selectors import (
    client_sync_problem,
    client_sync_status,
)
from wispbill.clients.services import clients as services
from wispbill.clients.services import plans
from wispbill.clients.switches import switches_may_change
from wispbill.core.clock import business_day, today
from wispbill.core.db import to_id
from wispbill.core.formatting import money, short_date
from wispbill.core.models import CompanySettings
from wispbill.core.switches import TASK_LABELS, TASKS
from wispbill.messaging.documents import invoice_number
from wispbill.network.models import Aaa
from wispbill.panel.audit import audit_rows
from wispbill.panel.forms.billing import ChargeForm, InvoiceDateForm, PaymentForm, PromiseForm
from wispbill.panel.forms.clients import ClientForm, PlanForm, client_initial
from wispbill.panel.views.base import (
    FORBIDDEN,
    paginate,
    run_service,
    say_nothing_saved,
    status_for,
)
from wispbill.panel.views.messaging import client_messages_context
from wispbill.portal.notice import notice_response
from wispbill.radius.models import CoaResult
from wispbill.radius.selectors import client_radius_status, session_list


def _int(value) -> int | None:
    return to_id(value)


def _choice(value, choices) -> str:
    """A filter's value if it is one of `choices`; anything else filters nothing."""
    return value if value in choices else ""


@login_required
def client_list(request):
    params = request.GET
    qs = client_rows(
        search=params.get("q", ""),
        zone=_int(params.get("zone")),
        router=_int(params.get("router")),
        state=_choice(params.get("state"), ClientState.values),
        billing_type=_choice(params.get("billing_type"), BillingType.values),
        task_off=_choice(params.get("task_off"), TASKS),
        notice=params.get("notice") == "1",
        overdue=params.get("overdue") == "1",
        owing=params.get("owing") == "1",
    ).with_effective_switches()
    page, query = paginate(request, qs)
    for client in page:
        client.sync = client_sync_status(client)
    return render(
        request,
        "clients/client_list.html",
        {
            "page_obj": page,
            "query": query,
            "params": params,
            "states": ClientState.choices,
            "billing_types": BillingType.choices,
            "tasks": TASK_LABELS.items(),
        },
    )


def _client_page(request, form, client, status=200, payment_form=None):
    context = {"form": form, "client": client}
    if client:
        balance = client_balance(client)
        company = CompanySettings.load()
        context.update(
            effective=client.effective_switches,
            effective_cut=client.effective_cut_action,
            rows=audit_rows(audit_events_for(client)[:100]),
            invoices=with_invoice_cfdis(client.invoices.order_by("-pay_date", "-id"))[:36],
            payments=with_payment_cfdis(client.payments.prefetch_related("allocations"))[:36],
            balance=balance,
            credit=-balance if balance < 0 else 0,
            sync_status=client_sync_status(client),
            sync_problem=client_sync_problem(client),
            # The counter's usual case: the client pays what it owes, today, in cash.
            payment_form=payment_form
            or PaymentForm(
                initial={"amount": balance if balance > 0 else None, "paid_on": today()}
            ),
            # A payment form sent back (refused, or to correct) opens where it was typed.
            initial_tab="money" if payment_form else "",
            promise_form=PromiseForm(),
            invoice_date_form=InvoiceDateForm(),
            # Ids of its own: the payment form beside it has an "amount" too.
            charge_form=ChargeForm(auto_id="id_charge_%s"),
            pending_charges=client.charges.filter(status=ChargeStatus.PENDING),
            **client_messages_context(request, client),
            company=company,
            next=client_next_charge(client, company=company),
        )
        if client.zone.router.aaa == Aaa.RADIUS:
            radius = client_radius_status(client.pk)
            result = radius["last_coa_result"]
            radius["last_coa_result_display"] = CoaResult(result).label if result else ""
            context.update(
                radius=radius,
                sessions=session_list(client=client.pk).select_related("router")[:10],
            )
    return render(request, "clients/client_form.html", context, status=status)


def client_payment_page(request, client: Client, payment_form: PaymentForm, status: int):
    """The client's page with a payment form as the operator sent it: refused, its reasons on
    it, or sent back to be corrected; nothing typed is lost."""
    client = Client.objects.select_related("zone__router", "plan").get(pk=client.pk)
    form = ClientForm(
        initial=client_initial(client, client.effective_switches),
        can_toggle=switches_may_change(request.user),
    )
    return _client_page(request, form, client, status=status, payment_form=payment_form)


@login_required
def client_edit(request, pk=None):
    client = (
        get_object_or_404(Client.objects.select_related("zone__router", "plan"), pk=pk)
        if pk
        else None
    )
    can_toggle = switches_may_change(request.user)
    if request.method != "POST":
        if client:
            initial = client_initial(client, client.effective_switches)
        else:
            initial = {
                "state": ClientState.ACTIVE,
                "billing_type": "zone",
                "auto_activate_on_payment": True,
                "task_invoices": True,
                "task_notices": True,
                "task_cuts": True,
                "start_date": today(),
            }
        return _client_page(request, ClientForm(initial=initial, can_toggle=can_toggle), client)
    form = ClientForm(request.POST, can_toggle=can_toggle)
    result = None
    if form.is_valid():
        kwargs = form.service_kwargs()
        if not form.errors:
            if client:
                result = run_service(
                    request,
                    form,
                    lambda: services.client_update(
                        actor=request.user,
                        client=client,
                        data=kwargs["data"],
                        billing=kwargs["billing"],
                        periodic_tasks=kwargs["periodic_tasks"],
                        billing_given=kwargs["data"]["billing_type"] == BillingType.OWN,
                    ),
                )
            else:
                result = run_service(
                    request,
                    form,
                    lambda: services.client_create(
                        actor=request.user,
                        **kwargs["data"],
                        billing=kwargs["billing"],
                        periodic_tasks=kwargs["periodic_tasks"],
                    ),
                )
    if result is not None and result is not FORBIDDEN:
        messages.success(request, _("Client «%(name)s» saved.") % {"name": result.name})
        if generated := getattr(result, "pppoe_password_generated", None):
            messages.warning(
                request,
                _(
                    "PPPoE password generated: %(password)s. Give it to the client now: it is "
                    "shown only this once."
                )
                % {"password": generated},
            )
        return redirect("panel:client-edit", pk=result.pk)
    say_nothing_saved(request, form)
    return _client_page(request, form, client, status=status_for(result))


@login_required
def plan_list(request):
    return render(request, "clients/plan_list.html", {"plans": Plan.objects.all()})


@login_required
def plan_edit(request, pk=None):
    plan = get_object_or_404(Plan, pk=pk) if pk else None
    form = PlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        fields = {k: form.cleaned_data[k] for k in PlanForm.Meta.fields}
        if plan:
            result = run_service(
                request, form, lambda: plans.plan_update(actor=request.user, plan=plan, data=fields)
            )
        else:
            result = run_service(
                request, form, lambda: plans.plan_create(actor=request.user, **fields)
            )
        if result is not None and result is not FORBIDDEN:
            messages.success(request, _("Plan «%(name)s» saved.") % {"name": result.name})
            return redirect("panel:plan-list")
    return render(
        request,
        "clients/plan_form.html",
        {"form": form, "plan": plan},
        status=400 if form.errors else 200,
    )


ACTIONS = {
    "cut": (debt.client_cut, gettext_lazy("Service cut.")),
    "reactivate": (debt.client_reactivate, gettext_lazy("Service reactivated.")),
    "show-notice": (debt.client_show_notice, gettext_lazy("Notice shown.")),
    "clear-notice": (debt.client_clear_notice, gettext_lazy("Notice cleared.")),
}


def _invoice_created(request, invoice) -> None:
    messages.success(
        request,
        _("Invoice %(number)s created for %(total)s.")
        % {"number": invoice_number(invoice.pk), "total": money(invoice.total)},
    )


def _charge_add(request, client) -> None:
    """The Charges card's form: to the next invoice, or ("now") invoiced at once."""
    form = ChargeForm(request.POST)
    if not form.is_valid():
        raise ValidationError([e for errors in form.errors.values() for e in errors])
    if request.POST.get("when") == "now":
        _invoice_created(
            request, charge_invoice_now(actor=request.user, client=client, **form.cleaned_data)
        )
    else:
        charge_create(actor=request.user, client=client, **form.cleaned_data)
        messages.success(request, _("Charge added to the next invoice."))


def _charge_delete(request, client) -> None:
    charge_id = to_id(request.POST.get("charge"))
    charge = None
    if charge_id is not None:
        charge = Charge.objects.filter(client=client, pk=charge_id).first()
    if charge is None:
        raise Http404
    charge_delete(actor=request.user, charge=charge)
    messages.success(request, _("Charge deleted."))


CHARGE_ACTIONS = {"add-charge": _charge_add, "delete-charge": _charge_delete}


@login_required
def invoice_preview(request, pk):
    """What "Create invoice" will bill (period, lines, total), asked before it is written."""
    client = get_object_or_404(Client.objects.select_related("zone", "plan"), pk=pk)
    back = f"{reverse('panel:client-edit', args=[pk])}#money"
    form = InvoiceDateForm(request.GET)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["date"])
        day = invoice_day_check(form.cleaned_data["date"] or business_day())
        charges = form.cleaned_data["charges"]
        draft = invoice_draft(client=client, day=day, charges=charges)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    return render(
        request,
        "billing/invoice_confirm.html",
        {"client": client, "draft": draft, "day": day, "charges": charges, "back": back},
    )


@login_required
def notice_preview(request, pk):
    """Staff see a client's notice page (the portal's) as the client would, marked as a
    preview."""
    client = get_object_or_404(Client.objects.select_related("zone__router", "plan"), pk=pk)
    return notice_response(request, client, preview=True)


@login_required
@require_POST
def client_action(request, pk, action):
    """The manual actions; they work whatever the switches say."""
    client = get_object_or_404(Client, pk=pk)
    try:
        if action in ACTIONS:
            call, done = ACTIONS[action]
            call(actor=request.user, client=client)
            messages.success(request, done)
        elif action == "promise":
            form = PromiseForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors["until"])
            until = form.cleaned_data["until"]
            debt.client_promise(actor=request.user, client=client, until=until)
            messages.success(
                request, _("Promise registered until %(date)s.") % {"date": short_date(until)}
            )
            if passed := promise_limit_passed(client=client, until=until, today=business_day()):
                messages.warning(request, passed)
        elif action == "create-invoice":
            form = InvoiceDateForm(request.POST)
            if not form.is_valid():  # a day that does not exist is refused, never replaced
                raise ValidationError(form.errors["date"])
            day = form.cleaned_data["date"]
            invoice = invoice_create_for_cycle(
                actor=request.user, client=client, day=day, charges=form.cleaned_data["charges"]
            )
            _invoice_created(request, invoice)
        elif action in CHARGE_ACTIONS:
            CHARGE_ACTIONS[action](request, client)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect(f"{reverse('panel:client-edit', args=[pk])}#money")
