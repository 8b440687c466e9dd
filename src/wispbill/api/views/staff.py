from django.contrib.auth import get_user_model

from wispbill.api.permissions import IsAdmin
from wispbill.api.serializers.staff import StaffSerializer
from wispbill.api.views.common import EditableViewSet


class StaffViewSet(EditableViewSet):
    queryset = get_user_model().objects.filter(is_staff=True).order_by("id")
    serializer_class = StaffSerializer
    permission_classes = [IsAdmin]
