"""Amounts as an operator in the ISP's country types them: the one parser behind every money
field of the panel's forms and the API.

In Mexico the cents go after a dot and thousands may be grouped with commas (`1,234.50`,
`1234.50`, `$199.50`); where the cents go after a comma (Colombia, Argentina, Spain…) it is the
other way round. A text that could mean either (`199,50` in Mexico: cents, or a typo of a
thousands group?) is refused with a message that says how to write it, never read as 19950."""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from wispbill.core.models import CompanySettings

# The countries whose people write the cents after a comma (ISO 3166 codes, as the company's
# `country`); every other country writes them after a dot.
DECIMAL_COMMA = frozenset({"AR", "BO", "BR", "CL", "CO", "CR", "EC", "ES", "PT", "PY", "UY", "VE"})
# A sign before or after the currency symbol: -$51.00, $-51.00, +51.
SIGN_AND_SYMBOL = re.compile(r"^(?P<before>[-+]?)\$?(?P<after>-?)(?P<number>.*)$")
# Longer texts are no amount anyone types; refusing them early keeps the regexes cheap.
LONGEST = 40


@dataclass(frozen=True)
class Notation:
    decimal: str
    group: str

    @property
    def example(self) -> str:
        return f"1{self.group}234{self.decimal}50"

    @property
    def plain_example(self) -> str:
        return f"1234{self.decimal}50"

    @property
    def cents_example(self) -> str:
        return f"199{self.decimal}50"


def notation_of(country: str) -> Notation:
    """How amounts are written in `country` (two letters; empty or unknown: Mexico's way)."""
    if (country or "").upper() in DECIMAL_COMMA:
        return Notation(decimal=",", group=".")
    return Notation(decimal=".", group=",")


def _patterns(n: Notation) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    d, g = re.escape(n.decimal), re.escape(n.group)
    plain = re.compile(rf"^(\d+({d}\d*)?|{d}\d+)$", re.ASCII)
    grouped = re.compile(rf"^\d{{1,3}}({g}\d{{3}})+({d}\d*)?$", re.ASCII)
    # Cents after the other separator (199,50 in Mexico), or both separators the other way
    # round (1.234,50 in Mexico): what someone from elsewhere, or a phone's keyboard, writes.
    other = re.compile(
        rf"^(\d+{g}\d{{1,2}}|\d{{1,3}}({d}\d{{3}})+{g}\d+|\d+{d}\d{{3}}{g}\d+)$", re.ASCII
    )
    return plain, grouped, other


def parse_money(text: object, country: str = "MX") -> Decimal:
    """The amount in `text` as written in `country`: an optional sign and `$`, digits, and the
    country's separators. A ValidationError says how to write it when the text is no amount
    or could be read two ways."""
    if isinstance(text, Decimal | int):
        return Decimal(text)
    n = notation_of(country)
    raw = str(text).strip()
    signed = SIGN_AND_SYMBOL.match(raw.replace(" ", "").replace("\u00a0", ""))
    # The pattern's last group takes any text: every string matches.
    assert signed is not None
    sign = "-" if "-" in signed["before"] + signed["after"] else ""
    value = signed["number"] if len(signed["before"] + signed["after"]) <= 1 else ""
    plain, grouped, other = _patterns(n)
    if len(value) <= LONGEST and (plain.match(value) or grouped.match(value)):
        return Decimal(sign + value.replace(n.group, "").replace(n.decimal, "."))
    shown = raw[:LONGEST]
    if len(value) <= LONGEST and other.match(value):
        raise ValidationError(
            _(
                "«%(value)s» can be read two ways: write the cents after a «%(decimal)s», "
                "as in %(cents)s (and thousands as %(example)s or %(plain)s)."
            )
            % {
                "value": shown,
                "decimal": n.decimal,
                "cents": n.cents_example,
                "example": n.example,
                "plain": n.plain_example,
            },
            code="ambiguous",
        )
    raise ValidationError(
        _("«%(value)s» is not an amount: write it as %(example)s or %(plain)s.")
        % {"value": shown, "example": n.example, "plain": n.plain_example},
        code="invalid",
    )


def company_notation_country() -> str:
    """The company's country, whose way of writing amounts the forms and the API read."""
    country = CompanySettings.objects.filter(pk=1).values_list("country", flat=True).first()
    return country or "MX"
