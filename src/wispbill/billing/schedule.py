"""The billing schedule as plain values: its fields, their ranges and the rules that tie them."""

from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

PREPAID = "prepaid"
POSTPAID = "postpaid"
MODES = (PREPAID, POSTPAID)
FIELDS = ("mode", "pay_day", "invoice_lead_days", "notice_offset_days", "grace_days")
RANGES = {
    "pay_day": (1, 31),
    "invoice_lead_days": (1, 28),
    "notice_offset_days": (-28, 28),
    "grace_days": (0, 28),
}
DEFAULT = {
    "mode": PREPAID,
    "pay_day": 1,
    "invoice_lead_days": 5,
    "notice_offset_days": 0,
    "grace_days": 5,
}


@dataclass(frozen=True)
class BillingSchedule:
    mode: str
    pay_day: int
    invoice_lead_days: int
    notice_offset_days: int
    grace_days: int

    def as_dict(self) -> dict:
        return asdict(self)


def schedule_errors(values: dict) -> dict[str, list[str]]:
    """Every problem of a schedule, by field; empty when it is valid."""
    errors: dict[str, list[str]] = {}
    for name in FIELDS:
        if values.get(name) is None:
            errors.setdefault(name, []).append(_("This field is required."))
    if values.get("mode") is not None and values["mode"] not in MODES:
        errors.setdefault("mode", []).append(_('Must be "prepaid" or "postpaid".'))
    for name, (low, high) in RANGES.items():
        value = values.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            errors.setdefault(name, []).append(_("Must be a whole number."))
        elif not low <= value <= high:
            errors.setdefault(name, []).append(
                _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}
            )
    if errors:
        return errors
    if values["notice_offset_days"] > values["grace_days"]:
        errors["notice_offset_days"] = [
            _(
                "The notice cannot start after the cut date (notice days must not exceed grace "
                "days)."
            )
        ]
    elif values["notice_offset_days"] < -values["invoice_lead_days"]:
        errors["notice_offset_days"] = [
            _(
                "The notice cannot start before the invoice is issued (it may start at most "
                "%(lead)s days before the pay date)."
            )
            % {"lead": values["invoice_lead_days"]}
        ]
    return errors


def schedule_from(values: dict, field: str = "billing") -> BillingSchedule:
    """A valid schedule from a dict of its fields, or a ValidationError under `field`."""
    from django.core.exceptions import ValidationError

    errors = schedule_errors(values)
    if errors:
        raise ValidationError(
            {
                field: [
                    f"{name}: {message}"
                    for name, messages in errors.items()
                    for message in messages
                ]
            }
        )
    return BillingSchedule(**{name: values[name] for name in FIELDS})


def schedule_changes(before: BillingSchedule | None, after: BillingSchedule | None) -> dict:
    """The audit diff between two schedules: {"billing.<field>": [old, new]}."""
    if before == after:
        return {}
    if before is None or after is None:
        return {
            "billing": [before.as_dict() if before else None, after.as_dict() if after else None]
        }
    return {
        f"billing.{field}": [old, getattr(after, field)]
        for field, old in before.as_dict().items()
        if old != getattr(after, field)
    }
