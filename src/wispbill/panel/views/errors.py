"""The panel's own 404 and 500 pages, in the reader's language, with a way back. The 500 page
renders from the template alone: no database, no session, no user, so it shows even when
those are what failed."""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

API = "/api/"


def not_found(request, exception=None):
    """404: the page does not exist (or is not yours to see)."""
    if request.path.startswith(API):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    body = loader.get_template("panel/404.html").render({"path": request.path})
    return HttpResponse(body, status=404)


def permission_denied(request, exception=None):
    """403: a service refused for a missing permission; the page names it. The panel's views
    that can say it on the page they come from do so themselves."""
    if request.path.startswith(API):
        return JsonResponse({"detail": str(exception or _("Not allowed"))}, status=403)
    return render(request, "panel/forbidden.html", {"message": str(exception or "")}, status=403)


def server_error(request):
    """500: something failed on our side; nothing the reader did."""
    if request.path.startswith(API):
        return JsonResponse({"detail": _("A server error occurred.")}, status=500)
    body = loader.get_template("panel/500.html").render({})
    return HttpResponse(body, status=500)
