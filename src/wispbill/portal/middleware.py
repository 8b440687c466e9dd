"""The notice port: every request that reaches it is a listed client's web traffic, answered
by the notice page (or the client's own page under /portal/)."""

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.urls import resolve
from django.utils import translation
from whitenoise.middleware import WhiteNoiseMiddleware


class NoticePortMiddleware:
    """Every request that reaches the notice port gets the notice page (or a static file it
    links to, or the client's own page under /portal/, which a cut client can reach only
    here), whatever its host and path: it is web traffic of a listed client that its router
    redirected here. It comes first in MIDDLEWARE, so these requests never meet the host check
    or the HTTPS redirect: a client asked for any site, over plain HTTP. Nothing on this port
    may build a link from the request's host, which the client chose."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.notice = CSPMiddleware(WhiteNoiseMiddleware(_notice_port_view))

    def __call__(self, request):
        if request.META.get("SERVER_PORT") != str(settings.NOTICE_PORT):
            return self.get_response(request)
        request.is_notice = True
        translation.activate(translation.get_language_from_request(request))
        response = self.notice(request)
        # The notice page must not be framed by the site the client was trying to reach.
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # The address the client asked for stays with the client.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response


def _notice_port_view(request):
    """The notice port's own routing (`portal/notice_urls.py`): the client's page under
    /portal/ (authorised by its signed link, not by a session), the notice page for the rest."""
    match = resolve(request.path_info, urlconf="wispbill.portal.notice_urls")
    return match.func(request, *match.args, **match.kwargs)
