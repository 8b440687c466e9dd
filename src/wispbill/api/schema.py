"""The API's OpenAPI schema, made once per process and language: it describes the code, which
does not change while the process runs, and making it walks every view and serializer (most
of a second, on every opening of the API docs page)."""

from django.utils.translation import get_language
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_made: dict[tuple, dict] = {}


class SchemaView(SpectacularAPIView):
    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, get_language(), self.serve_public)
        if key not in _made:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            _made[key] = generator.get_schema(request=request, public=self.serve_public)
        filename = self._get_filename(request, version)
        return Response(
            data=_made[key], headers={"Content-Disposition": f'inline; filename="{filename}"'}
        )
