from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from wispbill.staff.permissions import has_permission


class IsStaffUser(BasePermission):
    """Any active staff user; finer rules live in the services."""

    message = _("Your account has no access to the panel.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class IsAdmin(BasePermission):
    message = _("Only administrators can do this.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def holds(codename: str) -> type[BasePermission]:
    """A DRF permission for one of the product's codenames."""

    class Holds(BasePermission):
        def has_permission(self, request, view) -> bool:
            return has_permission(request.user, codename)

    return Holds
