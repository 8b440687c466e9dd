"""Text that leaves for another protocol (a router's API, a mail server's headers) must be one
line of printable characters: a line break or a NUL in it could end the line a line-based
service reads and start a command of the user's choosing."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# C0 (NUL, tab, CR, LF...), DEL and C1, as Unicode numbers them.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Unicode's own line and paragraph separators end a line for some readers too.
SEPARATORS = re.compile("[\u2028\u2029]")


def has_control(text: str) -> bool:
    """Whether `text` holds a control character or a line separator."""
    return bool(CONTROL.search(text) or SEPARATORS.search(text))


def validate_one_line(value: object) -> None:
    """A model field validator: one line of printable text."""
    if isinstance(value, str) and has_control(value):
        raise ValidationError(
            _(
                "Line breaks, tabs and other control characters are not allowed here: "
                "this text is sent to a router or a mail server."
            ),
            code="control_characters",
        )
