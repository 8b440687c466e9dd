from drf_spectacular.utils import OpenApiParameter, extend_schema

from wispbill.api.serializers.radius import SessionSerializer
from wispbill.api.views.common import ReadOnlyViewSet, choice_param, int_param
from wispbill.radius.selectors import session_list


@extend_schema(
    parameters=[
        OpenApiParameter("client", int),
        OpenApiParameter("router", int),
        OpenApiParameter("active", str, enum=["true", "false"]),
    ]
)
class SessionViewSet(ReadOnlyViewSet):
    """PPPoE sessions of RADIUS routers, as their routers account for them."""

    serializer_class = SessionSerializer

    def get_queryset(self):
        active = choice_param(self.request, "active", ["true", "false"])
        return session_list(
            client=int_param(self.request, "client"),
            router=int_param(self.request, "router"),
            active={"true": True, "false": False}.get(active),
        )
