"""What a change needs: the one table from the keys of a change set to the permissions they
need. A service computes the whole change set first (the audit diff it will write, plus the
keys below that name what a value means), asks `changes_authorize` once, and writes nothing
when it refuses: a request that changes two fields, one allowed and one not, changes neither.

A key is an audited field (`name`, `billing.grace_days`, `periodic_tasks.cuts`) or a meaning
the owning service adds from the values, which this layer cannot read (`state:free`, a client
made free). A key missing from an entity's table needs its `*`; `prefix.*` matches every key
under the prefix."""

from collections.abc import Iterable

from wispbill.staff.permissions import (
    CUT_AND_REACTIVATE,
    MANAGE_CLIENTS,
    MANAGE_ROUTERS,
    TOGGLE_PERIODIC_TASKS,
    AdminRequired,
    PermissionRequired,
    has_permission,
)

# Not a permission anyone is granted: only an administrator.
ADMIN = "admin"
ANY = "*"

# Per entity, in the order a refusal names them: the first permission missing is the one the
# message names.
CHANGE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "zone": {
        # A switch, or what the cut does, stops an automatic task for some clients.
        "periodic_tasks.*": (TOGGLE_PERIODIC_TASKS,),
        "billing.cut_action": (TOGGLE_PERIODIC_TASKS,),
        ANY: (MANAGE_ROUTERS,),
    },
    "client": {
        # The switches and the cut that govern it (its own, or its zone's when it follows it).
        "periodic_tasks.*": (TOGGLE_PERIODIC_TASKS,),
        "cut_action": (TOGGLE_PERIODIC_TASKS,),
        "billing.cut_action": (),  # its own schedule's: the same change as `cut_action`
        ANY: (MANAGE_CLIENTS,),
        # A client made free stops every automatic task for it.
        "state:free": (TOGGLE_PERIODIC_TASKS,),
        # A cut, a reduced speed or their end by hand.
        "state:restricted": (CUT_AND_REACTIVATE,),
    },
    "router": {
        ANY: (MANAGE_ROUTERS,),
        # Turning a router's enforcement off stops the cuts reaching it.
        "enforcement:off": (TOGGLE_PERIODIC_TASKS,),
        # A router on this server or on a local-only address, or one so allowed moved.
        "allow_local_host:on": (ADMIN,),
        "where:local_host": (ADMIN,),
    },
}


def _matches(pattern: str, key: str) -> bool:
    if pattern.endswith(".*"):
        return key.startswith(pattern[:-1])
    return pattern == key


def changes_permissions(kind: str, keys: Iterable[str]) -> list[str]:
    """The permissions a change set of `kind` needs, in the table's order, each once."""
    table = CHANGE_PERMISSIONS[kind]
    matched: set[str] = set()
    for key in keys:
        found = [pattern for pattern in table if pattern != ANY and _matches(pattern, key)]
        matched.update(found or [ANY])
    needed: list[str] = []
    for pattern, permissions in table.items():
        if pattern in matched:
            needed += [p for p in permissions if p not in needed]
    return needed


def changes_authorize(actor, kind: str, keys: Iterable[str]) -> None:
    """Refuse the whole change set unless `actor` holds every permission it needs. The system
    and the CLI's operator (actor None) own the machine."""
    if actor is None:
        return
    for permission in changes_permissions(kind, keys):
        if permission == ADMIN:
            if not (actor.is_active and actor.is_superuser):
                raise AdminRequired()
        elif not has_permission(actor, permission):
            raise PermissionRequired(permission)
