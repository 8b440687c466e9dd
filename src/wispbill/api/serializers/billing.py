from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wispbill.api.serializers.cfdi import CFDI_SUMMARY
from wispbill.api.serializers.common import (
    ModelSerializer,
    MoneyField,
    StrictMixin,
    char_max_length,
)
from wispbill.billing.models import Charge, Invoice, InvoiceLine, Payment
from wispbill.billing.services.charges import charge_create
from wispbill.billing.services.payments import payment_register
from wispbill.cfdi.selectors import cfdi_summary, invoice_cfdi, payment_cfdi
from wispbill.core.models import MAX_MONEY


class InvoiceLineSerializer(ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["description", "amount"]


class InvoiceSerializer(ModelSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    cfdi = serializers.SerializerMethodField()

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
            "subtotal",
            "tax",
            "total",
            "paid_amount",
            "status",
            "lines",
            "automatic",
            "cfdi",
        ]
        read_only_fields = fields

    @extend_schema_field(CFDI_SUMMARY)
    def get_cfdi(self, invoice) -> dict | None:
        return cfdi_summary(invoice_cfdi(invoice))


class PaymentSerializer(StrictMixin, ModelSerializer):
    amount = MoneyField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_MONEY
    )
    activate_service = serializers.BooleanField(required=False, allow_null=True, default=None)
    confirm_large = serializers.BooleanField(
        write_only=True,
        default=False,
        help_text="Needed when the amount is more than twice the client's balance plus a "
        "month of its plan (or it owes nothing): without it such a payment is a 400 naming "
        "the amounts.",
    )
    voided_by = serializers.CharField(source="voided_by_name", read_only=True)
    allocations = serializers.SerializerMethodField()
    cfdi = serializers.SerializerMethodField()

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
            "status",
            "voided_at",
            "void_reason",
            "voided_by",
            "confirm_large",
            "cfdi",
        ]
        read_only_fields = ["received_at", "credit_added", "status", "voided_at", "void_reason"]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_allocations(self, payment) -> list:
        return [
            {"invoice": a.invoice_id, "amount": f"{a.amount:.2f}"}
            for a in payment.allocations.all()
        ]

    @extend_schema_field(CFDI_SUMMARY)
    def get_cfdi(self, payment) -> dict | None:
        return cfdi_summary(payment_cfdi(payment))

    def create(self, validated_data):
        return payment_register(actor=self.context["request"].user, **validated_data)


class PaymentVoidSerializer(StrictMixin, serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True, max_length=char_max_length(Payment, "void_reason")
    )


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
