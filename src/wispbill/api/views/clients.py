from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from wispbill.api.serializers.billing import CreateInvoiceSerializer, InvoiceSerializer
from wispbill.api.serializers.clients import ClientSerializer, PlanSerializer, PromiseSerializer
from wispbill.api.views.common import EditableViewSet, choice_param, int_param
from wispbill.billing import debt
from wispbill.billing.models import Invoice
from wispbill.billing.selectors import client_rows
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.clients.models import BillingType, ClientState, Plan
from wispbill.core.switches import TASKS
from wispbill.radius.selectors import client_radius_status


class PlanViewSet(EditableViewSet):
    queryset = Plan.objects.all()
    serializer_class = PlanSerializer


def _flag(request, name: str) -> bool:
    return choice_param(request, name, ["0", "1", "true", "false"]) in ("1", "true")


@extend_schema(
    parameters=[
        OpenApiParameter("q", str),
        OpenApiParameter("search", str),
        OpenApiParameter("zone", int),
        OpenApiParameter("router", int),
        OpenApiParameter("state", str),
        OpenApiParameter("billing_type", str),
        OpenApiParameter("task_off", str, enum=list(TASKS)),
        OpenApiParameter("notice", bool),
        OpenApiParameter("overdue", bool),
        OpenApiParameter("owing", bool),
    ]
)
class ClientViewSet(EditableViewSet):
    serializer_class = ClientSerializer

    def retrieve(self, request, *args, **kwargs):
        """One client, with its RADIUS session: online or not, and the last CoA sent to it."""
        response = super().retrieve(request, *args, **kwargs)
        response.data["radius"] = client_radius_status(int(response.data["id"]))
        return response

    def get_queryset(self):
        params, request = self.request.query_params, self.request
        return client_rows(
            search=params.get("q") or params.get("search", ""),
            zone=int_param(request, "zone"),
            router=int_param(request, "router"),
            state=choice_param(request, "state", ClientState.values),
            billing_type=choice_param(request, "billing_type", BillingType.values),
            task_off=choice_param(request, "task_off", list(TASKS)),
            notice=_flag(request, "notice"),
            overdue=_flag(request, "overdue"),
            owing=_flag(request, "owing"),
        ).order_by("id")

    def _answer(self, client):
        fresh = client_rows().get(pk=client.pk)
        return Response(ClientSerializer(fresh, context=self.get_serializer_context()).data)

    def _act(self, call):
        return self._answer(call(actor=self.request.user, client=self.get_object()))

    @extend_schema(request=None, responses=ClientSerializer)
    @action(detail=True, methods=["post"])
    def cut(self, request, pk=None):
        return self._act(debt.client_cut)

    @extend_schema(request=None, responses=ClientSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return self._act(debt.client_reactivate)

    @extend_schema(request=None, responses=ClientSerializer)
    @action(detail=True, methods=["post"], url_path="show-notice")
    def show_notice(self, request, pk=None):
        return self._act(debt.client_show_notice)

    @extend_schema(request=None, responses=ClientSerializer)
    @action(detail=True, methods=["post"], url_path="clear-notice")
    def clear_notice(self, request, pk=None):
        return self._act(debt.client_clear_notice)

    @extend_schema(request=PromiseSerializer, responses=ClientSerializer)
    @action(detail=True, methods=["post"])
    def promise(self, request, pk=None):
        body = PromiseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(
            debt.client_promise(
                actor=request.user, client=self.get_object(), until=body.validated_data["until"]
            )
        )

    @extend_schema(request=CreateInvoiceSerializer, responses={201: InvoiceSerializer})
    @action(detail=True, methods=["post"], url_path="create-invoice")
    def create_invoice(self, request, pk=None):
        body = CreateInvoiceSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        invoice = invoice_create_for_cycle(
            actor=request.user,
            client=self.get_object(),
            day=body.validated_data.get("date"),
            charges=body.validated_data["charges"],
        )
        return Response(
            InvoiceSerializer(Invoice.objects.get(pk=invoice.pk)).data,
            status=status.HTTP_201_CREATED,
        )
