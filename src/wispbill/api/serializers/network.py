from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from wispbill.api.serializers.common import (
    IdRelatedField,
    ModelSerializer,
    ScheduleSerializer,
    StrictMixin,
    SwitchesSerializer,
)
from wispbill.clients.services import zones
from wispbill.core.clock import validate_first_day
from wispbill.core.switches import Switches
from wispbill.core.wire import validate_one_line
from wispbill.network import services
from wispbill.network.models import (
    RADIUS_SECRET_MAX,
    Router,
    SyncStatus,
    Zone,
    validate_radius_secret,
)
from wispbill.network.services import ROUTER_FIELDS


class RouterSerializer(StrictMixin, ModelSerializer):
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        style={"input_type": "password"},
        validators=[validate_one_line],
    )

    radius_secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=RADIUS_SECRET_MAX,
        style={"input_type": "password"},
        validators=[validate_radius_secret],
    )

    class Meta:
        model = Router
        fields = [
            "id",
            *ROUTER_FIELDS,
            "password",
            "radius_secret",
            "sync_status",
            "last_sync_at",
            "last_error",
            "radius_secrets_kept",
        ]
        read_only_fields = ["sync_status", "last_sync_at", "last_error", "radius_secrets_kept"]
        # A name already taken is refused by the model, with a message that names it.
        extra_kwargs: dict[str, dict[str, object]] = {"name": {"validators": []}}

    def create(self, validated_data):
        return services.router_create(actor=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return services.router_update(
            actor=self.context["request"].user, router=instance, data=validated_data
        )


class ZoneSerializer(StrictMixin, ModelSerializer):
    billing = ScheduleSerializer(source="schedule")
    periodic_tasks = SwitchesSerializer(source="switches", required=False)

    class Meta:
        model = Zone
        fields = ["id", "router", "name", "billing", "periodic_tasks", "pppoe_pool"]
        # The service checks the name per router, with a clearer message.
        validators: list[object] = []

    def validate_router(self, router):
        if self.instance is not None and router != self.instance.router:
            raise serializers.ValidationError(_("A zone cannot move to another router."))
        return router

    def create(self, validated_data):
        switches = validated_data.get("switches")
        return zones.zone_create(
            actor=self.context["request"].user,
            router=validated_data["router"],
            name=validated_data["name"],
            schedule=validated_data["schedule"],
            switches=Switches().replace(**switches) if switches else None,
            pppoe_pool=validated_data.get("pppoe_pool", ""),
        )

    def update(self, instance, validated_data):
        schedule = validated_data.get("schedule")
        return zones.zone_update(
            actor=self.context["request"].user,
            zone=instance,
            name=validated_data.get("name"),
            schedule=schedule,
            switches=validated_data.get("switches"),
            pppoe_pool=validated_data.get("pppoe_pool"),
        )


class ReconcileResultSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    failed = serializers.ListField(child=serializers.DictField())
    sync_status = serializers.ChoiceField(choices=SyncStatus.values)
    last_sync_at = serializers.DateTimeField(allow_null=True)


class RouterImportSerializer(StrictMixin, serializers.Serializer):
    zone = IdRelatedField(queryset=Zone.objects.all())
    confirm = serializers.BooleanField(required=False, default=False)
    paid_until = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        input_formats=["iso-8601", "%d/%m/%Y"],
        validators=[validate_first_day],
        help_text=(
            "The day the imported clients paid for until (YYYY-MM-DD or DD/MM/YYYY): no "
            "cycle whose period ends on or before it is invoiced automatically."
        ),
    )


class ImportPreviewSerializer(serializers.Serializer):
    plans = serializers.ListField(child=serializers.DictField())
    clients = serializers.ListField(child=serializers.DictField())
    conflicts = serializers.ListField(child=serializers.DictField())
    already_managed = serializers.IntegerField()


class ImportResultSerializer(serializers.Serializer):
    plans_created = serializers.IntegerField()
    clients_created = serializers.IntegerField()
    objects_adopted = serializers.IntegerField()
    adoption_failed = serializers.ListField(child=serializers.CharField())
    conflicts = serializers.ListField(child=serializers.DictField())
