from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from wispbill.panel.views import FORBIDDEN, forbidden, run_service, status_for
from wispbill.staff import services
from wispbill.staff.forms import StaffForm
from wispbill.staff.permissions import AdminRequired

User = get_user_model()


def _admin_only(request):
    if request.user.is_superuser:
        return None
    return forbidden(request, AdminRequired())


@login_required
def staff_list(request):
    if denied := _admin_only(request):
        return denied
    users = User.objects.filter(is_staff=True).prefetch_related("user_permissions")
    rows = [(u, services.staff_permissions(u)) for u in users.order_by("username")]
    return render(request, "staff/staff_list.html", {"rows": rows})


@login_required
def staff_edit(request, pk=None):
    if denied := _admin_only(request):
        return denied
    user = get_object_or_404(User, pk=pk, is_staff=True) if pk else None
    initial = {}
    if user:
        initial = {
            "username": user.username,
            "full_name": user.first_name,
            "is_admin": user.is_superuser,
            "is_active": user.is_active,
            "permissions": services.staff_permissions(user),
        }
    form = StaffForm(request.POST or None, initial=initial or None, editing=bool(user))
    result = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if user:
            result = run_service(
                request,
                form,
                lambda: services.staff_update(
                    actor=request.user,
                    user=user,
                    password=data["password"] or None,
                    is_admin=data["is_admin"],
                    permissions=data["permissions"],
                    full_name=data["full_name"],
                    is_active=data["is_active"],
                ),
            )
        else:
            result = run_service(
                request,
                form,
                lambda: services.staff_create(
                    actor=request.user,
                    username=data["username"],
                    password=data["password"],
                    is_admin=data["is_admin"],
                    permissions=data["permissions"],
                    full_name=data["full_name"],
                    is_active=data["is_active"],
                ),
            )
        if result is not None and result is not FORBIDDEN:
            messages.success(
                request, _("Staff member «%(name)s» saved.") % {"name": result.username}
            )
            return redirect("panel:staff-list")
    status = status_for(result) if request.method == "POST" else 200
    return render(request, "staff/staff_form.html", {"form": form, "member": user}, status=status)
