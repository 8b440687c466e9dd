from wispbill.clients.switches import switches_may_change
from wispbill.staff.permissions import CODENAMES, Permission, has_permission


def panel(request) -> dict:
    """What the user may do, for the pages to hide or disable what would be refused:
    `can_toggle`, `can_run` and `can.<codename>`."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    can = {codename: has_permission(user, codename) for codename in CODENAMES}
    # Who may turn the periodic tasks on and off is the switches' owner's to say, as for
    # every service that changes them.
    can[Permission.TOGGLE_PERIODIC_TASKS] = switches_may_change(user)
    return {
        "can": can,
        "permission_labels": CODENAMES,
        "can_toggle": can[Permission.TOGGLE_PERIODIC_TASKS],
        "can_run": can[Permission.RUN_PERIODIC_TASKS],
        "is_admin": user.is_superuser,
    }
