"""Clients: adding and editing them (each change set authorized as a whole, `staff.changes`);
their state changes go through `states`."""

from datetime import date

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.clients.enforcement import routers_changed
from wispbill.clients.models import (
    RESTRICTED,
    Access,
    BillingType,
    Client,
    ClientState,
    Plan,
    SuspensionReason,
)
from wispbill.clients.services.access import (
    GENERATE,
    PASSWORD_NEEDED_IN_FILE,
    access_check,
    access_errors,
    pppoe_password_resolve,
)
from wispbill.clients.services.states import state_marks_apply
from wispbill.clients.signals import reactivated_by_hand
from wispbill.clients.switches import (
    PREFIX,
    cut_action_changes,
    switch_changes,
    switches_audit,
)
from wispbill.core.clock import business_day, today
from wispbill.core.db import jsonable, locked, model_changes
from wispbill.core.schedule import schedule_changes, schedule_from
from wispbill.core.switches import Switches
from wispbill.network.models import Zone
from wispbill.staff.changes import ANY, changes_authorize

ZONE_HAS_NO_SCHEDULE = gettext_lazy(
    "A client with zone billing follows its zone's schedule; choose own billing to give it "
    "one of its own."
)
ZONE_HAS_NO_SWITCHES = gettext_lazy(
    "A client with zone billing follows its zone's periodic tasks; choose own billing to give "
    "it switches of its own."
)
# The one list of a client's editable fields (besides its own schedule and switches): the
# panel's form and the API's serializer derive theirs from it.
# The PPPoE password is write-only and handled apart, like a router's.
CLIENT_FIELDS = (
    "name",
    "email",
    "phone",
    "address",
    "ip",
    "access",
    "pppoe_username",
    "zone",
    "plan",
    "start_date",
    "paid_until",
    "state",
    "billing_type",
    "auto_activate_on_payment",
    "language",
    # Fiscal data (an RFC needs the rest; Client.fiscal_clean).
    "rfc",
    "fiscal_name",
    "fiscal_regime",
    "fiscal_postal_code",
    "cfdi_use",
)
# A change to one of these changes what the client's router must hold.
ROUTER_FIELDS = {"ip", "zone", "state", "access", "pppoe_username", "plan"}


def _state_meanings(before: str, after: str) -> set[str]:
    """The permission table's keys for a state change: a client made free stops every
    automatic task for it; a cut, a reduced speed or their end by hand is a manual cut or
    reactivation."""
    if before == after:
        return set()
    if after == ClientState.FREE:
        return {"state:free"}
    if after in RESTRICTED or before in RESTRICTED:
        return {"state:restricted"}
    return set()


def _apply_billing(
    *,
    client: Client,
    before_effective: Switches | None,
    before_cut_action: str,
    billing: dict | None,
    periodic_tasks: dict | None,
    billing_given: bool,
) -> dict:
    """Set (in memory) the own schedule and switches the billing type calls for; returns the
    change of the switches and the cut that govern the client (`before_effective`: the
    switches that did, None for a new client; `before_cut_action`: what the cut did, or for a
    new client what its zone's does)."""
    if client.billing_type == BillingType.ZONE:
        if billing:
            raise ValidationError({"billing": [ZONE_HAS_NO_SCHEDULE]})
        if periodic_tasks:
            raise ValidationError({"periodic_tasks": [ZONE_HAS_NO_SWITCHES]})
        client.set_schedule(None)
        changes = cut_action_changes(before_cut_action, client.zone.cut_action)
        if before_effective is not None:
            changes.update(switch_changes(before_effective, client.zone.switches))
        return changes
    if billing:
        # What the cut does, left out, stays as it was (or as the zone had it).
        client.set_schedule(schedule_from(billing, base=client.schedule or client.zone.schedule))
    elif billing_given or client.schedule is None:
        raise ValidationError({"billing": [_("Own billing needs its own schedule.")]})
    # A client that leaves its zone keeps the switches that governed it, unless told otherwise.
    base = before_effective or Switches()
    wanted = base.replace(**(periodic_tasks or {}))
    client.set_switches(wanted)
    return {
        **cut_action_changes(before_cut_action, client.cut_action),
        **switch_changes(base, wanted),
    }


def client_new(
    *,
    actor: User | None,
    name: str,
    zone: Zone,
    plan: Plan,
    ip: str | None = None,
    email: str = "",
    phone: str = "",
    address: str = "",
    access: str = Access.STATIC,
    pppoe_username: str = "",
    pppoe_password: str = "",
    start_date: date | None = None,
    paid_until: date | None = None,
    state: str = ClientState.ACTIVE,
    billing_type: str = BillingType.ZONE,
    auto_activate_on_payment: bool = True,
    language: str = "",
    rfc: str = "",
    fiscal_name: str = "",
    fiscal_regime: str = "",
    fiscal_postal_code: str = "",
    cfdi_use: str = "",
    billing: dict | None = None,
    periodic_tasks: dict | None = None,
    validate: bool = True,
    require_password: bool = True,
) -> tuple[Client, dict]:
    """A new client, checked but not saved, and the switches it was given beyond the
    defaults (which needed the permission). Without `validate`, the checks that read the
    database (foreign keys, unique IP and username) are left to a caller that makes them for
    many rows at once. A PPPoE client needs a password (or "generate", where the caller
    shows it once: not in an import); only a router's own secrets, taken over as the router
    holds them, are let through without one (`require_password` False). The whole new client
    is authorized before it is built."""
    client = Client(
        name=name,
        email=email,
        phone=phone,
        address=address,
        ip=ip,
        access=access,
        pppoe_username=pppoe_username,
        zone=zone,
        plan=plan,
        start_date=start_date or today(),
        paid_until=paid_until,
        state=state,
        billing_type=billing_type,
        auto_activate_on_payment=auto_activate_on_payment,
        **({"language": language} if language else {}),
        rfc=rfc or "",
        fiscal_name=fiscal_name or "",
        fiscal_regime=fiscal_regime or "",
        fiscal_postal_code=fiscal_postal_code or "",
        cfdi_use=cfdi_use or "",
    )
    if validate:
        pppoe_password, generated = pppoe_password_resolve(pppoe_password)
    elif pppoe_password == GENERATE:
        # A password generated for many rows would be shown to nobody.
        pppoe_password, generated = "", False
    else:
        generated = False
    client.pppoe_password = pppoe_password
    if generated and access == Access.PPPOE:
        client.pppoe_password_generated = pppoe_password
    if state in RESTRICTED:
        client.suspension_reason = SuspensionReason.MANUAL
    if state == ClientState.SUSPENDED:
        client.suspended_on = business_day()
    governing = _apply_billing(
        client=client,
        before_effective=None,
        before_cut_action=zone.cut_action,
        billing=billing,
        periodic_tasks=periodic_tasks,
        billing_given=billing is not None,
    )
    # A new client is a change of every field; its own switches count against the defaults.
    changes_authorize(
        actor, "client", {ANY, *governing, *_state_meanings(ClientState.ACTIVE, state)}
    )
    switch_diff = {k[len(PREFIX) :]: v for k, v in governing.items() if k.startswith(PREFIX)}
    if validate:
        access_check(client, password=pppoe_password, require_password=require_password)
        client.full_clean()
        return client, switch_diff
    errors = access_errors(
        client,
        password=pppoe_password,
        require_password=require_password,
        needed=PASSWORD_NEEDED_IN_FILE,
    )
    try:
        # The schedule and access rules were checked above; the database holds the rest.
        client.full_clean(
            exclude=["zone", "plan"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    return client, switch_diff


def created_changes(client: Client) -> dict:
    """The audit diff of a new client."""
    changes = {f: [None, jsonable(getattr(client, f))] for f in CLIENT_FIELDS}
    if client.pppoe_password_encrypted:
        changes["pppoe_password"] = [None, "***"]
    if client.schedule:
        changes["billing"] = [None, client.schedule.as_dict()]
    if client.is_own_billing:
        changes["periodic_tasks"] = [None, client.switches.as_dict()]
    return changes


def needs_push(client: Client) -> bool:
    """Whether a new client changes what its router holds: a list, or its queue and secret."""
    return client.state in RESTRICTED or client.zone.router.provisioning


@transaction.atomic
def client_create(*, actor: User | None, **fields) -> Client:
    """Add a client (the fields of `client_new`). Own billing starts with every task on, and
    what the cut does as the zone does it, unless the actor may set them."""
    client, switch_diff = client_new(actor=actor, **fields)
    client.save()
    audit_record(
        actor=actor, action=AuditAction.CLIENT_CREATED, obj=client, changes=created_changes(client)
    )
    if needs_push(client):
        routers_changed([client.zone.router_id])
    if switch_diff:
        audit_record(
            actor=actor,
            action=AuditAction.PERIODIC_TASKS_CHANGED,
            obj=client,
            changes=switch_diff,
        )
    return client


@transaction.atomic
def client_update(
    *,
    actor: User | None,
    client: Client,
    data: dict,
    billing: dict | None = None,
    periodic_tasks: dict | None = None,
    billing_given: bool = False,
) -> Client:
    """Edit a client (the `CLIENT_FIELDS` and `pppoe_password` that `data` carries, and its
    own schedule and switches; a password left out or empty is kept). A change to the
    switches that govern it, or to what its cut does, needs the permission, and without it
    the whole edit is refused. A state set here is a manual cut, throttle or reactivation."""
    client = locked(Client.objects.select_related("zone__router")).get(pk=client.pk)
    router_before = client.zone.router_id
    before = {f: jsonable(getattr(client, f)) for f in CLIENT_FIELDS}
    before_schedule = client.schedule
    before_effective = client.effective_switches
    before_cut_action, _speed = client.effective_cut_action
    new_state = data.get("state", client.state)
    reactivated = client.state in RESTRICTED and new_state == ClientState.ACTIVE
    state_before = client.state
    if new_state != client.state:
        client.check_transition(new_state)
        client.suspension_reason = SuspensionReason.MANUAL if new_state in RESTRICTED else ""
    for name in model_changes(instance=client, fields=CLIENT_FIELDS, data=data):
        setattr(client, name, data[name])
    password, generated = pppoe_password_resolve(data.get("pppoe_password") or "")
    if password:
        client.pppoe_password = password
    state_marks_apply(client, state_before, business_day())
    governing = _apply_billing(
        client=client,
        before_effective=before_effective,
        before_cut_action=before_cut_action,
        billing=billing,
        periodic_tasks=periodic_tasks,
        billing_given=billing_given,
    )
    # A client that becomes PPPoE needs a password as a new one does.
    access_check(client, password=password, require_password=before["access"] != Access.PPPOE)
    client.full_clean()
    # The change set, from the validated values: authorized as a whole, then saved and
    # audited as it is.
    changes = {
        f: [before[f], jsonable(getattr(client, f))]
        for f in CLIENT_FIELDS
        if before[f] != jsonable(getattr(client, f))
    }
    if password:
        changes["pppoe_password"] = ["***", "***"]
    changes.update(schedule_changes(before_schedule, client.schedule))
    changes_authorize(
        actor, "client", {*changes, *governing, *_state_meanings(state_before, client.state)}
    )
    client.save()
    if password and client.access != Access.PPPOE:
        del changes["pppoe_password"]  # kept for a PPPoE client only: nothing to tell
    if changes:
        audit_record(actor=actor, action=AuditAction.CLIENT_CHANGED, obj=client, changes=changes)
    if reactivated:
        reactivated_by_hand.send(sender=Client, client=client)
    slower = "billing.throttle_kbps" in changes and client.state == ClientState.THROTTLED
    if (ROUTER_FIELDS | {"pppoe_password"}) & set(changes) or slower:
        client = Client.objects.select_related("zone").get(pk=client.pk)
        routers_changed({router_before, client.zone.router_id})
    switches_audit(actor=actor, obj=client, changes=governing)
    if generated and client.access == Access.PPPOE:
        # Answered once, to whoever asked for it; only its encrypted form is kept.
        client.pppoe_password_generated = password
    return client
