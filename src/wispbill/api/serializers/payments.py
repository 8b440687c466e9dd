from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from wispbill.api.serializers.common import IdRelatedField, ModelSerializer, StrictMixin
from wispbill.billing.models import Invoice
from wispbill.clients.models import Client
from wispbill.payments.models import BankLine, Provider, StatementFormat


class BankStatementSerializer(serializers.Serializer):
    """The upload: a statement file, its format, and whether to import it or only look."""

    file = serializers.FileField(
        error_messages={
            "required": _("Choose the statement file."),
            "empty": _("The file is empty."),
        }
    )
    format = serializers.ChoiceField(
        choices=StatementFormat.values, default=StatementFormat.GENERIC
    )
    confirm = serializers.BooleanField(default=False)


class BankLineSerializer(ModelSerializer):
    reason_text = serializers.CharField(source="get_reason_display", read_only=True)

    class Meta:
        model = BankLine
        fields = [
            "id",
            "statement",
            "line",
            "date",
            "amount",
            "reference",
            "description",
            "tracking_key",
            "status",
            "reason",
            "reason_text",
            "client",
            "payment",
            "applied_at",
            "applied_by",
        ]
        read_only_fields = fields


class BankLineAssignSerializer(StrictMixin, serializers.Serializer):
    client = IdRelatedField(queryset=Client.objects.all())


class PaymentLinkSerializer(StrictMixin, serializers.Serializer):
    """Which gateway, and optionally which invoice; the amount always comes from the
    database."""

    provider = serializers.ChoiceField(choices=Provider.values)
    invoice = IdRelatedField(queryset=Invoice.objects.all(), required=False, allow_null=True)
