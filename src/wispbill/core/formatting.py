"""Money and dates as the ISP's staff and clients read them: one place for the panel, the
messages, the PDF documents and the client page."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format

EMPTY = "—"
# Spanish reads Django's own format ("29 de octubre de 2026"); English spells the month out
# instead of Django's abbreviation.
LONG_DATE_FORMATS = {"en": "F j, Y"}


def money(value: Decimal | int | str | None) -> str:
    """$1,234.50 (and -$51.00 for credit); a dash for nothing."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = Decimal(value).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def speed(kbps: int | str | None) -> str:
    """A speed as routers and plans say it: 10 Mbps, 1.5 Mbps, 512 kbps, 1,536 kbps."""
    if kbps is None:
        return EMPTY
    try:
        rate = int(kbps)
    except ValueError:
        return EMPTY if kbps == "" else str(kbps)
    if rate >= 1000 and rate % 100 == 0:
        return f"{rate / 1000:g} Mbps"
    return f"{rate:,} kbps"


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        # An aware moment is read on the ISP's clock, the day its people live in.
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value if isinstance(value, date) else None


def long_date(value: object, language: str | None = None) -> str:
    """29 de octubre de 2026 / October 29, 2026, in `language` (default: the active one)."""
    day = _day(value)
    if day is None:
        return EMPTY
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        return date_format(day, LONG_DATE_FORMATS.get(language[:2], "DATE_FORMAT"))


def short_date(value: object) -> str:
    """29/10/2026 (dd/mm/aaaa, the way the ISP's people write dates, in every language)."""
    day = _day(value)
    return day.strftime("%d/%m/%Y") if day else EMPTY


def translated(text: str, args: dict[str, Any] | None = None) -> str:
    """A message stored untranslated (`gettext_noop`) with its values, in the reader's
    language; text that is no message id (a person's or a provider's) reads as it is."""
    if not text:
        return ""
    result = translation.gettext(text)
    try:
        return result % args if args else result
    except (KeyError, TypeError, ValueError):
        return result


# A spreadsheet runs a cell that starts like a formula (CSV injection); a plain number, such
# as a negative amount written by wispbill, is only a number and stays readable as one.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[-+]?[0-9]+(\.[0-9]+)?")


def spreadsheet_cell(value: object) -> object:
    """A value for a CSV export: text that a spreadsheet would run as a formula gets a
    leading apostrophe, so it reads as the text it is; numbers pass as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return value if PLAIN_NUMBER.fullmatch(value) else "'" + value
    return value
