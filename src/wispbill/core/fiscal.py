"""Mexican fiscal data as plain values (SAT's catalogs and formats), checked where they enter
(the company's settings, a client's form, the API, the file import) and again by the CFDI
adapter before anything is stamped. Pure functions: no database.

The catalogs' names are SAT's own (c_RegimenFiscal, c_UsoCFDI), in Spanish as SAT publishes
them: they are codes' official names, not interface text."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from wispbill.core.sat_catalogs import validate_sat_postal_code

# RFC: 3 letters (a company, "persona moral") or 4 (a person, "persona física"), the date
# YYMMDD, and a 3-character homoclave whose last character is the check digit.
RFC_RE = re.compile(r"^([A-ZÑ&]{3,4})(\d{2})(\d{2})(\d{2})([A-Z\d]{2})([A-Z\d])$")
RFC_ALPHABET = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"
# SAT's generic RFCs: the public in general and foreigners. Their check digit is fixed.
RFC_PUBLIC = "XAXX010101000"
RFC_FOREIGN = "XEXX010101000"
POSTAL_CODE_RE = re.compile(r"^\d{5}$")

MORAL, FISICA = "moral", "fisica"
# c_RegimenFiscal: code -> (name, the kinds of person it applies to).
REGIMES: dict[str, tuple[str, frozenset[str]]] = {
    "601": ("General de Ley Personas Morales", frozenset({MORAL})),
    "603": ("Personas Morales con Fines no Lucrativos", frozenset({MORAL})),
    "605": ("Sueldos y Salarios e Ingresos Asimilados a Salarios", frozenset({FISICA})),
    "606": ("Arrendamiento", frozenset({FISICA})),
    "607": ("Régimen de Enajenación o Adquisición de Bienes", frozenset({FISICA})),
    "608": ("Demás ingresos", frozenset({FISICA})),
    "610": (
        "Residentes en el Extranjero sin Establecimiento Permanente en México",
        frozenset({MORAL, FISICA}),
    ),
    "611": ("Ingresos por Dividendos (socios y accionistas)", frozenset({FISICA})),
    "612": (
        "Personas Físicas con Actividades Empresariales y Profesionales",
        frozenset({FISICA}),
    ),
    "614": ("Ingresos por intereses", frozenset({FISICA})),
    "615": ("Régimen de los ingresos por obtención de premios", frozenset({FISICA})),
    "616": ("Sin obligaciones fiscales", frozenset({FISICA})),
    "620": (
        "Sociedades Cooperativas de Producción que optan por diferir sus ingresos",
        frozenset({MORAL}),
    ),
    "621": ("Incorporación Fiscal", frozenset({FISICA})),
    "622": ("Actividades Agrícolas, Ganaderas, Silvícolas y Pesqueras", frozenset({MORAL})),
    "623": ("Opcional para Grupos de Sociedades", frozenset({MORAL})),
    "624": ("Coordinados", frozenset({MORAL})),
    "625": (
        "Régimen de las Actividades Empresariales con ingresos a través de Plataformas "
        "Tecnológicas",
        frozenset({FISICA}),
    ),
    "626": ("Régimen Simplificado de Confianza", frozenset({MORAL, FISICA})),
}
REGIME_CHOICES = [(code, f"{code} {name}") for code, (name, _kinds) in REGIMES.items()]

# c_UsoCFDI: code -> (name, kinds of person).
CFDI_USES: dict[str, tuple[str, frozenset[str]]] = {
    "G01": ("Adquisición de mercancías", frozenset({MORAL, FISICA})),
    "G02": ("Devoluciones, descuentos o bonificaciones", frozenset({MORAL, FISICA})),
    "G03": ("Gastos en general", frozenset({MORAL, FISICA})),
    "I04": ("Equipo de computo y accesorios", frozenset({MORAL, FISICA})),
    "I08": ("Otra maquinaria y equipo", frozenset({MORAL, FISICA})),
    "D10": ("Pagos por servicios educativos (colegiaturas)", frozenset({FISICA})),
    "S01": ("Sin efectos fiscales", frozenset({MORAL, FISICA})),
    "CP01": ("Pagos", frozenset({MORAL, FISICA})),
}
DEFAULT_CFDI_USE = "S01"
CFDI_USE_CHOICES = [(code, f"{code} {name}") for code, (name, _kinds) in CFDI_USES.items()]


def rfc_check_digit(rfc: str) -> str:
    """The check digit of an RFC's first 11 (company) or 12 (person) characters: SAT's
    modulo-11 sum, weights 13 down to 2, a company's RFC read with a leading space."""
    body = rfc[:-1].rjust(12)
    total = sum(RFC_ALPHABET.index(char) * (13 - i) for i, char in enumerate(body))
    digit = 11 - total % 11
    return "0" if digit == 11 else "A" if digit == 10 else str(digit)


def rfc_kind(rfc: str) -> str:
    return MORAL if len(rfc) == 12 else FISICA


def validate_rfc(value: str) -> None:
    """An RFC as SAT writes it: 12 characters for a company, 13 for a person, a real date,
    and the right check digit."""
    match = RFC_RE.match(value or "")
    if not match:
        raise ValidationError(
            _(
                "An RFC has 12 characters (a company) or 13 (a person): letters, the date "
                "YYMMDD and a 3-character homoclave, in capitals, without spaces or dashes."
            ),
            code="rfc_format",
        )
    if value in (RFC_PUBLIC, RFC_FOREIGN):
        return
    month, day = int(match.group(3)), int(match.group(4))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValidationError(
            _("The RFC's date (%(date)s) is not a date.") % {"date": value[-9:-3]},
            code="rfc_date",
        )
    if rfc_check_digit(value) != value[-1]:
        raise ValidationError(
            _("The RFC's check digit does not match: check every character (%(rfc)s).")
            % {"rfc": value},
            code="rfc_check_digit",
        )


def validate_postal_code(value: str) -> None:
    """Five digits that SAT's catalog of postal codes has (a PAC refuses any other)."""
    if not POSTAL_CODE_RE.match(value or ""):
        raise ValidationError(_("A postal code has 5 digits."), code="postal_code")
    validate_sat_postal_code(value)


def regime_fits(regime: str, rfc: str) -> bool:
    entry = REGIMES.get(regime)
    return entry is not None and rfc_kind(rfc) in entry[1]


def fiscal_data_errors(
    *, rfc: str, name: str, regime: str, postal_code: str, use: str | None = None
) -> dict[str, str]:
    """What is wrong with a set of fiscal data (a client's or the company's), by field:
    each field on its own and the regime (and the use) for the RFC's kind of person."""
    errors: dict[str, str] = {}
    for field, check, value in (
        ("rfc", validate_rfc, rfc),
        ("postal_code", validate_postal_code, postal_code),
    ):
        try:
            check(value)
        except ValidationError as error:
            errors[field] = error.messages[0]
    if not (name or "").strip():
        errors["name"] = _("The fiscal name is needed, as it appears in the tax certificate.")
    if regime not in REGIMES:
        errors["regime"] = _("Choose a tax regime from SAT's catalog.")
    elif "rfc" not in errors and not regime_fits(regime, rfc):
        errors["regime"] = _(
            "Tax regime %(regime)s is not for a %(kind)s (RFC of %(length)s characters)."
        ) % {
            "regime": regime,
            "kind": _("company") if rfc_kind(rfc) == MORAL else _("person"),
            "length": len(rfc),
        }
    if use is not None:
        if use not in CFDI_USES:
            errors["use"] = _("Choose a CFDI use from SAT's catalog.")
        elif "rfc" not in errors and rfc_kind(rfc) not in CFDI_USES[use][1]:
            errors["use"] = _("CFDI use %(use)s is not for this kind of person.") % {"use": use}
    return errors
