from rest_framework import serializers

from wispbill.api.serializers.common import ModelSerializer
from wispbill.audit.models import AuditEvent


class AuditEventSerializer(ModelSerializer):
    actor = serializers.CharField(source="actor_name")
    reason = serializers.CharField(source="reason_text")

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
