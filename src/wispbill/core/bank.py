"""Bank transfers (SPEI), as plain values: each client's payment reference and the company's
CLABE, both with their check digits. Pure functions: no database."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

REFERENCE_LENGTH = 7
# The six digits before the check digit run from 100000 to 999999: a bank that keeps the
# numeric reference as a number drops leading zeros, so no reference starts with one.
_BASE, _SPAN = 100_000, 900_000
# Coprime with _SPAN, so number -> payload is a bijection: neighbours get unrelated references
# and a typo in one rarely lands on another client's.
_MULTIPLIER, _OFFSET = 480_773, 271_829
CLABE_WEIGHTS = (3, 7, 1)
CLABE_LENGTH = 18
DIGITS = re.compile(r"\d+")


def luhn_digit(digits: str) -> int:
    """The Luhn (mod 10) check digit of a string of digits: it catches every single wrong digit
    and almost every swap of two neighbours."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def payment_reference_of(number: int) -> str:
    """The 7-digit reference of the client with this number (its id): six scrambled digits and
    a Luhn check digit. Distinct for numbers below 900,000."""
    payload = str(_BASE + (number * _MULTIPLIER + _OFFSET) % _SPAN)
    return payload + str(luhn_digit(payload))


def reference_is_valid(text: str) -> bool:
    """Seven digits, not starting with 0, whose last is the check digit of the other six."""
    return (
        len(text) == REFERENCE_LENGTH
        and text.isdigit()
        and text[0] != "0"
        and luhn_digit(text[:-1]) == int(text[-1])
    )


def reference_candidates(text: str) -> list[str]:
    """The 7-digit numbers written in `text` (a run of digits, leading zeros dropped: banks pad
    the numeric reference to 10 digits). A longer run, such as an account number, is not one:
    a window of it would match a client by chance."""
    found = []
    for run in DIGITS.findall(text or ""):
        number = run.lstrip("0")
        if len(number) == REFERENCE_LENGTH and number not in found:
            found.append(number)
    return found


def clabe_check_digit(first17: str) -> int:
    """The CLABE's control digit: weights 3, 7, 1 over the first 17 digits, each product taken
    mod 10, then (10 - sum mod 10) mod 10."""
    total = sum(int(d) * CLABE_WEIGHTS[i % 3] % 10 for i, d in enumerate(first17))
    return (10 - total % 10) % 10


def clabe_is_valid(text: str) -> bool:
    return (
        len(text) == CLABE_LENGTH
        and text.isdigit()
        and clabe_check_digit(text[:-1]) == int(text[-1])
    )


def validate_clabe(value: str) -> None:
    """A model field's validator: an 18-digit CLABE whose last digit checks (empty is none)."""
    if not value:
        return
    if len(value) != CLABE_LENGTH or not value.isdigit():
        raise ValidationError(
            _("A CLABE has exactly 18 digits, without spaces or dashes."), code="clabe_format"
        )
    if not clabe_is_valid(value):
        raise ValidationError(
            _("This CLABE's last digit does not match the others: check it against the bank's."),
            code="clabe_check",
        )
