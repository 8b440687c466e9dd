from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from wispbill.api.serializers.billing import (
    ChargeSerializer,
    InvoiceSerializer,
    PaymentSerializer,
    PaymentVoidSerializer,
)
from wispbill.api.views.common import ReadOnlyViewSet, choice_param, int_param
from wispbill.billing.models import (
    Charge,
    ChargeStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
)
from wispbill.billing.services.charges import charge_delete
from wispbill.billing.services.payment_keys import (
    PaymentKeyReused,
    payment_register_once,
    request_fingerprint,
)
from wispbill.billing.services.payments import payment_void
from wispbill.cfdi.selectors import with_invoice_cfdis, with_payment_cfdis
from wispbill.cfdi.services import invoice_and_cfdi_cancel


@extend_schema(
    parameters=[
        OpenApiParameter("client", int),
        OpenApiParameter("status", str),
        OpenApiParameter("zone", int),
    ]
)
class InvoiceViewSet(ReadOnlyViewSet):
    serializer_class = InvoiceSerializer

    def get_queryset(self):
        qs = with_invoice_cfdis(Invoice.objects.prefetch_related("lines")).order_by(
            "-pay_date", "-id"
        )
        if (client := int_param(self.request, "client")) is not None:
            qs = qs.filter(client_id=client)
        if (zone := int_param(self.request, "zone")) is not None:
            qs = qs.filter(client__zone_id=zone)
        if status_ := choice_param(self.request, "status", InvoiceStatus.values):
            qs = qs.filter(status=status_)
        return qs

    @extend_schema(request=None, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        reason = str(request.data.get("reason") or "") if isinstance(request.data, dict) else ""
        substitution = (
            str(request.data.get("substitution") or "") if isinstance(request.data, dict) else ""
        )
        invoice = invoice_and_cfdi_cancel(
            actor=request.user, invoice=self.get_object(), reason=reason, substitution=substitution
        )
        return Response(InvoiceSerializer(Invoice.objects.get(pk=invoice.pk)).data)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="The same key within 24 hours answers the first payment again instead of "
    "making a second; with another body it is refused (422).",
)


@extend_schema(
    parameters=[
        OpenApiParameter("client", int),
        OpenApiParameter("status", str, enum=PaymentStatus.values),
    ]
)
class PaymentViewSet(mixins.CreateModelMixin, ReadOnlyViewSet):
    serializer_class = PaymentSerializer

    def get_queryset(self):
        qs = with_payment_cfdis(Payment.objects.prefetch_related("allocations")).order_by(
            "-received_at", "-id"
        )
        if (client := int_param(self.request, "client")) is not None:
            qs = qs.filter(client_id=client)
        if status_ := choice_param(self.request, "status", PaymentStatus.values):
            qs = qs.filter(status=status_)
        return qs

    @extend_schema(parameters=[IDEMPOTENCY_KEY])
    def create(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return super().create(request, *args, **kwargs)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def respond(payment) -> tuple[int, dict]:
            return status.HTTP_201_CREATED, self.get_serializer(payment).data

        try:
            once = payment_register_once(
                actor=request.user,
                key=key,
                fingerprint=request_fingerprint(request.data),
                respond=respond,
                **serializer.validated_data,
            )
        except PaymentKeyReused as exc:
            return Response(
                {"idempotency_key": [str(exc)]}, status=status.HTTP_422_UNPROCESSABLE_ENTITY
            )
        headers = {"Idempotent-Replayed": "true"} if once.replayed else {}
        return Response(once.body, status=once.status, headers=headers)

    @extend_schema(request=PaymentVoidSerializer, responses=PaymentSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Void the payment (`reason` required): its money comes off the invoices it paid and
        off the credit it made."""
        payment = self.get_object()
        body = PaymentVoidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        payment_void(actor=request.user, payment=payment, reason=body.validated_data["reason"])
        return Response(
            PaymentSerializer(
                Payment.objects.prefetch_related("allocations").get(pk=payment.pk)
            ).data
        )


@extend_schema(parameters=[OpenApiParameter("client", int), OpenApiParameter("status", str)])
class ChargeViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, ReadOnlyViewSet):
    """One-off charges: every staff user reads them; `manage_invoices` adds them and deletes
    the pending ones."""

    serializer_class = ChargeSerializer

    def get_queryset(self):
        qs = Charge.objects.order_by("-id")
        if (client := int_param(self.request, "client")) is not None:
            qs = qs.filter(client_id=client)
        if status_ := choice_param(self.request, "status", ChargeStatus.values):
            qs = qs.filter(status=status_)
        return qs

    def perform_destroy(self, instance):
        charge_delete(actor=self.request.user, charge=instance)
