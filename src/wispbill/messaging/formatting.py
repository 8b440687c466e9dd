"""Money and dates as the ISP's clients read them, in the active language."""

from datetime import date
from decimal import Decimal

from django.utils.formats import date_format


def money(value) -> str:
    """$1,234.50 (and -$51.00 for credit)."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def long_date(day: date | None) -> str:
    """29 de octubre de 2026 / Oct. 29, 2026."""
    return date_format(day, "DATE_FORMAT") if day else "—"
