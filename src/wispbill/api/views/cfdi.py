from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from wispbill.api.parsers import JSONParser
from wispbill.cfdi.csd import MAX_BYTES, csd_install
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
