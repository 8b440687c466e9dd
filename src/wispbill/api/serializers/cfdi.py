from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from wispbill.api.serializers.common import ModelSerializer
from wispbill.billing.models import Payment
from wispbill.cfdi.models import CfdiDocument
from wispbill.cfdi.selectors import cfdi_invoice_ids

# The `cfdi` of an invoice or a payment: null, or this.
CFDI_SUMMARY = inline_serializer(
    "CfdiSummary",
    {
        "id": serializers.IntegerField(),
        "uuid": serializers.CharField(allow_null=True),
        "status": serializers.CharField(),
        "error": serializers.CharField(),
    },
    allow_null=True,
)


class CfdiSerializer(ModelSerializer):
    folio = serializers.CharField(read_only=True)
    uuid = serializers.SerializerMethodField()
    error = serializers.CharField(read_only=True)
    invoices = serializers.SerializerMethodField()
    payments = serializers.PrimaryKeyRelatedField[Payment](many=True, read_only=True)

    class Meta:
        model = CfdiDocument
        fields = [
            "id",
            "kind",
            "uuid",
            "series",
            "folio",
            "status",
            "total",
            "invoices",
            "payments",
            "period_start",
            "period_end",
            "error",
            "created_at",
            "stamped_at",
            "cancelled_at",
            "replaces",
        ]
        read_only_fields = fields

    def get_uuid(self, document) -> str | None:
        return document.uuid or None

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_invoices(self, document) -> list[int]:
        return cfdi_invoice_ids(document)
