"""The periodic-task switches and what the cut does, for zones and clients alike: the one
module that writes them (a row at a time for an edit, many rows in one UPDATE for a mass
update), names their changes for the permission table (`staff.changes`) and audits them. It
lives in `clients`, the lowest layer that sees both zones and clients; which of them govern a
client is `ClientQuerySet`'s and `Client`'s."""

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.core.models import MASS_FIELDS, SwitchFields, mass_field_update
from wispbill.core.switches import Switches
from wispbill.staff.permissions import TOGGLE_PERIODIC_TASKS, has_permission, require_permission

PREFIX = "periodic_tasks."


def switch_changes(before: Switches, after: Switches) -> dict[str, list[bool]]:
    """The switches' part of a change set: {"periodic_tasks.<task>": [before, after]}."""
    return {PREFIX + task: pair for task, pair in before.diff(after).items()}


def cut_action_changes(before: str | None, after: str | None) -> dict[str, list]:
    """What the cut does to a client, changed (its own schedule's or its zone's)."""
    return {"cut_action": [before, after]} if before != after else {}


def switches_set(obj: SwitchFields, switches: Switches) -> dict[str, list[bool]]:
    """Set a zone's or client's own switches in memory (each changed one's revision bumped);
    the switch keys of the change set."""
    return {PREFIX + task: pair for task, pair in obj.set_switches(switches).items()}


def switches_audit(*, actor: User | None, obj, changes: dict) -> None:
    """The "periodic tasks changed" event of a change set's switch keys, if it has any."""
    diff = {key[len(PREFIX) :]: pair for key, pair in changes.items() if key.startswith(PREFIX)}
    if diff:
        audit_record(actor=actor, action=AuditAction.PERIODIC_TASKS_CHANGED, obj=obj, changes=diff)


def rows_set(qs: QuerySet, field: str, value) -> int:
    """Set a switch or the cut's field (a `MASS_FIELDS` name) on every row of `qs` that has
    another value, in one UPDATE, each row's revision bumped; the rows changed."""
    return qs.filter(~Q(**{MASS_FIELDS[field]: value})).update(**mass_field_update(field, value))


def switches_may_change(user) -> bool:
    """Whether `user` may turn the periodic tasks on and off (and set what the cut does)."""
    return has_permission(user, TOGGLE_PERIODIC_TASKS)


def switches_require(actor: User | None) -> None:
    """Refuse unless the actor may turn the periodic tasks on and off."""
    require_permission(actor, TOGGLE_PERIODIC_TASKS)
