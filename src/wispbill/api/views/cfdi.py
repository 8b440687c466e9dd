from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from wispbill.api.parsers import JSONParser
from wispbill.api.serializers.cfdi import CfdiSerializer
from wispbill.api.views.common import FileView, ReadOnlyViewSet, choice_param
from wispbill.billing.models import Invoice, Payment
from wispbill.cfdi.csd import MAX_BYTES, csd_install
from wispbill.cfdi.models import CfdiDocument, CfdiKind, CfdiStatus
from wispbill.cfdi.selectors import (
    cfdi_list,
    invoice_cfdi,
    payment_cfdi,
    stamped_xml,
    with_invoice_cfdis,
    with_payment_cfdis,
)
from wispbill.cfdi.services import cfdi_replace, document_retry
from wispbill.messaging.documents import cfdi_name, cfdi_pdf, pdf_response
from wispbill.staff.permissions import require_admin


class CsdSerializer(serializers.Serializer):
    certificate = serializers.FileField()
    private_key = serializers.FileField()
    password = serializers.CharField(max_length=200, trim_whitespace=False)


class CsdView(APIView):
    """The company's CSD: checked, then kept with its key and password encrypted."""

    parser_classes = [parsers.MultiPartParser, JSONParser]

    @extend_schema(request={"multipart/form-data": CsdSerializer}, responses={200: dict})
    def post(self, request):
        require_admin(request.user)
        body = CsdSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        files = {
            name: body.validated_data[name].read(MAX_BYTES + 1)
            for name in ("certificate", "private_key")
        }
        info = csd_install(
            actor=request.user,
            certificate=files["certificate"],
            private_key=files["private_key"],
            password=body.validated_data["password"],
        )
        return Response(info.as_dict())


@extend_schema(
    parameters=[
        OpenApiParameter("status", str, enum=CfdiStatus.values),
        OpenApiParameter("kind", str, enum=CfdiKind.values),
    ]
)
class CfdiViewSet(ReadOnlyViewSet):
    """The CFDI documents: invoices' own, global ones and payment complements."""

    serializer_class = CfdiSerializer

    def get_queryset(self):
        return cfdi_list(
            status=choice_param(self.request, "status", CfdiStatus.values),
            kind=choice_param(self.request, "kind", CfdiKind.values),
        )

    @extend_schema(request=None, responses=CfdiSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Send a document in `error` again, built from the data as it is now."""
        document = document_retry(actor=request.user, document=self.get_object())
        return Response(CfdiSerializer(cfdi_list().get(pk=document.pk)).data)

    @extend_schema(request=None, responses={201: CfdiSerializer})
    @action(detail=True, methods=["post"])
    def replace(self, request, pk=None):
        """Re-issue a stamped invoice CFDI with the client's fiscal data as it is now: the new
        document (related to this one as its substitute) is answered; once it is stamped,
        this one is cancelled with SAT's reason 01 and the new UUID."""
        document = cfdi_replace(actor=request.user, document=self.get_object())
        return Response(CfdiSerializer(cfdi_list().get(pk=document.pk)).data, status=201)


def xml_response(document: CfdiDocument | None, name: str) -> HttpResponse:
    xml = stamped_xml(document)
    if document is None or xml is None:
        raise Http404
    response = HttpResponse(xml.encode(), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{name}-{document.uuid}.xml"'
    return response


def pdf_of(document: CfdiDocument | None) -> HttpResponse:
    """The printed representation of a stamped CFDI; 404 until it has its stamp."""
    if document is None or stamped_xml(document) is None:
        raise Http404
    return pdf_response(cfdi_pdf(document), f"{cfdi_name(document)}.pdf")


class CfdiXmlView(FileView):
    @extend_schema(responses={(200, "application/xml"): OpenApiTypes.STR})
    def get(self, request, pk):
        """A document's stamped XML; 404 until it is stamped."""
        return xml_response(get_object_or_404(CfdiDocument, pk=pk), "cfdi")


class CfdiPdfView(FileView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        """A document's printed representation (UUID, seals, SAT's QR); 404 until stamped."""
        return pdf_of(get_object_or_404(CfdiDocument, pk=pk))


class InvoiceCfdiPdfView(FileView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        """The printed representation of the invoice's stamped CFDI; 404 until there is one."""
        invoice = get_object_or_404(with_invoice_cfdis(Invoice.objects.all()), pk=pk)
        return pdf_of(invoice_cfdi(invoice))


class PaymentCfdiPdfView(FileView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        """The printed representation of the payment's complement; 404 until there is one."""
        payment = get_object_or_404(with_payment_cfdis(Payment.objects.all()), pk=pk)
        return pdf_of(payment_cfdi(payment))


class InvoiceCfdiView(FileView):
    @extend_schema(responses={(200, "application/xml"): OpenApiTypes.STR})
    def get(self, request, pk):
        """The invoice's stamped CFDI; 404 until there is one."""
        invoice = get_object_or_404(with_invoice_cfdis(Invoice.objects.all()), pk=pk)
        return xml_response(invoice_cfdi(invoice), "factura")


class PaymentCfdiView(FileView):
    @extend_schema(responses={(200, "application/xml"): OpenApiTypes.STR})
    def get(self, request, pk):
        """The payment's stamped complement; 404 until there is one."""
        payment = get_object_or_404(with_payment_cfdis(Payment.objects.all()), pk=pk)
        return xml_response(payment_cfdi(payment), "pago")
