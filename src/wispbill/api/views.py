"""HTTP adapters over the services and selectors."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from wispbill.api import serializers as s
from wispbill.api.permissions import IsAdmin, IsStaffUser, holds
from wispbill.audit.selectors import audit_event_list
from wispbill.automation import services as automation
from wispbill.automation.models import MassUpdate
from wispbill.automation.selectors import PeriodicTaskRows
from wispbill.billing import services as billing_services
from wispbill.billing.models import Invoice, InvoiceStatus, Payment
from wispbill.clients import services as client_services
from wispbill.clients.models import Plan
from wispbill.clients.selectors import client_list
from wispbill.core.db import to_id
from wispbill.network.drivers import DriverError
from wispbill.network.models import Router, Zone
from wispbill.network.sync import router_reconcile, router_test_connection
from wispbill.staff.permissions import RUN_PERIODIC_TASKS, TOGGLE_PERIODIC_TASKS

# Ids are database integers: anything else is an unknown object (404), never a crash.
ID_REGEX = r"[0-9]{1,18}"


class ReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_REGEX


class EditableViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Create, read and edit; deleting billing data is not offered over the API."""

    lookup_value_regex = ID_REGEX


def _int_param(request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    number = to_id(value)
    if number is None:
        raise serializers.ValidationError({name: [_("Must be a whole number.")]})
    return number


class PlanViewSet(EditableViewSet):
    queryset = Plan.objects.all()
    serializer_class = s.PlanSerializer


class RouterViewSet(EditableViewSet):
    queryset = Router.objects.all()
    serializer_class = s.RouterSerializer

    @extend_schema(request=None, responses={200: s.ReconcileResultSerializer})
    @action(detail=True, methods=["post"])
    def reconcile(self, request, pk=None):
        """Push the desired cut and notice lists to this router now."""
        router = self.get_object()
        try:
            result = router_reconcile(router)
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

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"], url_path="test-connection")
    def test_connection(self, request, pk=None):
        """Connect, log in and read the router's identity and version."""
        try:
            return Response({"ok": True, **router_test_connection(self.get_object())})
        except DriverError as exc:
            return Response({"ok": False, "detail": str(exc)}, status=status.HTTP_502_BAD_GATEWAY)


@extend_schema(parameters=[OpenApiParameter("router", int)])
class ZoneViewSet(EditableViewSet):
    serializer_class = s.ZoneSerializer

    def get_queryset(self):
        qs = Zone.objects.select_related("router").order_by("id")
        if (router := _int_param(self.request, "router")) is not None:
            qs = qs.filter(router_id=router)
        return qs


@extend_schema(
    parameters=[
        OpenApiParameter("search", str),
        OpenApiParameter("zone", int),
        OpenApiParameter("router", int),
        OpenApiParameter("state", str),
        OpenApiParameter("billing_type", str),
    ]
)
class ClientViewSet(EditableViewSet):
    serializer_class = s.ClientSerializer

    def _answer(self, client):
        fresh = client_list().get(pk=client.pk)
        return Response(s.ClientSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=s.ClientSerializer)
    @action(detail=True, methods=["post"])
    def cut(self, request, pk=None):
        return self._answer(
            client_services.client_cut(actor=request.user, client=self.get_object())
        )

    @extend_schema(request=None, responses=s.ClientSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return self._answer(
            client_services.client_reactivate(actor=request.user, client=self.get_object())
        )

    @extend_schema(request=None, responses=s.ClientSerializer)
    @action(detail=True, methods=["post"], url_path="show-notice")
    def show_notice(self, request, pk=None):
        return self._answer(
            client_services.client_show_notice(actor=request.user, client=self.get_object())
        )

    @extend_schema(request=None, responses=s.ClientSerializer)
    @action(detail=True, methods=["post"], url_path="clear-notice")
    def clear_notice(self, request, pk=None):
        return self._answer(
            client_services.client_clear_notice(actor=request.user, client=self.get_object())
        )

    @extend_schema(request=s.PromiseSerializer, responses=s.ClientSerializer)
    @action(detail=True, methods=["post"])
    def promise(self, request, pk=None):
        body = s.PromiseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(
            client_services.client_promise(
                actor=request.user, client=self.get_object(), until=body.validated_data["until"]
            )
        )

    @extend_schema(request=s.CreateInvoiceSerializer, responses={201: s.InvoiceSerializer})
    @action(detail=True, methods=["post"], url_path="create-invoice")
    def create_invoice(self, request, pk=None):
        body = s.CreateInvoiceSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        invoice = billing_services.invoice_create_for_cycle(
            actor=request.user, client=self.get_object(), day=body.validated_data.get("date")
        )
        return Response(
            s.InvoiceSerializer(Invoice.objects.get(pk=invoice.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def get_queryset(self):
        params = self.request.query_params
        return client_list(
            search=params.get("search", ""),
            zone=_int_param(self.request, "zone"),
            router=_int_param(self.request, "router"),
            state=params.get("state", ""),
            billing_type=params.get("billing_type", ""),
        ).order_by("id")


_mass_update_result = inline_serializer(
    "MassUpdateResult",
    {
        "id": serializers.IntegerField(),
        "zones_changed": serializers.IntegerField(),
        "clients_changed": serializers.IntegerField(),
        "zone_billed_clients": serializers.IntegerField(),
    },
)


class MassUpdateView(APIView):
    permission_classes = [IsStaffUser, holds(TOGGLE_PERIODIC_TASKS)]

    @extend_schema(request=s.MassUpdateRequestSerializer, responses={200: _mass_update_result})
    def post(self, request):
        serializer = s.MassUpdateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        confirm = data.pop("confirm")
        if not confirm:
            preview = automation.mass_update_preview(actor=request.user, **data)
            return Response(
                {
                    "confirm": [
                        _(
                            'Nothing was changed. Send "confirm": true to apply this to '
                            "%(zones)s zones and %(clients)s own-billing clients."
                        )
                        % preview
                    ],
                    "preview": preview,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        mass_update = automation.mass_update_apply(actor=request.user, **data)
        return Response(
            {
                "id": mass_update.pk,
                "zones_changed": mass_update.zones_changed,
                "clients_changed": mass_update.clients_changed,
                "zone_billed_clients": mass_update.zone_billed_clients,
            }
        )


class MassUpdateViewSet(ReadOnlyViewSet):
    queryset = MassUpdate.objects.all()
    serializer_class = s.MassUpdateSerializer

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "MassUpdateUndoResult",
                {
                    "id": serializers.IntegerField(),
                    "zones_restored": serializers.IntegerField(),
                    "clients_restored": serializers.IntegerField(),
                    "zones_skipped": serializers.IntegerField(),
                    "clients_skipped": serializers.IntegerField(),
                    "skipped": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[IsStaffUser, holds(TOGGLE_PERIODIC_TASKS)],
    )
    def undo(self, request, pk=None):
        return Response(
            automation.mass_update_undo(actor=request.user, mass_update=self.get_object())
        )


class StaffViewSet(EditableViewSet):
    queryset = get_user_model().objects.filter(is_staff=True).order_by("id")
    serializer_class = s.StaffSerializer
    permission_classes = [IsAdmin]


@extend_schema(
    parameters=[
        OpenApiParameter("object_type", str),
        OpenApiParameter("object_id", int),
        OpenApiParameter("action", str),
        OpenApiParameter("actor", str),
    ]
)
class AuditEventViewSet(ReadOnlyViewSet):
    serializer_class = s.AuditEventSerializer

    def get_queryset(self):
        params = self.request.query_params
        return audit_event_list(
            object_type=params.get("object_type"),
            object_id=_int_param(self.request, "object_id"),
            action=params.get("action"),
            actor=params.get("actor"),
        )


@extend_schema(
    parameters=[
        OpenApiParameter("client", int),
        OpenApiParameter("status", str),
        OpenApiParameter("zone", int),
    ]
)
class InvoiceViewSet(ReadOnlyViewSet):
    serializer_class = s.InvoiceSerializer

    def get_queryset(self):
        qs = Invoice.objects.prefetch_related("lines").order_by("-pay_date", "-id")
        if (client := _int_param(self.request, "client")) is not None:
            qs = qs.filter(client_id=client)
        if (zone := _int_param(self.request, "zone")) is not None:
            qs = qs.filter(client__zone_id=zone)
        if status_ := self.request.query_params.get("status"):
            if status_ not in InvoiceStatus.values:
                raise serializers.ValidationError(
                    {
                        "status": [
                            _("Must be one of: %(values)s.")
                            % {"values": ", ".join(InvoiceStatus.values)}
                        ]
                    }
                )
            qs = qs.filter(status=status_)
        return qs

    @extend_schema(request=None, responses=s.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        invoice = billing_services.invoice_cancel(actor=request.user, invoice=self.get_object())
        return Response(s.InvoiceSerializer(Invoice.objects.get(pk=invoice.pk)).data)


@extend_schema(parameters=[OpenApiParameter("client", int)])
class PaymentViewSet(mixins.CreateModelMixin, ReadOnlyViewSet):
    serializer_class = s.PaymentSerializer

    def get_queryset(self):
        qs = Payment.objects.prefetch_related("allocations").order_by("-received_at", "-id")
        if (client := _int_param(self.request, "client")) is not None:
            qs = qs.filter(client_id=client)
        return qs


class PeriodicTaskListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("zone", int)], responses=s.PeriodicTaskRowSerializer(many=True)
    )
    def get(self, request):
        rows = PeriodicTaskRows(zone_id=_int_param(request, "zone"))
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(s.PeriodicTaskRowSerializer(page, many=True).data)


class PeriodicTaskRunView(APIView):
    permission_classes = [IsStaffUser, holds(RUN_PERIODIC_TASKS)]

    @extend_schema(request=s.RunRequestSerializer, responses=s.RunSummarySerializer)
    def post(self, request):
        serializer = s.RunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        summary = automation.periodic_run_now(
            actor=request.user, day=data.get("date"), zone=data.get("zone"), dry_run=data["dry_run"]
        )
        return Response(summary.as_dict())
