"""Pieces every serializer shares: plain-id foreign keys, refusing unknown keys, the schedule
and the switches."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from wispbill.core.db import to_id
from wispbill.core.models import RfcField
from wispbill.core.money import company_notation_country, parse_money
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


class MoneyField(serializers.DecimalField):
    """Money as a number or as the ISP's operators write it (`core.money`: "1,234.50" in
    Mexico); a text that could be read two ways ("199,50") is refused with how to write it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip():
            try:
                data = parse_money(data, company_notation_country())
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from exc
        return super().to_internal_value(data)


class RfcSerializerField(serializers.CharField):
    """An RFC in capitals before SAT's checks run, as the panel and the import read it."""

    def to_internal_value(self, data):
        return super().to_internal_value(data).upper()


class ModelSerializer(serializers.ModelSerializer):
    serializer_related_field = IdRelatedField
    # Every decimal column of the product is money.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: MoneyField,
        RfcField: RfcSerializerField,
    }


class StrictMixin:
    """Refuses keys the resource does not have, so a typo never passes as a no-op."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


def char_max_length(model: type[models.Model], name: str) -> int:
    """The length a model's text field holds, for a serializer field that takes the same text."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.CharField) or field.max_length is None:
        raise TypeError(f"{model.__name__}.{name} is not a CharField with a max_length")
    return field.max_length


def _schedule_fields() -> dict[str, serializers.Field]:
    """The schedule's fields with the ranges of core.schedule, the one place they live. What
    the cut does may be left out: it stays as it was (or takes its default)."""
    fields: dict[str, serializers.Field] = {}
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
