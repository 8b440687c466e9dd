"""Bank statements and their lines: thin adapters over wispbill.payments."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import parsers, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from wispbill.api.parsers import JSONParser
from wispbill.api.serializers.payments import (
    BankLineAssignSerializer,
    BankLineSerializer,
    BankStatementSerializer,
    PaymentLinkSerializer,
)
from wispbill.api.views.common import ReadOnlyViewSet, choice_param
from wispbill.clients.models import Client
from wispbill.messaging.company import company_settings
from wispbill.messaging.links import base_url, portal_link
from wispbill.payments.gateway_services import payment_link_create
from wispbill.payments.gateways import GatewayError
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


class PaymentLinkView(APIView):
    @extend_schema(
        request=PaymentLinkSerializer,
        responses=inline_serializer("PaymentLink", {"url": serializers.URLField()}),
    )
    def post(self, request, pk):
        """A link to Mercado Pago's or Stripe's checkout for the invoice's pending amount, or
        for what the client owes now."""
        require_permission(request.user, REGISTER_PAYMENTS)
        client = get_object_or_404(Client, pk=pk)
        body = PaymentLinkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        company = company_settings()
        try:
            url = payment_link_create(
                actor=request.user,
                client=client,
                provider=body.validated_data["provider"],
                invoice=body.validated_data.get("invoice"),
                site_url=base_url(company, request),
                return_url=portal_link(client, company=company, request=request).url,
            )
        except GatewayError as exc:
            return Response({"non_field_errors": [str(exc)]}, status=status.HTTP_502_BAD_GATEWAY)
        return Response({"url": url})
