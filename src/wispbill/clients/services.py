"""Plans and clients: creating and editing them, under the switch permission."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wispbill.audit.services import audit_record
from wispbill.automation.selectors import client_effective_switches
from wispbill.billing.models import Invoice
from wispbill.clients.models import BillingType, Client, ClientState, Plan, Promise
from wispbill.core.clock import business_day
from wispbill.core.db import locked
from wispbill.core.schedule import schedule_changes, schedule_from
from wispbill.core.switches import Switches
from wispbill.network.sync import routers_changed
from wispbill.staff.permissions import TOGGLE_PERIODIC_TASKS, require_permission

ZONE_HAS_NO_SCHEDULE = gettext_lazy(
    "A client with zone billing follows its zone's schedule; choose own billing to give it "
    "one of its own."
)
ZONE_HAS_NO_SWITCHES = gettext_lazy(
    "A client with zone billing follows its zone's periodic tasks; choose own billing to give "
    "it switches of its own."
)
PLAN_FIELDS = ("name", "price", "download_kbps", "upload_kbps")
CLIENT_FIELDS = (
    "name",
    "email",
    "phone",
    "address",
    "ip",
    "zone",
    "plan",
    "start_date",
    "state",
    "billing_type",
    "auto_activate_on_payment",
)


def _save_checked(obj, exclude=()) -> None:
    obj.full_clean(exclude=list(exclude))
    obj.save()


@transaction.atomic
def plan_create(*, actor, **fields) -> Plan:
    """Add an internet plan."""
    plan = Plan(**fields)
    _save_checked(plan)
    audit_record(
        actor=actor,
        action="plan.created",
        obj=plan,
        changes={f: [None, str(getattr(plan, f))] for f in PLAN_FIELDS},
    )
    return plan


@transaction.atomic
def plan_update(*, actor, plan: Plan, **fields) -> Plan:
    """Change a plan; its price applies to invoices issued from now on."""
    plan = locked(Plan.objects).get(pk=plan.pk)
    changes = {}
    for name, value in fields.items():
        if getattr(plan, name) != value:
            changes[name] = [str(getattr(plan, name)), str(value)]
            setattr(plan, name, value)
    _save_checked(plan)
    if changes:
        audit_record(actor=actor, action="plan.changed", obj=plan, changes=changes)
    return plan


def _display(value):
    """A field's value as the audit log keeps it: ids for related rows, text for dates."""
    if hasattr(value, "pk"):
        return value.pk
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _apply_billing(
    *,
    actor,
    client: Client,
    before_effective: Switches | None,
    billing: dict | None,
    periodic_tasks: dict | None,
    billing_given: bool,
) -> dict:
    """Set the own schedule and switches the billing type calls for; returns the diff of the
    switches that govern the client (a new client has none before)."""
    if client.billing_type == BillingType.ZONE:
        if billing:
            raise ValidationError({"billing": [ZONE_HAS_NO_SCHEDULE]})
        if periodic_tasks:
            raise ValidationError({"periodic_tasks": [ZONE_HAS_NO_SWITCHES]})
        client.set_schedule(None)
        if before_effective is None:
            return {}
        diff = before_effective.diff(client.zone.switches)
        if diff:
            require_permission(actor, TOGGLE_PERIODIC_TASKS)
        return diff
    if billing:
        client.set_schedule(schedule_from(billing))
    elif billing_given or client.schedule is None:
        raise ValidationError({"billing": [_("Own billing needs its own schedule.")]})
    # A client that leaves its zone keeps the switches that governed it, unless told otherwise.
    base = before_effective or Switches()
    wanted = base.replace(**(periodic_tasks or {}))
    diff = base.diff(wanted)
    if diff:
        require_permission(actor, TOGGLE_PERIODIC_TASKS)
    if client.switches != wanted:
        client.set_switches(wanted)
        client.switches_version += 1
    return diff


@transaction.atomic
def client_create(
    *, actor, billing: dict | None = None, periodic_tasks: dict | None = None, **fields
) -> Client:
    """Add a client. Own billing starts with every task on unless the actor may set them."""
    client = Client(**fields)
    switch_diff = _apply_billing(
        actor=actor,
        client=client,
        before_effective=None,
        billing=billing,
        periodic_tasks=periodic_tasks,
        billing_given=billing is not None,
    )
    _save_checked(client)
    changes = {f: [None, _display(getattr(client, f))] for f in CLIENT_FIELDS}
    if client.schedule:
        changes["billing"] = [None, client.schedule.as_dict()]
    if client.billing_type == BillingType.OWN:
        changes["periodic_tasks"] = [None, client.switches.as_dict()]
    audit_record(actor=actor, action="client.created", obj=client, changes=changes)
    if client.state == "suspended":
        routers_changed([client.zone.router_id])
    if switch_diff:
        audit_record(actor=actor, action="periodic_tasks.changed", obj=client, changes=switch_diff)
    return client


@transaction.atomic
def client_update(
    *,
    actor,
    client: Client,
    billing: dict | None = None,
    periodic_tasks: dict | None = None,
    billing_given: bool = False,
    **fields,
) -> Client:
    """Edit a client. A change to the switches that govern it needs the permission, and
    without it the whole edit is refused."""
    client = locked(Client.objects.select_related("zone")).get(pk=client.pk)
    router_before = client.zone.router_id
    before = {f: _display(getattr(client, f)) for f in CLIENT_FIELDS}
    before_schedule = client.schedule
    before_effective = client_effective_switches(client)
    _change_state_by_edit(client, fields.get("state", client.state))
    for name, value in fields.items():
        setattr(client, name, value)
    switch_diff = _apply_billing(
        actor=actor,
        client=client,
        before_effective=before_effective,
        billing=billing,
        periodic_tasks=periodic_tasks,
        billing_given=billing_given,
    )
    _save_checked(client)
    changes = {
        f: [before[f], _display(getattr(client, f))]
        for f in CLIENT_FIELDS
        if before[f] != _display(getattr(client, f))
    }
    changes.update(schedule_changes(before_schedule, client.schedule))
    if changes:
        audit_record(actor=actor, action="client.changed", obj=client, changes=changes)
    if {"ip", "zone", "state"} & set(changes):
        client = Client.objects.select_related("zone").get(pk=client.pk)
        routers_changed({router_before, client.zone.router_id})
    if switch_diff:
        audit_record(actor=actor, action="periodic_tasks.changed", obj=client, changes=switch_diff)
    return client


def _change_state_by_edit(client: Client, new_state: str) -> None:
    """A state set in the edit form is a manual cut or reactivation, with their rules."""
    if new_state == client.state:
        return
    check_transition(client, new_state)
    if new_state == "suspended":
        client.suspension_reason = "manual"
    elif client.state == "suspended":
        client.suspension_reason = ""
        Invoice.objects.filter(
            client=client, status="pending", due_date__lte=business_day()
        ).update(cut_exempt=True)


# The only state changes allowed; everything else is refused with a clear message.
TRANSITIONS = {
    "active": {"suspended", "cancelled", "free"},
    "suspended": {"active", "cancelled"},
    "cancelled": {"active"},
    "free": {"active", "cancelled"},
}


def check_transition(client: Client, to_state: str) -> None:
    if to_state != client.state and to_state not in TRANSITIONS.get(client.state, ()):
        raise ValidationError(
            {
                "state": [
                    _("A client cannot go from %(old)s to %(new)s.")
                    % {
                        "old": ClientState(client.state).label.lower(),
                        "new": ClientState(to_state).label.lower(),
                    }
                ]
            }
        )


def _set_state(
    *, actor, client: Client, to_state: str, action: str, reason: str, suspension_reason: str = ""
) -> None:
    check_transition(client, to_state)
    before = client.state
    client.state = to_state
    client.suspension_reason = suspension_reason if to_state == "suspended" else ""
    client.save(update_fields=["state", "suspension_reason", "updated_at"])
    audit_record(
        actor=actor, action=action, obj=client, changes={"state": [before, to_state]}, reason=reason
    )
    routers_changed([client.zone.router_id])


def _locked_client(client) -> Client:
    return locked(Client.objects.select_related("zone__router", "plan")).get(pk=client.pk)


@transaction.atomic
def client_cut(*, actor, client: Client, reason: str = "") -> Client:
    """Suspend the service by hand, whatever the switches say."""
    client = _locked_client(client)
    if client.state != "active":
        raise ValidationError(_("Only an active client can be cut."))
    _set_state(
        actor=actor,
        client=client,
        to_state="suspended",
        action="client.cut",
        reason=reason or _("manual cut"),
        suspension_reason="manual",
    )
    return client


@transaction.atomic
def client_reactivate(*, actor, client: Client, reason: str = "") -> Client:
    """Give the service back by hand. The automatic cut will not cut it again for the invoices
    overdue now (unless a promise for them runs out unpaid)."""
    client = _locked_client(client)
    if client.state != "suspended":
        raise ValidationError(_("Only a suspended client can be reactivated."))
    today = business_day()
    Invoice.objects.filter(client=client, status="pending", due_date__lte=today).update(
        cut_exempt=True
    )
    _set_state(
        actor=actor,
        client=client,
        to_state="active",
        action="client.reactivated",
        reason=reason or _("manual reactivation"),
    )
    return client


def _set_notice(*, actor, client: Client, active: bool, reason: str) -> Client:
    if client.notice_active != active:
        client.notice_active = active
        client.save(update_fields=["notice_active", "updated_at"])
        audit_record(
            actor=actor,
            action="client.notice_shown" if active else "client.notice_cleared",
            obj=client,
            changes={"notice_active": [not active, active]},
            reason=reason,
        )
        routers_changed([client.zone.router_id])
    return client


@transaction.atomic
def client_show_notice(*, actor, client: Client) -> Client:
    """Show the payment notice by hand."""
    client = _locked_client(client)
    if client.state in ("cancelled", "free"):
        raise ValidationError(_("No notice is shown to a cancelled or free client."))
    return _set_notice(actor=actor, client=client, active=True, reason=_("manual notice"))


@transaction.atomic
def client_clear_notice(*, actor, client: Client) -> Client:
    """Take the payment notice away by hand; it is not shown again for the same invoices."""
    client = _locked_client(client)
    return _set_notice(actor=actor, client=client, active=False, reason=_("manual"))


MAX_PROMISE_DAYS = 90


@transaction.atomic
def client_promise(*, actor, client: Client, until: date) -> Client:
    """A payment promise: no cut until that date; a suspended client gets the service back
    now. If the promise runs out unpaid, the overdue invoices can be cut for again."""
    from wispbill.audit.services import actor_name_of

    client = _locked_client(client)
    today = business_day()
    if until < today:
        raise ValidationError({"until": [_("A promise cannot end in the past.")]})
    if until > today + timedelta(days=MAX_PROMISE_DAYS):
        raise ValidationError(
            {"until": [_("A promise can last at most %(days)s days.") % {"days": MAX_PROMISE_DAYS}]}
        )
    if client.state not in ("active", "suspended"):
        raise ValidationError(_("Only an active or suspended client can make a promise."))
    Promise.objects.filter(client=client, ended_on__isnull=True).update(
        ended_on=today, end_reason="replaced"
    )
    Promise.objects.create(client=client, until=until, actor_name=actor_name_of(actor))
    Invoice.objects.filter(client=client, status="pending", due_date__lte=today).update(
        cut_on=None, cut_exempt=False
    )
    before = client.promise_until
    client.promise_until = until
    client.save(update_fields=["promise_until", "updated_at"])
    audit_record(
        actor=actor,
        action="client.promise",
        obj=client,
        changes={"promise_until": [before and before.isoformat(), until.isoformat()]},
    )
    if client.state == "suspended":
        _set_state(
            actor=actor,
            client=client,
            to_state="active",
            action="client.reactivated",
            reason=_("payment promise until %(date)s") % {"date": until.isoformat()},
        )
    return client


def after_debt_change(*, actor, client: Client, activate_service: bool) -> None:
    """What a payment or a cancelled invoice sets in motion: the notice goes when no invoice
    calls for it, a settled debt ends the promise, and the service comes back."""
    today = business_day()
    pending = Invoice.objects.filter(client=client, status="pending")
    if client.notice_active and not pending.filter(notice_date__lte=today).exists():
        _set_notice(actor=actor, client=client, active=False, reason=_("nothing left to warn"))
    if client.promise_until and not pending.exists():
        Promise.objects.filter(client=client, ended_on__isnull=True).update(
            ended_on=today, end_reason="paid"
        )
        client.promise_until = None
        client.save(update_fields=["promise_until", "updated_at"])
    if client.state != "suspended":
        return
    if activate_service:
        _set_state(
            actor=actor,
            client=client,
            to_state="active",
            action="client.reactivated",
            reason=_("payment with reactivation"),
        )
    elif (
        client.auto_activate_on_payment
        and client.suspension_reason == "automatic"
        and not pending.filter(due_date__lte=today).exists()
    ):
        _set_state(
            actor=actor,
            client=client,
            to_state="active",
            action="client.reactivated",
            reason=_("automatic: nothing overdue left"),
        )
