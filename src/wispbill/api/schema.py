"""The API's OpenAPI schema, made once per process and language: it describes the code, which
does not change while the process runs, and making it walks every view and serializer (most
of a second, on every opening of the API docs page). Its rendering (YAML or JSON, 150-300 KB)
is kept too, per language and format."""

from django.utils.translation import get_language
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_made: dict[tuple, dict] = {}
_rendered: dict[tuple, tuple[bytes, str]] = {}


class SchemaView(SpectacularAPIView):
    rendering_key: tuple | None = None  # this request's schema, language and format

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, get_language(), self.serve_public)
        if key not in _made:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            _made[key] = generator.get_schema(request=request, public=self.serve_public)
        filename = self._get_filename(request, version)
        self.rendering_key = (*key, request.accepted_renderer.format, request.accepted_media_type)
        return Response(
            data=_made[key], headers={"Content-Disposition": f'inline; filename="{filename}"'}
        )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        key = self.rendering_key
        if key is None or not isinstance(response, Response) or response.status_code != 200:
            return response
        if key not in _rendered:
            # Rendering sets the response's Content-Type, which is kept with the content.
            _rendered[key] = (response.rendered_content, response["Content-Type"])
        response.content, response["Content-Type"] = _rendered[key]
        return response
