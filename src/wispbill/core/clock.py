"""The business clock: the two notions of "today" the product has, named once.

- `today()`: the calendar day now in the ISP's time zone (`WISPBILL_TIME_ZONE`).
- `business_day()`: the day the billing rules apply as of — the latest day the periodic tasks
  ran as of (it never moves back), else today. Payments, promises and manual actions judge
  "overdue" as of this day, so they agree with the engine, also when an operator replays or
  simulates days with `run-periodic-tasks --date`.
"""

from datetime import date

from django.db.models import Q
from django.utils import timezone

from wispbill.core.models import CompanySettings


def today() -> date:
    """The calendar day now, in the ISP's time zone."""
    return timezone.localdate()


def business_day() -> date:
    """The day the billing rules apply as of: the engine's latest day, else today."""
    day = CompanySettings.objects.filter(pk=1).values_list("business_day", flat=True).first()
    return day or today()


def advance_business_day(day: date) -> None:
    """Move the business day forward to `day` (never back)."""
    CompanySettings.load()
    CompanySettings.objects.filter(pk=1).filter(
        Q(business_day__isnull=True) | Q(business_day__lt=day)
    ).update(business_day=day)
