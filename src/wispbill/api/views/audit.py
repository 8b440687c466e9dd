from drf_spectacular.utils import OpenApiParameter, extend_schema

from wispbill.api.serializers.audit import AuditEventSerializer
from wispbill.api.views.common import ReadOnlyViewSet, int_param
from wispbill.audit.selectors import audit_event_list


@extend_schema(
    parameters=[
        OpenApiParameter("object_type", str),
        OpenApiParameter("object_id", int),
        OpenApiParameter("action", str),
        OpenApiParameter("actor", str),
    ]
)
class AuditEventViewSet(ReadOnlyViewSet):
    serializer_class = AuditEventSerializer

    def get_queryset(self):
        params = self.request.query_params
        return audit_event_list(
            object_type=params.get("object_type"),
            object_id=int_param(self.request, "object_id"),
            action=params.get("action"),
            actor=params.get("actor"),
        )
