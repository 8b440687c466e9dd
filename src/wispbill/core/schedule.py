"""The billing schedule as plain values: its fields, their ranges and the rules that tie them."""

import calendar
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PREPAID = "prepaid"
POSTPAID = "postpaid"
MODES = (PREPAID, POSTPAID)
# What the cut task does to a late client: suspend the service, or reduce its speed.
SUSPEND = "suspend"
THROTTLE = "throttle"
CUT_ACTIONS = (SUSPEND, THROTTLE)
FIELDS = (
    "mode",
    "pay_day",
    "invoice_lead_days",
    "notice_offset_days",
    "grace_days",
    "cut_action",
    "throttle_kbps",
)
# The dates must always be given; what the cut does has a default, and a schedule written
# without it (by a script older than the throttle) keeps the one it had.
REQUIRED = FIELDS[:5]
RANGES = {
    "pay_day": (1, 31),
    "invoice_lead_days": (1, 28),
    "notice_offset_days": (-28, 28),
    "grace_days": (0, 28),
    # A reduced speed still has to load the notice and client pages.
    "throttle_kbps": (64, 100_000),
}
DEFAULT_THROTTLE_KBPS = 512
OPTIONAL: dict[str, Any] = {"cut_action": SUSPEND, "throttle_kbps": DEFAULT_THROTTLE_KBPS}
DEFAULT = {
    "mode": PREPAID,
    "pay_day": 1,
    "invoice_lead_days": 5,
    "notice_offset_days": 0,
    "grace_days": 5,
    **OPTIONAL,
}


@dataclass(frozen=True)
class BillingSchedule:
    mode: str
    pay_day: int
    invoice_lead_days: int
    notice_offset_days: int
    grace_days: int
    cut_action: str = SUSPEND
    throttle_kbps: int = DEFAULT_THROTTLE_KBPS

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def throttles(self) -> bool:
        return self.cut_action == THROTTLE


def schedule_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    """Every problem of a schedule, by field; empty when it is valid."""
    errors: dict[str, list[str]] = {}
    for name in REQUIRED:
        if values.get(name) is None:
            errors.setdefault(name, []).append(_("This field is required."))
    if values.get("mode") is not None and values["mode"] not in MODES:
        errors.setdefault("mode", []).append(_('Must be "prepaid" or "postpaid".'))
    if values.get("cut_action") is not None and values["cut_action"] not in CUT_ACTIONS:
        errors.setdefault("cut_action", []).append(_('Must be "suspend" or "throttle".'))
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


def schedule_from(
    values: dict[str, Any], field: str = "billing", base: BillingSchedule | None = None
) -> BillingSchedule:
    """A valid schedule from a dict of its fields, or a ValidationError under `field`. What
    the cut does, when left out, comes from `base` (the schedule being replaced), else from
    the defaults."""
    kept = base.as_dict() if base else OPTIONAL
    values = {
        **{name: kept[name] for name in OPTIONAL},
        **{k: v for k, v in values.items() if v is not None},
    }
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


def schedule_changes(
    before: BillingSchedule | None, after: BillingSchedule | None
) -> dict[str, list[Any]]:
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


@dataclass(frozen=True)
class Cycle:
    """One billing cycle of a schedule: the dates the periodic tasks act on."""

    pay_date: date
    invoice_date: date
    notice_date: date
    due_date: date
    period_start: date
    period_end: date


def pay_date_in(year: int, month: int, pay_day: int) -> date:
    """The pay date of a month: its pay day, or its last day when the month is shorter."""
    return date(year, month, min(pay_day, calendar.monthrange(year, month)[1]))


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def cycle_of(schedule: BillingSchedule, year: int, month: int) -> Cycle:
    """The cycle whose pay date falls in that month."""
    pay = pay_date_in(year, month, schedule.pay_day)
    if schedule.mode == PREPAID:
        start = pay
        end = pay_date_in(*_shift_month(year, month, 1), schedule.pay_day) - timedelta(days=1)
    else:
        start = pay_date_in(*_shift_month(year, month, -1), schedule.pay_day)
        end = pay - timedelta(days=1)
    return Cycle(
        pay_date=pay,
        invoice_date=pay - timedelta(days=schedule.invoice_lead_days),
        notice_date=pay + timedelta(days=schedule.notice_offset_days),
        due_date=pay + timedelta(days=schedule.grace_days),
        period_start=start,
        period_end=end,
    )


def current_cycle(schedule: BillingSchedule, day: date) -> Cycle:
    """The cycle whose invoice date is the latest that has come by `day`."""
    # The invoice date is at most 28 days before the pay date, so the answer's pay date lies
    # in this month, the next one or the one before.
    for delta in (1, 0, -1):
        cycle = cycle_of(schedule, *_shift_month(day.year, day.month, delta))
        if cycle.invoice_date <= day:
            return cycle
    raise AssertionError("unreachable: a month always has an invoice date")


def next_cycle(schedule: BillingSchedule, cycle: Cycle) -> Cycle:
    return cycle_of(schedule, *_shift_month(cycle.pay_date.year, cycle.pay_date.month, 1))


def late_dates(schedule: BillingSchedule, cycle: Cycle, issued_on: date) -> tuple[date, date]:
    """(notice date, due date) of an invoice issued on `issued_on` for `cycle`.

    A late invoice still leaves the client the usual time to pay (lead + grace days), and its
    notice keeps the schedule's distance before the due date.
    """
    due = max(
        cycle.due_date,
        issued_on + timedelta(days=schedule.invoice_lead_days + schedule.grace_days),
    )
    notice = due - timedelta(days=schedule.grace_days - schedule.notice_offset_days)
    return notice, due
