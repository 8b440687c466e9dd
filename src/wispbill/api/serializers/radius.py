from wispbill.api.serializers.common import ModelSerializer
from wispbill.radius.models import Session


class SessionSerializer(ModelSerializer):
    class Meta:
        model = Session
        fields = [
            "id",
            "client",
            "router",
            "username",
            "ip",
            "session_id",
            "started_at",
            "updated_at",
            "stopped_at",
            "input_bytes",
            "output_bytes",
        ]
