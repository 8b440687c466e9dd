"""Bank statements and their lines: thin adapters over wispbill.payments."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from wispbill.api.parsers import JSONParser
from wispbill.api.serializers.payments import (
    BankLineAssignSerializer,
    BankLineSerializer,
    BankStatementSerializer,
)
from wispbill.api.views.common import ReadOnlyViewSet, choice_param
from wispbill.payments.models import BankLineStatus
from wispbill.payments.selectors import bank_lines
from wispbill.payments.services import (
    bank_line_assign,
    bank_statement_import,
    bank_statement_preview,
)
from wispbill.payments.statements import declared_size_check, size_check
from wispbill.staff.permissions import REGISTER_PAYMENTS, require_permission


class BankStatementView(APIView):
    parser_classes = [parsers.MultiPartParser, parsers.FormParser, JSONParser]

    @extend_schema(request={"multipart/form-data": BankStatementSerializer}, responses={200: dict})
    def post(self, request):
        """Read a statement. Without `"confirm": "true"` answers what it would do and writes
        nothing; with it, every matched line becomes a payment and the unmatched are kept."""
        # Who may import, and how large the body is, are known before a byte of it is read.
        require_permission(request.user, REGISTER_PAYMENTS)
        declared_size_check(request.META.get("CONTENT_LENGTH"))
        body = BankStatementSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        size_check(upload.size)
        call = bank_statement_import if body.validated_data["confirm"] else bank_statement_preview
        result = call(
            actor=request.user,
            data=upload.read(),
            fmt=body.validated_data["format"],
            filename=upload.name or "",
        )
        return Response(result.as_dict())


@extend_schema(parameters=[OpenApiParameter("status", str, enum=BankLineStatus.values)])
class BankLineViewSet(ReadOnlyViewSet):
    serializer_class = BankLineSerializer

    def get_queryset(self):
        return bank_lines(status=choice_param(self.request, "status", BankLineStatus.values))

    @extend_schema(request=BankLineAssignSerializer, responses=BankLineSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Apply a line that matched nobody to the client given, as a payment."""
        line = self.get_object()
        body = BankLineAssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        line = bank_line_assign(actor=request.user, line=line, client=body.validated_data["client"])
        return Response(BankLineSerializer(line).data, status=status.HTTP_200_OK)
