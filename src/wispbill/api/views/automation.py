from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from wispbill.api.pagination import LimitOffsetPagination
from wispbill.api.permissions import IsStaffUser, holds
from wispbill.api.serializers.automation import (
    CompanySerializer,
    MassUpdateRequestSerializer,
    MassUpdateSerializer,
    PeriodicTaskRowSerializer,
    RunRequestSerializer,
    RunSummarySerializer,
)
from wispbill.api.views.common import ReadOnlyViewSet, int_param
from wispbill.automation.models import MassUpdate
from wispbill.automation.selectors import PeriodicTaskRows
from wispbill.automation.services import mass_updates
from wispbill.automation.services.company import company_settings_update
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.core.models import CompanySettings
from wispbill.staff.permissions import RUN_PERIODIC_TASKS, TOGGLE_PERIODIC_TASKS

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

    @extend_schema(request=MassUpdateRequestSerializer, responses={200: _mass_update_result})
    def post(self, request):
        serializer = MassUpdateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kwargs = serializer.service_kwargs()
        if not serializer.validated_data["confirm"]:
            preview = mass_updates.mass_update_preview(actor=request.user, **kwargs)
            return Response(
                {
                    "confirm": [
                        _(
                            'Nothing was changed. Send "confirm": true to apply this to '
                            "%(zones)s and %(clients)s."
                        )
                        % {
                            "zones": ngettext("%(n)s zone", "%(n)s zones", preview["zones"])
                            % {"n": preview["zones"]},
                            "clients": ngettext(
                                "%(n)s own-billing client",
                                "%(n)s own-billing clients",
                                preview["clients"],
                            )
                            % {"n": preview["clients"]},
                        }
                    ],
                    "preview": preview,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        mass_update = mass_updates.mass_update_apply(actor=request.user, **kwargs)
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
    serializer_class = MassUpdateSerializer

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
                    "tasks": serializers.DictField(child=serializers.DictField()),
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
            mass_updates.mass_update_undo(actor=request.user, mass_update=self.get_object())
        )


class PeriodicTaskListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("zone", int)], responses=PeriodicTaskRowSerializer(many=True)
    )
    def get(self, request):
        rows = PeriodicTaskRows(zone_id=int_param(request, "zone"))
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(PeriodicTaskRowSerializer(page, many=True).data)


class PeriodicTaskRunView(APIView):
    """Runs synchronously and answers with the summary (its shape in docs/contract.md): one zone or
    one day of a small ISP takes seconds; the panel's "run now" is the queued one."""

    permission_classes = [IsStaffUser, holds(RUN_PERIODIC_TASKS)]

    @extend_schema(request=RunRequestSerializer, responses=RunSummarySerializer)
    def post(self, request):
        serializer = RunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        summary = periodic_tasks_run(
            actor=request.user, day=data.get("date"), zone=data.get("zone"), dry_run=data["dry_run"]
        )
        return Response(summary.as_dict())


class CompanyView(APIView):
    """The company's settings: every staff user reads them, admins change them."""

    @extend_schema(responses=CompanySerializer)
    def get(self, request):
        return Response(CompanySerializer(CompanySettings.load()).data)

    @extend_schema(request=CompanySerializer, responses=CompanySerializer)
    def patch(self, request):
        serializer = CompanySerializer(CompanySettings.load(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        company = company_settings_update(actor=request.user, data=serializer.validated_data)
        return Response(CompanySerializer(company).data)
