from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from wispbill.staff.services import api_key_user

KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _sep, key = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            raise exceptions.AuthenticationFailed(
                _('Use the header "Authorization: Api-Key <key>".')
            )
        user = api_key_user(key.strip())
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        return user, None

    def authenticate_header(self, request) -> str:
        return KEYWORD
