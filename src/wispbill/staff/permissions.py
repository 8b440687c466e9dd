"""The product's permissions, checked by the services so every entry point agrees."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

TOGGLE_PERIODIC_TASKS = "toggle_periodic_tasks"
RUN_PERIODIC_TASKS = "run_periodic_tasks"
# Named here for the services that check them; the permission table (labels, default holders,
# the migration that creates them) lives with the staff pages.
MANAGE_ROUTERS = "manage_routers"
MANAGE_CLIENTS = "manage_clients"
REGISTER_PAYMENTS = "register_payments"
CODENAMES = {
    TOGGLE_PERIODIC_TASKS: _("Turn periodic tasks on and off"),
    RUN_PERIODIC_TASKS: _("Run periodic tasks by hand"),
}
MESSAGES = {
    TOGGLE_PERIODIC_TASKS: _(
        'You do not have the permission "Turn periodic tasks on and off"; nothing was changed.'
    ),
    RUN_PERIODIC_TASKS: _('You do not have the permission "Run periodic tasks by hand".'),
    MANAGE_ROUTERS: _(
        'You do not have the permission "Manage routers and zones"; nothing was changed.'
    ),
    MANAGE_CLIENTS: _('You do not have the permission "Manage clients"; nothing was changed.'),
    REGISTER_PAYMENTS: _(
        'You do not have the permission "Register payments and promises"; nothing was changed.'
    ),
}


class PermissionRequired(PermissionDenied):
    def __init__(self, codename: str):
        self.codename = codename
        super().__init__(str(MESSAGES.get(codename, _("You do not have permission to do this."))))


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


def require_any_permission(user, *codenames: str) -> None:
    """Refused unless the user holds at least one of them (the message names the first)."""
    if not any(has_permission(user, codename) for codename in codenames):
        raise PermissionRequired(codenames[0])


def require_admin(user) -> None:
    if user is None or not (user.is_active and user.is_superuser):
        raise AdminRequired()
