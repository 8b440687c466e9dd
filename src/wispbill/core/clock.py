"""The business clock: the two notions of "today" the product has, named once.

- `today()`: the calendar day now in the ISP's time zone (`WISPBILL_TIME_ZONE`); `day_of(t)`
  the ISP's calendar day at an instant (a payment's time, a gateway's timestamp, a tick).
- `business_day()`: the day the billing rules apply as of — the later of today and the latest
  day the periodic tasks ran as of (which never moves back). Payments, promises and manual
  actions judge "overdue" as of this day, so they agree with the engine also when an operator
  simulates days ahead with `run-periodic-tasks --date`; and it never lags behind the calendar:
  a scheduler stopped last week does not make a cut today record last week as its day.
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from wispbill.core.models import CompanySettings

# No billing day comes before this one: a day like 0001-01-01 is a typo, and the day before
# it or its cycle's dates do not exist.
FIRST_DAY = date(2000, 1, 1)


def validate_first_day(day: date) -> None:
    """A model field's validator: no day before FIRST_DAY."""
    if day < FIRST_DAY:
        raise ValidationError(
            _("The day cannot be before %(first)s.") % {"first": date_format(FIRST_DAY)},
            code="too_early",
        )


def first_day_check(day: date, field: str) -> None:
    """Refuse (a ValidationError on `field`) a day before FIRST_DAY."""
    try:
        validate_first_day(day)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def today() -> date:
    """The calendar day now, in the ISP's time zone."""
    return timezone.localdate()


def day_of(moment: datetime | None) -> date:
    """The calendar day, in the ISP's time zone, at an aware instant (None: now)."""
    return timezone.localdate(moment)


def business_day() -> date:
    """The day the billing rules apply as of: the later of today and the engine's latest day."""
    day = CompanySettings.objects.filter(pk=1).values_list("business_day", flat=True).first()
    now = today()
    return max(day, now) if day else now


def advance_business_day(day: date) -> None:
    """Move the business day forward to `day` (never back)."""
    CompanySettings.load()
    CompanySettings.objects.filter(pk=1).filter(
        Q(business_day__isnull=True) | Q(business_day__lt=day)
    ).update(business_day=day)


def date_option(value: str | None) -> date | None:
    """A command's `--date YYYY-MM-DD` (None when not given); a CommandError saying how to
    write it otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("--date must be a day written YYYY-MM-DD, not «%(value)s».") % {"value": value}
        ) from None
