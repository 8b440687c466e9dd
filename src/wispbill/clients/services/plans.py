"""Internet plans and their prices."""

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.clients.enforcement import routers_changed
from wispbill.clients.models import Client, ClientState, Plan
from wispbill.core.db import jsonable, locked, model_update
from wispbill.staff.permissions import MANAGE_PLANS, require_permission_of_person

# The one list of a plan's editable fields: the panel's form and the API's serializer
# derive theirs from it.
PLAN_FIELDS = (
    "name",
    "price",
    "download_kbps",
    "upload_kbps",
    "sat_product_key",
    "sat_unit_key",
)


@transaction.atomic
def plan_create(
    *,
    actor: User | None,
    name: str,
    price: Decimal,
    download_kbps: int,
    upload_kbps: int,
    **sat_keys: str,
) -> Plan:
    """Add an internet plan (`sat_keys`: its SAT product and unit keys, when not the
    defaults)."""
    require_permission_of_person(actor, MANAGE_PLANS)
    unknown = set(sat_keys) - {"sat_product_key", "sat_unit_key"}
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    plan = Plan(
        name=name,
        price=price,
        download_kbps=download_kbps,
        upload_kbps=upload_kbps,
        **{key: value for key, value in sat_keys.items() if value},
    )
    plan.full_clean()
    plan.save()
    audit_record(
        actor=actor,
        action=AuditAction.PLAN_CREATED,
        obj=plan,
        changes={f: [None, jsonable(getattr(plan, f))] for f in PLAN_FIELDS},
    )
    return plan


@transaction.atomic
def plan_update(*, actor: User | None, plan: Plan, data: dict) -> Plan:
    """Change a plan (the `PLAN_FIELDS` that `data` carries); its price applies to invoices
    issued from now on, its speeds reach at once every router that keeps its clients'
    queues."""
    require_permission_of_person(actor, MANAGE_PLANS)
    plan = locked(Plan.objects).get(pk=plan.pk)
    changes = model_update(instance=plan, fields=PLAN_FIELDS, data=data)
    if changes:
        audit_record(actor=actor, action=AuditAction.PLAN_CHANGED, obj=plan, changes=changes)
    if {"download_kbps", "upload_kbps"} & set(changes):
        routers_changed(
            Client.objects.filter(plan=plan, zone__router__provisioning=True)
            .exclude(state=ClientState.CANCELLED)
            .values_list("zone__router_id", flat=True)
            .distinct()
        )
    return plan
