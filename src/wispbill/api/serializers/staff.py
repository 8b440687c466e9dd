from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from wispbill.api.serializers.common import ModelSerializer, StrictMixin
from wispbill.staff import services
from wispbill.staff.permissions import CODENAMES


class StaffSerializer(StrictMixin, ModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, max_length=128, style={"input_type": "password"}
    )
    is_admin = serializers.BooleanField(source="is_superuser", required=False, default=False)
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(CODENAMES)), required=False
    )
    full_name = serializers.CharField(
        source="first_name", required=False, allow_blank=True, max_length=150
    )

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "password", "full_name", "is_admin", "is_active", "permissions"]
        extra_kwargs = {"is_active": {"required": False, "default": True}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["permissions"] = services.staff_permissions(instance)
        return data

    def validate(self, attrs):
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": [_("This field is required.")]})
        if (
            self.instance is not None
            and "username" in attrs
            and (attrs["username"] != self.instance.username)
        ):
            raise serializers.ValidationError({"username": [_("A username cannot change.")]})
        return attrs

    def create(self, validated_data):
        return services.staff_create(
            actor=self.context["request"].user,
            username=validated_data["username"],
            password=validated_data["password"],
            is_admin=validated_data["is_superuser"],
            # Left out: a new staff member's defaults (clients and payments).
            permissions=validated_data.get("permissions"),
            full_name=validated_data.get("first_name", ""),
            is_active=validated_data.get("is_active", True),
        )

    def _given(self, key: str, value):
        """A PATCH leaves out what it does not send."""
        return value if not self.partial or key in self.initial_data else None

    def update(self, instance, validated_data):
        return services.staff_update(
            actor=self.context["request"].user,
            user=instance,
            password=validated_data.get("password"),
            is_admin=self._given("is_admin", validated_data.get("is_superuser")),
            permissions=self._given("permissions", validated_data.get("permissions")),
            full_name=validated_data.get("first_name"),
            is_active=self._given("is_active", validated_data.get("is_active")),
        )
