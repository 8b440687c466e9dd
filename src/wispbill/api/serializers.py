"""Thin adapters: they shape JSON and hand the values to the services."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wispbill.audit.models import AuditEvent
from wispbill.automation.models import MassUpdate
from wispbill.automation.selectors import client_effective_switches
from wispbill.billing import services as billing_services
from wispbill.billing.models import Invoice, InvoiceLine, Payment
from wispbill.billing.selectors import client_balance
from wispbill.clients import selectors as client_selectors
from wispbill.clients import services as client_services
from wispbill.clients.models import Client, Plan
from wispbill.core.db import to_id
from wispbill.core.schedule import MODES, RANGES, BillingSchedule, schedule_errors
from wispbill.core.switches import Switches
from wispbill.network import services as network_services
from wispbill.network.models import Router, Zone
from wispbill.network.services import ROUTER_FIELDS
from wispbill.staff import services as staff_services
from wispbill.staff.permissions import CODENAMES


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key as a plain id; an id too large for the database is "does not exist",
    not a crash."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type="bool")
        if isinstance(data, int | str) and str(data).lstrip("-").isdigit() and to_id(data) is None:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer):
    serializer_related_field = IdRelatedField


class StrictMixin:
    """Refuses keys the resource does not have, so a typo never passes as a no-op."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


class ScheduleSerializer(StrictMixin, serializers.Serializer):
    mode = serializers.ChoiceField(choices=MODES)
    pay_day = serializers.IntegerField(
        min_value=RANGES["pay_day"][0], max_value=RANGES["pay_day"][1]
    )
    invoice_lead_days = serializers.IntegerField(
        min_value=RANGES["invoice_lead_days"][0], max_value=RANGES["invoice_lead_days"][1]
    )
    notice_offset_days = serializers.IntegerField(
        min_value=RANGES["notice_offset_days"][0], max_value=RANGES["notice_offset_days"][1]
    )
    grace_days = serializers.IntegerField(
        min_value=RANGES["grace_days"][0], max_value=RANGES["grace_days"][1]
    )

    def validate(self, attrs):
        errors = schedule_errors(attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_representation(self, instance):
        schedule = instance if isinstance(instance, BillingSchedule) else instance.schedule
        return schedule.as_dict() if schedule else None


class SwitchesSerializer(StrictMixin, serializers.Serializer):
    invoices = serializers.BooleanField(required=False)
    notices = serializers.BooleanField(required=False)
    cuts = serializers.BooleanField(required=False)

    def to_representation(self, instance):
        switches = instance if isinstance(instance, Switches) else instance.switches
        return switches.as_dict()


class PlanSerializer(StrictMixin, ModelSerializer):
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"))

    class Meta:
        model = Plan
        fields = ["id", "name", "price", "download_kbps", "upload_kbps"]

    def create(self, validated_data):
        return client_services.plan_create(actor=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return client_services.plan_update(
            actor=self.context["request"].user, plan=instance, **validated_data
        )


class RouterSerializer(StrictMixin, ModelSerializer):
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        style={"input_type": "password"},
    )

    class Meta:
        model = Router
        fields = [
            "id",
            *ROUTER_FIELDS,
            "password",
            "sync_status",
            "last_sync_at",
            "last_error",
        ]
        read_only_fields = ["sync_status", "last_sync_at", "last_error"]

    def create(self, validated_data):
        return network_services.router_create(actor=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return network_services.router_update(
            actor=self.context["request"].user, router=instance, **validated_data
        )


class ZoneSerializer(StrictMixin, ModelSerializer):
    billing = ScheduleSerializer(source="schedule")
    periodic_tasks = SwitchesSerializer(source="switches", required=False)

    class Meta:
        model = Zone
        fields = ["id", "router", "name", "billing", "periodic_tasks"]
        validators = []  # the service checks the name per router, with a clearer message

    def validate_router(self, router):
        if self.instance is not None and router != self.instance.router:
            raise serializers.ValidationError(_("A zone cannot move to another router."))
        return router

    def create(self, validated_data):
        switches = validated_data.get("switches")
        return network_services.zone_create(
            actor=self.context["request"].user,
            router=validated_data["router"],
            name=validated_data["name"],
            schedule=BillingSchedule(**validated_data["schedule"]),
            switches=Switches().replace(**switches) if switches else None,
        )

    def update(self, instance, validated_data):
        schedule = validated_data.get("schedule")
        return network_services.zone_update(
            actor=self.context["request"].user,
            zone=instance,
            name=validated_data.get("name"),
            schedule=BillingSchedule(**schedule) if schedule else None,
            switches=validated_data.get("switches"),
        )


class ClientSerializer(StrictMixin, ModelSerializer):
    router = serializers.IntegerField(source="zone.router_id", read_only=True)
    billing = ScheduleSerializer(source="schedule", required=False, allow_null=True)
    periodic_tasks = SwitchesSerializer(source="switches", required=False, allow_null=True)
    effective_periodic_tasks = serializers.SerializerMethodField()
    balance = serializers.SerializerMethodField()
    sync_status = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "address",
            "ip",
            "zone",
            "router",
            "plan",
            "start_date",
            "state",
            "billing_type",
            "billing",
            "periodic_tasks",
            "effective_periodic_tasks",
            "auto_activate_on_payment",
            "balance",
            "notice_active",
            "promise_until",
            "sync_status",
        ]
        read_only_fields = ["notice_active", "promise_until"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.billing_type != "own":
            data["billing"] = None
            data["periodic_tasks"] = None
        return data

    @extend_schema_field(SwitchesSerializer)
    def get_effective_periodic_tasks(self, client) -> dict:
        return client_effective_switches(client).as_dict()

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_balance(self, client) -> str:
        return f"{client_balance(client):.2f}"

    @extend_schema_field(serializers.ChoiceField(choices=["ok", "pending", "error"]))
    def get_sync_status(self, client) -> str:
        return client_selectors.client_sync_status(client)

    def create(self, validated_data):
        return client_services.client_create(
            actor=self.context["request"].user,
            billing=validated_data.pop("schedule", None),
            periodic_tasks=validated_data.pop("switches", None),
            **validated_data,
        )

    def update(self, instance, validated_data):
        billing_given = "schedule" in validated_data
        return client_services.client_update(
            actor=self.context["request"].user,
            client=instance,
            billing_given=billing_given,
            billing=validated_data.pop("schedule", None),
            periodic_tasks=validated_data.pop("switches", None),
            **validated_data,
        )


class MassUpdateRequestSerializer(StrictMixin, serializers.Serializer):
    zone = IdRelatedField(queryset=Zone.objects.all(), required=False, allow_null=True)
    all_zones = serializers.BooleanField(required=False, default=False)
    invoices = serializers.BooleanField(required=False, allow_null=True, default=None)
    notices = serializers.BooleanField(required=False, allow_null=True, default=None)
    cuts = serializers.BooleanField(required=False, allow_null=True, default=None)
    confirm = serializers.BooleanField(required=False, default=False)


class MassUpdateSerializer(ModelSerializer):
    actor = serializers.CharField(source="actor_name")
    values = serializers.DictField(source="targets", child=serializers.BooleanField())

    class Meta:
        model = MassUpdate
        fields = [
            "id",
            "at",
            "actor",
            "zone",
            "zone_name",
            "all_zones",
            "values",
            "zones_changed",
            "clients_changed",
            "zone_billed_clients",
            "undone_at",
            "undone_by_name",
            "undo_restored",
            "undo_skipped",
        ]


class StaffSerializer(StrictMixin, ModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, max_length=128, style={"input_type": "password"}
    )
    is_admin = serializers.BooleanField(source="is_superuser", required=False, default=False)
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(CODENAMES)), required=False, default=list
    )
    full_name = serializers.CharField(
        source="first_name", required=False, allow_blank=True, max_length=150
    )

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "password", "full_name", "is_admin", "is_active", "permissions"]
        extra_kwargs = {"is_active": {"required": False, "default": True}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["permissions"] = staff_services.staff_permissions(instance)
        return data

    def validate(self, attrs):
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": [_("This field is required.")]})
        if (
            self.instance is not None
            and "username" in attrs
            and (attrs["username"] != self.instance.username)
        ):
            raise serializers.ValidationError({"username": [_("A username cannot change.")]})
        return attrs

    def create(self, validated_data):
        return staff_services.staff_create(
            actor=self.context["request"].user,
            username=validated_data["username"],
            password=validated_data["password"],
            is_admin=validated_data["is_superuser"],
            permissions=validated_data["permissions"],
            full_name=validated_data.get("first_name", ""),
            is_active=validated_data.get("is_active", True),
        )

    def update(self, instance, validated_data):
        partial = self.partial
        return staff_services.staff_update(
            actor=self.context["request"].user,
            user=instance,
            password=validated_data.get("password"),
            is_admin=validated_data.get("is_superuser")
            if not partial or ("is_admin" in self.initial_data)
            else None,
            permissions=validated_data.get("permissions")
            if not partial or ("permissions" in self.initial_data)
            else None,
            full_name=validated_data.get("first_name"),
            is_active=validated_data.get("is_active")
            if not partial or ("is_active" in self.initial_data)
            else None,
        )


class AuditEventSerializer(ModelSerializer):
    actor = serializers.CharField(source="actor_name")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "reason",
        ]


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
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
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
        return billing_services.payment_register(
            actor=self.context["request"].user, **validated_data
        )


class PromiseSerializer(StrictMixin, serializers.Serializer):
    until = serializers.DateField()


class CreateInvoiceSerializer(StrictMixin, serializers.Serializer):
    date = serializers.DateField(required=False)


class RunRequestSerializer(StrictMixin, serializers.Serializer):
    date = serializers.DateField(required=False)
    zone = IdRelatedField(queryset=Zone.objects.all(), required=False, allow_null=True)
    dry_run = serializers.BooleanField(required=False, default=False)


class TaskStateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    next_run = serializers.DateTimeField(allow_null=True)
    last_status = serializers.ChoiceField(choices=["pending", "applied", "error"])
    last_run_at = serializers.DateTimeField(allow_null=True)
    last_count = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)


class PeriodicTaskRowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["zone", "client"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    zone = serializers.IntegerField()
    router = serializers.IntegerField()
    tasks = serializers.DictField(child=TaskStateSerializer())


class RunSummarySerializer(serializers.Serializer):
    date = serializers.DateField()
    dry_run = serializers.BooleanField()
    invoices_created = serializers.IntegerField()
    notices_shown = serializers.IntegerField()
    clients_cut = serializers.IntegerField()
    clients_reactivated = serializers.IntegerField()
    no_cut_day = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.DictField())


class ReconcileResultSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    failed = serializers.ListField(child=serializers.DictField())
    sync_status = serializers.ChoiceField(choices=["ok", "pending", "error"])
    last_sync_at = serializers.DateTimeField(allow_null=True)
