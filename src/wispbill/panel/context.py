from wispbill.staff.permissions import RUN_PERIODIC_TASKS, TOGGLE_PERIODIC_TASKS, has_permission


def panel(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "can_toggle": has_permission(user, TOGGLE_PERIODIC_TASKS),
        "can_run": has_permission(user, RUN_PERIODIC_TASKS),
        "is_admin": user.is_superuser,
    }
