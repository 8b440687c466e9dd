from rest_framework import serializers

from wispbill.api.serializers.common import IdRelatedField, ModelSerializer, StrictMixin
from wispbill.automation.models import MassUpdate, ObjectKind, TaskStatus
from wispbill.automation.services.company import COMPANY_FIELDS
from wispbill.core.models import MASS_FIELDS, TAX_RATE_AS_FRACTION, CompanySettings
from wispbill.core.schedule import CUT_ACTIONS, RANGES
from wispbill.network.models import Zone


class MassUpdateRequestSerializer(StrictMixin, serializers.Serializer):
    zone = IdRelatedField(queryset=Zone.objects.all(), required=False, allow_null=True)
    all_zones = serializers.BooleanField(required=False, default=False)
    invoices = serializers.BooleanField(required=False, allow_null=True, default=None)
    notices = serializers.BooleanField(required=False, allow_null=True, default=None)
    cuts = serializers.BooleanField(required=False, allow_null=True, default=None)
    cut_action = serializers.ChoiceField(
        choices=CUT_ACTIONS, required=False, allow_null=True, default=None
    )
    throttle_kbps = serializers.IntegerField(
        min_value=RANGES["throttle_kbps"][0],
        max_value=RANGES["throttle_kbps"][1],
        required=False,
        allow_null=True,
        default=None,
    )
    confirm = serializers.BooleanField(required=False, default=False)

    def service_kwargs(self) -> dict:
        """The scope and the values to set: a key left out (or null) stays as it is."""
        data = self.validated_data
        values = {field: data[field] for field in MASS_FIELDS if data.get(field) is not None}
        return {"zone": data.get("zone"), "all_zones": data["all_zones"], "values": values}


class MassUpdateSerializer(ModelSerializer):
    actor = serializers.CharField(source="actor_name")
    values = serializers.DictField()

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


class RunRequestSerializer(StrictMixin, serializers.Serializer):
    date = serializers.DateField(required=False)
    zone = IdRelatedField(queryset=Zone.objects.all(), required=False, allow_null=True)
    dry_run = serializers.BooleanField(required=False, default=False)


class TaskStateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    next_run = serializers.DateTimeField(allow_null=True)
    last_status = serializers.ChoiceField(choices=TaskStatus.values)
    last_run_at = serializers.DateTimeField(allow_null=True)
    last_count = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)


class PeriodicTaskRowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ObjectKind.values)
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
    clients_throttled = serializers.IntegerField()
    clients_reactivated = serializers.IntegerField()
    no_cut_day = serializers.BooleanField()
    # The contract's key; it hides Serializer.errors, which this schema-only serializer (never
    # validated, only named in the API docs) does not read.
    errors = serializers.ListField(child=serializers.DictField())  # type: ignore[assignment]


class CompanySerializer(StrictMixin, ModelSerializer):
    # The digits as a bank prints them ("032 180 00011835971 9") are accepted; the service
    # keeps the digits and checks the CLABE.
    bank_account = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="An 18-digit CLABE."
    )

    class Meta:
        model = CompanySettings
        fields = list(COMPANY_FIELDS)
        extra_kwargs = {"tax_rate": {"error_messages": {"max_value": TAX_RATE_AS_FRACTION}}}
