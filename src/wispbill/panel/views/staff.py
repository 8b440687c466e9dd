from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from wispbill.panel.forms.staff import StaffForm
from wispbill.panel.views.base import FORBIDDEN, forbidden, run_service, status_for
from wispbill.staff import logins, services
from wispbill.staff.models import ApiKey
from wispbill.staff.permissions import CODENAMES, ROLES, AdminRequired

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
    users = list(users.order_by("username"))
    locked = logins.locked_until([u.username for u in users])
    rows = []
    for u in users:
        codenames = services.staff_permissions(u)
        labels = [CODENAMES[c] for c in CODENAMES if c in codenames]
        rows.append((u, role_of(u, codenames), labels, locked.get(u.username)))
    return render(request, "staff/staff_list.html", {"rows": rows})


def role_of(user, codenames: list[str]) -> str:
    """The name of the default role whose permissions the user holds exactly, or «Staff»."""
    for label, role_codenames, is_admin in ROLES.values():
        if user.is_superuser == is_admin and set(codenames) == set(role_codenames):
            return str(label)
    return _("Staff")


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
                    **form.role_values(),
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
                    **form.role_values(),
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
    keys = user.api_keys.order_by("-created_at") if user else []
    locked_until = logins.locked_until([user.username]).get(user.username) if user else None
    return render(
        request,
        "staff/staff_form.html",
        {
            "form": form,
            "member": user,
            "keys": keys,
            "locked_until": locked_until,
            "roles": [
                (key, label, [CODENAMES[c] for c in codes])
                for key, (label, codes, _a) in ROLES.items()
            ],
        },
        status=status,
    )


@login_required
@require_POST
def login_unlock(request, pk):
    """An admin lets a locked-out staff member log in again before the lock runs out."""
    if denied := _admin_only(request):
        return denied
    member = get_object_or_404(User, pk=pk, is_staff=True)
    logins.login_unlock(actor=request.user, username=member.username)
    messages.success(request, _("«%(name)s» can log in again.") % {"name": member.username})
    return redirect("panel:staff-edit", pk=pk)


class PasswordChange(PasswordChangeView):
    """Every staff member changes their own password: the current one, then the new one twice."""

    template_name = "staff/password_change.html"
    success_url = reverse_lazy("panel:home")

    def form_valid(self, form):
        result = run_service(
            self.request,
            form,
            lambda: services.staff_password_change(
                actor=self.request.user, password=form.cleaned_data["new_password1"]
            ),
        )
        if result is None or result is FORBIDDEN:
            return self.form_invalid(form)
        update_session_auth_hash(self.request, result)
        messages.success(self.request, _("Your password was changed."))
        return redirect(self.success_url)


@login_required
@never_cache
@require_POST
def api_key_new(request, pk):
    if denied := _admin_only(request):
        return denied
    member = get_object_or_404(User, pk=pk, is_staff=True)
    _key, plain = services.api_key_create(
        user=member, name=request.POST.get("name", "")[:100], actor=request.user
    )
    return render(request, "staff/api_key_created.html", {"member": member, "plain": plain})


@login_required
@require_POST
def api_key_revoke(request, pk, key_pk):
    if denied := _admin_only(request):
        return denied
    key = get_object_or_404(ApiKey, pk=key_pk, user_id=pk)
    services.api_key_revoke(actor=request.user, key=key)
    messages.success(request, _("API key %(prefix)s… revoked.") % {"prefix": key.prefix})
    return redirect("panel:staff-edit", pk=pk)
