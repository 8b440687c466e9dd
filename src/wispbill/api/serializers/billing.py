from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wispbill.api.serializers.common import ModelSerializer, StrictMixin
from wispbill.billing.models import Charge, Invoice, InvoiceLine, Payment
from wispbill.billing.services.charges import charge_create
from wispbill.billing.services.payments import payment_register
from wispbill.core.models import MAX_MONEY


class InvoiceLineSerializer(ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["description", "amount"]


class InvoiceSerializer(ModelSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "client",
            "period_start",
            "period_end",
            "issued_on",
            "pay_date",
            "notice_date",
            "due_date",
            "total",
            "paid_amount",
            "status",
            "lines",
            "automatic",
        ]
        read_only_fields = fields


class PaymentSerializer(StrictMixin, ModelSerializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_MONEY
    )
    activate_service = serializers.BooleanField(required=False, allow_null=True, default=None)
    allocations = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id",
            "client",
            "amount",
            "method",
            "activate_service",
            "paid_on",
            "reference",
            "received_at",
            "credit_added",
            "note",
            "allocations",
        ]
        read_only_fields = ["received_at", "credit_added"]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_allocations(self, payment) -> list:
        return [
            {"invoice": a.invoice_id, "amount": f"{a.amount:.2f}"}
            for a in payment.allocations.all()
        ]

    def create(self, validated_data):
        return payment_register(actor=self.context["request"].user, **validated_data)


class CreateInvoiceSerializer(StrictMixin, serializers.Serializer):
    date = serializers.DateField(required=False)
    charges = serializers.BooleanField(required=False, default=False)


class ChargeSerializer(StrictMixin, ModelSerializer):
    """A one-off charge; negative `amount` for a discount."""

    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=-MAX_MONEY, max_value=MAX_MONEY
    )

    class Meta:
        model = Charge
        fields = ["id", "client", "description", "amount", "status", "invoice", "created_at"]
        read_only_fields = ["status", "invoice", "created_at"]

    def create(self, validated_data):
        return charge_create(actor=self.context["request"].user, **validated_data)
