"""Every error the API answers has the shape docs/contract.md gives ("HTTP API"), and never a
500 for bad input."""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def validation_error_detail(exc: DjangoValidationError) -> dict | list:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


NON_FIELD = "non_field_errors"


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        megabytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        message = _("The request body is too large (at most %(size)s MB).") % {
            "size": f"{megabytes:g}"
        }
        return Response({NON_FIELD: [message]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, SuspiciousOperation):
        # Django's other refusals of a malformed request: a JSON 400, not its HTML page.
        return Response(
            {NON_FIELD: [_("The request is malformed.")]}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied) and not isinstance(exc, Http404):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, IntegrityError):
        # A constraint a concurrent request won: say so instead of failing.
        return Response(
            {"non_field_errors": [_("This conflicts with existing data; reload and retry.")]},
            status=status.HTTP_409_CONFLICT,
        )
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_400_BAD_REQUEST:
        response.data = field_shape(response.data)
    return response


def field_shape(data):
    """A 400's body as the contract has it, `{"field": ["message", ...]}`: a bare message (a
    parse error, a validation error without a field) goes under non_field_errors."""
    if isinstance(data, dict) and set(data) == {"detail"}:
        data = [data["detail"]]
    if isinstance(data, list | str):
        return {NON_FIELD: data if isinstance(data, list) else [data]}
    return {field: [value] if isinstance(value, str) else value for field, value in data.items()}
