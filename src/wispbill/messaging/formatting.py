"""Money and dates as the ISP's clients read them, in the active language."""

from datetime import date
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import get_language

# Spanish reads Django's own format ("29 de octubre de 2026"); English spells the month out
# instead of Django's abbreviation.
LONG_DATE_FORMATS = {"en": "F j, Y"}


def money(value) -> str:
    """$1,234.50 (and -$51.00 for credit)."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def long_date(day: date | None) -> str:
    """29 de octubre de 2026 / October 29, 2026, in the active language."""
    if not day:
        return "—"
    return date_format(day, LONG_DATE_FORMATS.get((get_language() or "")[:2], "DATE_FORMAT"))
