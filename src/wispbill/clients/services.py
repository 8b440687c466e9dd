"""Plans and clients: creating and editing them, under the switch permission."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wispbill.audit.services import audit_record
from wispbill.automation.selectors import client_effective_switches
from wispbill.automation.switches import Switches
from wispbill.billing.schedule import schedule_changes, schedule_from
from wispbill.clients.models import BillingType, Client, Plan
from wispbill.db import locked
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
    return (
        value.pk
        if hasattr(value, "pk")
        else value
        if value is None or isinstance(value, bool | int | str)
        else str(value)
    )


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
    before = {f: _display(getattr(client, f)) for f in CLIENT_FIELDS}
    before_schedule = client.schedule
    before_effective = client_effective_switches(client)
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
    if switch_diff:
        audit_record(actor=actor, action="periodic_tasks.changed", obj=client, changes=switch_diff)
    return client
