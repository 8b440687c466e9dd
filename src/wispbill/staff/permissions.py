"""The product's permissions (docs/contract.md's table), checked by the services so every entry
point agrees: the panel, the API and the CLI."""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Permission(StrEnum):
    """A permission's codename, as stored and as the API and docs/contract.md name it."""

    TOGGLE_PERIODIC_TASKS = "toggle_periodic_tasks"
    RUN_PERIODIC_TASKS = "run_periodic_tasks"
    MANAGE_ROUTERS = "manage_routers"
    MANAGE_PLANS = "manage_plans"
    MANAGE_CLIENTS = "manage_clients"
    REGISTER_PAYMENTS = "register_payments"
    MANAGE_INVOICES = "manage_invoices"
    CUT_AND_REACTIVATE = "cut_and_reactivate"


# The names every service imports.
TOGGLE_PERIODIC_TASKS = Permission.TOGGLE_PERIODIC_TASKS
RUN_PERIODIC_TASKS = Permission.RUN_PERIODIC_TASKS
MANAGE_ROUTERS = Permission.MANAGE_ROUTERS
MANAGE_PLANS = Permission.MANAGE_PLANS
MANAGE_CLIENTS = Permission.MANAGE_CLIENTS
REGISTER_PAYMENTS = Permission.REGISTER_PAYMENTS
MANAGE_INVOICES = Permission.MANAGE_INVOICES
CUT_AND_REACTIVATE = Permission.CUT_AND_REACTIVATE

# The labels staff read on the staff page; in the order docs/contract.md lists them. Keyed by
# the plain strings (choices, schemas and JSON take them as they are).
CODENAMES = {
    TOGGLE_PERIODIC_TASKS.value: pgettext_lazy("permission", "Turn periodic tasks on and off"),
    RUN_PERIODIC_TASKS.value: pgettext_lazy("permission", "Run periodic tasks by hand"),
    MANAGE_ROUTERS.value: pgettext_lazy("permission", "Manage routers and zones"),
    MANAGE_PLANS.value: pgettext_lazy("permission", "Manage plans and prices"),
    MANAGE_CLIENTS.value: pgettext_lazy("permission", "Manage clients"),
    REGISTER_PAYMENTS.value: pgettext_lazy("permission", "Register payments and promises"),
    MANAGE_INVOICES.value: pgettext_lazy("permission", "Create and cancel invoices"),
    CUT_AND_REACTIVATE.value: pgettext_lazy("permission", "Cut, reactivate and manual notices"),
}
# What a new staff user holds unless told otherwise, and what a staff user made before the
# table existed keeps (the migration that created the table granted it).
DEFAULT_PERMISSIONS = (MANAGE_CLIENTS, REGISTER_PAYMENTS)
# The roles an admin applies in one click on the staff page: (label, codenames, is_admin).
ROLES = {
    "admin": (pgettext_lazy("role", "Administrator"), tuple(CODENAMES), True),
    "collector": (pgettext_lazy("role", "Collector"), (REGISTER_PAYMENTS,), False),
    "technician": (
        pgettext_lazy("role", "Technician"),
        (MANAGE_ROUTERS, MANAGE_CLIENTS, CUT_AND_REACTIVATE),
        False,
    ),
}


class PermissionRequired(PermissionDenied):
    def __init__(self, codename: str):
        self.codename = codename
        super().__init__(
            str(
                _('You do not have the permission "%(permission)s"; nothing was changed.')
                % {"permission": CODENAMES[codename]}
            )
        )


class AdminRequired(PermissionDenied):
    def __init__(self):
        super().__init__(str(_("Only administrators can do this.")))


def has_permission(user, codename: str) -> bool:
    """Admins hold every permission; staff only what they were granted."""
    if user is None or not user.is_active:
        return False
    return user.is_superuser or user.has_perm(f"staff.{codename}")


def require_permission(user, codename: str) -> None:
    if not has_permission(user, codename):
        raise PermissionRequired(codename)


def require_permission_of_person(actor, codename: str) -> None:
    """A person needs the permission; the system and the CLI's operator (actor None) own the
    machine."""
    if actor is not None:
        require_permission(actor, codename)


def require_any_permission(user, *codenames: str) -> None:
    """Refused unless the user holds at least one of them (the message names the first)."""
    if not any(has_permission(user, codename) for codename in codenames):
        raise PermissionRequired(codenames[0])


def require_admin(user) -> None:
    if user is None or not (user.is_active and user.is_superuser):
        raise AdminRequired()
