from django.utils.translation import gettext as _
from rest_framework import mixins, serializers, viewsets
from rest_framework.views import APIView

from wispbill.core.db import to_id

# Ids are database integers: anything else is an unknown object (404), never a crash.
ID_REGEX = r"[0-9]{1,18}"


class ReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_REGEX


class EditableViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Create, read and edit; deleting billing data is not offered over the API."""

    lookup_value_regex = ID_REGEX


def int_param(request, name: str) -> int | None:
    """A whole-number query parameter, None when absent; a 400 when it is not one."""
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    number = to_id(value)
    if number is None:
        raise serializers.ValidationError({name: [_("Must be a whole number.")]})
    return number


def choice_param(request, name: str, choices: list[str]) -> str:
    """A query parameter that must be one of `choices` (or absent: "")."""
    value = request.query_params.get(name, "")
    if value and value not in choices:
        raise serializers.ValidationError(
            {name: [_("Must be one of: %(values)s.") % {"values": ", ".join(choices)}]}
        )
    return value


class FileView(APIView):
    """A file download (PDF, XML); errors stay JSON whatever the client accepts."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)
