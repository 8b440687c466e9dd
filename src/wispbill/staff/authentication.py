from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
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


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Describes the key header in the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'The value is "Api-Key " followed by the key '
            "(`wispbill create-api-key USERNAME`).",
        }
