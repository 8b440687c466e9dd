"""Where a client can be reached: an e-mail address, a WhatsApp number in E.164."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email


def e164(raw: str, country: str) -> str | None:
    """The number in E.164 (+525512345678), read as of `country` when it has no country
    code; None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def valid_email(raw: str) -> bool:
    try:
        validate_email(raw)
    except ValidationError:
        return False
    return True
