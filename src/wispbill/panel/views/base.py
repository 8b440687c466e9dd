"""Helpers every panel page shares: running a service for a form, the 403 page, pagination."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wispbill.core.db import rows_between
from wispbill.panel.forms.base import apply_errors
from wispbill.staff.permissions import AdminRequired

FORBIDDEN = object()


def run_service(request, form, call):
    """Call a service for a form: its result, None when the input was refused (the errors are
    on the form), or FORBIDDEN when the user lacks a permission (said in a message)."""
    try:
        return call()
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return FORBIDDEN
    except ValidationError as exc:
        apply_errors(form, exc)
        return None


def say_nothing_saved(request, form) -> None:
    """A refused form on a long page or a phone: said at the page's top, with the fields to
    correct, as its errors beside the fields may be out of sight."""
    if not form.errors:
        return
    labels = [str(form.fields[name].label) if name in form.fields else "" for name in form.errors]
    messages.error(
        request,
        _("Nothing was saved: correct %(fields)s (marked below).")
        % {"fields": ", ".join(label for label in labels if label) or _("the form")},
    )


def run_action(request, call, success) -> HttpResponse | None:
    """A button's service: the 403 page when the user lacks a permission; otherwise its
    refusal, or `success()` once it is done, said in a message, and None (the caller
    redirects)."""
    try:
        call()
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success())
    return None


def forbidden(request, exc: PermissionDenied):
    """The panel's 403 page, saying which permission is missing."""
    # An administrator's page is no permission one can be given: nothing to ask for.
    context = {"message": str(exc), "grantable": not isinstance(exc, AdminRequired)}
    return render(request, "panel/forbidden.html", context, status=403)


def status_for(result) -> int:
    return 403 if result is FORBIDDEN else 400


class _Paginator(Paginator):
    """A deep page is read from the other end (`core.db.rows_between`)."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if hasattr(self.object_list, "ordered"):
            rows = rows_between(self.object_list, bottom, top, self.count)
        else:
            rows = self.object_list[bottom:top]
        return self._get_page(rows, number, self)


def paginate(request, qs, per_page: int = 50):
    page = _Paginator(qs, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def n_zones(n: int) -> str:
    """ "1 zone" / "3 zones", in the user's language."""
    return ngettext("%(n)s zone", "%(n)s zones", n) % {"n": n}


def n_clients(n: int) -> str:
    """ "1 client" / "3 clients", in the user's language."""
    return ngettext("%(n)s client", "%(n)s clients", n) % {"n": n}
