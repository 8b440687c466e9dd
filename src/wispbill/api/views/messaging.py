"""The outbox, the PDF documents and the client-page link over HTTP: thin adapters."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from wispbill.api.views.common import FileView
from wispbill.billing.models import Invoice, Payment
from wispbill.clients.models import Client
from wispbill.core.db import to_id
from wispbill.messaging.documents import (
    invoice_number,
    invoice_pdf,
    pdf_response,
    receipt_number,
    receipt_pdf,
)
from wispbill.messaging.models import Message, MessageStatus
from wispbill.messaging.selectors import message_list
from wispbill.messaging.services import portal_link_create, portal_links_revoke


class MessageSerializer(serializers.ModelSerializer):
    last_error = serializers.CharField(source="error_text", read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "client",
            "channel",
            "kind",
            "invoice",
            "payment",
            "recipient",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "sent_at",
            "next_attempt_at",
        ]
        read_only_fields = fields


@extend_schema(parameters=[OpenApiParameter("client", int), OpenApiParameter("status", str)])
class MessageViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MessageSerializer
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        params = self.request.query_params
        client = None
        if params.get("client") not in (None, ""):
            client = to_id(params["client"])
            if client is None:
                raise serializers.ValidationError({"client": [_("Must be a whole number.")]})
        status = params.get("status") or None
        if status and status not in MessageStatus.values:
            raise serializers.ValidationError(
                {
                    "status": [
                        _("Must be one of: %(values)s.")
                        % {"values": ", ".join(MessageStatus.values)}
                    ]
                }
            )
        return message_list(client=client, status=status)


class InvoicePdfView(FileView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        """The invoice as a PDF, in its client's language."""
        invoice = get_object_or_404(Invoice, pk=pk)
        return pdf_response(
            invoice_pdf(invoice, request=request), f"{invoice_number(invoice.pk)}.pdf"
        )


class PaymentReceiptView(FileView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        """The payment's receipt as a PDF, in its client's language."""
        payment = get_object_or_404(Payment, pk=pk)
        return pdf_response(
            receipt_pdf(payment, request=request), f"{receipt_number(payment.pk)}.pdf"
        )


class PortalLinkView(APIView):
    @extend_schema(
        request=None,
        responses=inline_serializer(
            "PortalLink", {"url": serializers.URLField(), "expires_at": serializers.DateTimeField()}
        ),
    )
    def post(self, request, pk):
        """A signed link to the client's own page, working until `expires_at`."""
        client = get_object_or_404(Client, pk=pk)
        link = portal_link_create(actor=request.user, client=client, request=request)
        return Response(
            {
                "url": link.url,
                "expires_at": serializers.DateTimeField().to_representation(link.expires_at),
            }
        )


class PortalLinkRevokeView(APIView):
    @extend_schema(
        request=None,
        responses=inline_serializer(
            "PortalLinksRevoked",
            {"client": serializers.IntegerField(), "revoked": serializers.BooleanField()},
        ),
    )
    def post(self, request, pk):
        """Every link to the client's page issued so far stops working; new ones work."""
        client = portal_links_revoke(actor=request.user, client=get_object_or_404(Client, pk=pk))
        return Response({"client": client.pk, "revoked": True})
