"""Pieces every serializer shares: plain-id foreign keys, refusing unknown keys, the schedule
and the switches."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from wispbill.core.db import to_id
from wispbill.core.schedule import (
    CUT_ACTIONS,
    FIELDS,
    MODES,
    OPTIONAL,
    RANGES,
    BillingSchedule,
    schedule_errors,
)
from wispbill.core.switches import TASKS, Switches


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key as a plain id; an id too large for the database is "does not exist",
    not a crash."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type="bool")
        if isinstance(data, int | str) and str(data).lstrip("-").isdigit() and to_id(data) is None:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer):
    serializer_related_field = IdRelatedField


class StrictMixin:
    """Refuses keys the resource does not have, so a typo never passes as a no-op."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


def _schedule_fields() -> dict:
    """The schedule's fields with the ranges of core.schedule, the one place they live. What
    the cut does may be left out: it stays as it was (or takes its default)."""
    fields = {}
    for name in FIELDS:
        required = name not in OPTIONAL
        if name == "mode":
            fields[name] = serializers.ChoiceField(choices=MODES)
        elif name == "cut_action":
            fields[name] = serializers.ChoiceField(choices=CUT_ACTIONS, required=required)
        else:
            low, high = RANGES[name]
            fields[name] = serializers.IntegerField(
                min_value=low, max_value=high, required=required
            )
    return fields


class ScheduleSerializer(StrictMixin, serializers.Serializer):
    def get_fields(self):
        return _schedule_fields()

    def validate(self, attrs):
        errors = schedule_errors(attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_representation(self, instance):
        schedule = instance if isinstance(instance, BillingSchedule) else instance.schedule
        return schedule.as_dict() if schedule else None


class SwitchesSerializer(StrictMixin, serializers.Serializer):
    def get_fields(self):
        return {task: serializers.BooleanField(required=False) for task in TASKS}

    def to_representation(self, instance):
        switches = instance if isinstance(instance, Switches) else instance.switches
        return switches.as_dict()
