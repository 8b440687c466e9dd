from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wispbill.api.serializers.common import (
    ModelSerializer,
    MoneyField,
    ScheduleSerializer,
    StrictMixin,
    SwitchesSerializer,
)
from wispbill.billing.selectors import client_balance
from wispbill.clients.models import Client, Plan
from wispbill.clients.selectors import client_sync_status
from wispbill.clients.services import clients as services
from wispbill.clients.services import plans
from wispbill.clients.services.clients import CLIENT_FIELDS
from wispbill.clients.services.plans import PLAN_FIELDS
from wispbill.core.models import MAX_MONEY
from wispbill.network.models import SyncStatus


class PlanSerializer(StrictMixin, ModelSerializer):
    price = MoneyField(max_digits=10, decimal_places=2, min_value=Decimal("0"), max_value=MAX_MONEY)

    class Meta:
        model = Plan
        fields = ["id", *PLAN_FIELDS]
        # A name already taken is refused by the model, with a message that names it.
        extra_kwargs: dict[str, dict[str, object]] = {"name": {"validators": []}}

    def create(self, validated_data):
        return plans.plan_create(actor=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return plans.plan_update(
            actor=self.context["request"].user, plan=instance, data=validated_data
        )


class ClientSerializer(StrictMixin, ModelSerializer):
    router = serializers.IntegerField(source="zone.router_id", read_only=True)
    pppoe_password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=64,
        style={"input_type": "password"},
        help_text=(
            "Write-only, stored encrypted; left out or empty keeps the current one. Required "
            'when a PPPoE client is created; "generate" makes one, answered once as '
            "`pppoe_password_generated`."
        ),
    )
    billing = ScheduleSerializer(source="schedule", required=False, allow_null=True)
    periodic_tasks = SwitchesSerializer(source="switches", required=False, allow_null=True)
    effective_periodic_tasks = serializers.SerializerMethodField()
    balance = serializers.SerializerMethodField()
    sync_status = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = [
            "id",
            *CLIENT_FIELDS,
            "pppoe_password",
            "router",
            "billing",
            "periodic_tasks",
            "effective_periodic_tasks",
            "balance",
            "notice_active",
            "promise_until",
            "sync_status",
            "payment_reference",
        ]
        read_only_fields = ["notice_active", "promise_until", "payment_reference"]
        # An IP already taken is refused by the model, with a message naming who holds it.
        extra_kwargs: dict[str, dict[str, object]] = {"ip": {"validators": []}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not instance.is_own_billing:
            data["billing"] = None
            data["periodic_tasks"] = None
        generated = getattr(instance, "pppoe_password_generated", None)
        if generated:
            data["pppoe_password_generated"] = generated
        return data

    @extend_schema_field(SwitchesSerializer)
    def get_effective_periodic_tasks(self, client) -> dict:
        return client.effective_switches.as_dict()

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_balance(self, client) -> str:
        return f"{client_balance(client):.2f}"

    @extend_schema_field(serializers.ChoiceField(choices=SyncStatus.values))
    def get_sync_status(self, client) -> str:
        return client_sync_status(client)

    def create(self, validated_data):
        return services.client_create(
            actor=self.context["request"].user,
            billing=validated_data.pop("schedule", None),
            periodic_tasks=validated_data.pop("switches", None),
            **validated_data,
        )

    def update(self, instance, validated_data):
        billing_given = "schedule" in validated_data
        return services.client_update(
            actor=self.context["request"].user,
            client=instance,
            billing_given=billing_given,
            billing=validated_data.pop("schedule", None),
            periodic_tasks=validated_data.pop("switches", None),
            data=validated_data,
        )


class PromiseSerializer(StrictMixin, serializers.Serializer):
    until = serializers.DateField()
