from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from wispbill.panel.views.notice import notice_page


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


class NoticePortMiddleware:
    """Every request that reaches the notice port gets the notice page, whatever its host and
    path: it is web traffic of a listed client that its router redirected here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # A cut client reaches only this port: its own page (and the page's files) stay open.
        if request.META.get("SERVER_PORT") == str(settings.NOTICE_PORT) and not (
            request.path.startswith((settings.STATIC_URL, "/portal/"))
        ):
            request.is_notice = True
            translation.activate(translation.get_language_from_request(request))
            return notice_page(request)
        return self.get_response(request)
