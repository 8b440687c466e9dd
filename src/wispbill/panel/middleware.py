from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

NUL = "\x00"
NON_FIELD = "non_field_errors"


class LanguageMiddleware(LocaleMiddleware):
    """The panel speaks Spanish unless the user chose English in its language menu (a cookie);
    the browser's own language does not switch it. The API follows Accept-Language, so an
    integration gets its errors in the language it asks for, and so does the notice page, so
    a client reads it in its own language."""

    def process_request(self, request):
        if request.path.startswith(("/api/", "/aviso/")) or getattr(request, "is_notice", False):
            language = translation.get_language_from_request(request)
        else:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            if language not in dict(settings.LANGUAGES):
                language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class BoundedRequestMiddleware:
    """Refuses, before anything reads it, an upload larger than any form needs (Django would
    otherwise spool a file of any size to disk before a view can look at it), and a request
    whose query string holds a NUL character, which PostgreSQL refuses in text and a filter
    would turn into a 500. The API answers its 400 shape; the panel a page that says what to
    fix."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        # Other bodies are bounded by Django's DATA_UPLOAD_MAX_MEMORY_SIZE, from the same
        # header; only a multipart body's files are not counted there.
        multipart = request.content_type == "multipart/form-data"
        if multipart and length > settings.WISPBILL_MAX_REQUEST_BYTES:
            megabytes = settings.WISPBILL_MAX_REQUEST_BYTES // (1024 * 1024)
            return _refusal(
                request,
                NON_FIELD,
                _("The request is larger than %(mb)s MB; send a smaller file.") % {"mb": megabytes},
            )
        for name, values in request.GET.lists():
            if NUL in name or any(NUL in value for value in values):
                return _refusal(
                    request,
                    name.replace(NUL, "") or NON_FIELD,
                    _("«%(name)s» holds a NUL character (\\x00); remove it and search again.")
                    % {"name": name.replace(NUL, "")},
                )
        return self.get_response(request)


def _refusal(request, field: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({field: [message]}, status=400)
    if request.path.startswith(("/portal/", "/webhooks/")):
        # A client or a gateway: no page of the staff panel, with its links.
        return HttpResponse(message, content_type="text/plain; charset=utf-8", status=400)
    return render(request, "panel/bad_request.html", {"message": message}, status=400)
