from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from wispbill.api.serializers.network import (
    ImportPreviewSerializer,
    ImportResultSerializer,
    ReconcileResultSerializer,
    RouterImportSerializer,
    RouterSerializer,
    ZoneSerializer,
)
from wispbill.api.views.common import EditableViewSet, int_param
from wispbill.billing.imports import proposal_next_invoices
from wispbill.clients.enforcement import router_reconcile
from wispbill.clients.services.router_import import router_import_confirm, router_import_preview
from wispbill.network.drivers import DriverError
from wispbill.network.models import Router, Zone
from wispbill.network.sync import router_test_connection


class RouterViewSet(EditableViewSet):
    queryset = Router.objects.all()
    serializer_class = RouterSerializer

    @extend_schema(request=None, responses={200: ReconcileResultSerializer})
    @action(detail=True, methods=["post"])
    def reconcile(self, request, pk=None):
        """Push the desired cut and notice lists to this router now."""
        router = self.get_object()
        try:
            result = router_reconcile(router, actor=request.user)
        except DriverError as exc:
            router.refresh_from_db()
            return Response(
                {"detail": str(exc), "sync_status": router.sync_status},
                status=status.HTTP_502_BAD_GATEWAY,
            )
        router.refresh_from_db()
        return Response(
            {**result, "sync_status": router.sync_status, "last_sync_at": router.last_sync_at}
        )

    @extend_schema(
        request=RouterImportSerializer,
        responses={
            200: PolymorphicProxySerializer(
                "RouterImportAnswer",
                serializers=[ImportPreviewSerializer, ImportResultSerializer],
                resource_type_field_name=None,
            )
        },
    )
    @action(detail=True, methods=["post"], url_path="import")
    def import_clients(self, request, pk=None):
        """Import the clients this router already has into one of its zones. Without
        `"confirm": true` only the proposal (plans, clients, conflicts); nothing is written,
        to the database or to the router."""
        router = self.get_object()
        body = RouterImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        zone, paid_until = body.validated_data["zone"], body.validated_data["paid_until"]
        call = router_import_confirm if body.validated_data["confirm"] else router_import_preview
        try:
            answer = call(actor=request.user, router=router, zone=zone, paid_until=paid_until)
        except DriverError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_502_BAD_GATEWAY)
        if isinstance(answer, dict):
            return Response(answer)
        return Response(proposal_next_invoices(answer, zone=zone, paid_until=paid_until).as_dict())

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"], url_path="test-connection")
    def test_connection(self, request, pk=None):
        """Connect, log in and read the router's identity and version."""
        try:
            return Response(
                {"ok": True, **router_test_connection(self.get_object(), actor=request.user)}
            )
        except DriverError as exc:
            return Response({"ok": False, "detail": str(exc)}, status=status.HTTP_502_BAD_GATEWAY)


@extend_schema(parameters=[OpenApiParameter("router", int)])
class ZoneViewSet(EditableViewSet):
    serializer_class = ZoneSerializer

    def get_queryset(self):
        qs = Zone.objects.select_related("router").order_by("id")
        if (router := int_param(self.request, "router")) is not None:
            qs = qs.filter(router_id=router)
        return qs
