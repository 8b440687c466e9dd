"""SAT's largest CFDI catalogs (postal codes, product and unit keys) as Python sets, read
once per process from the catalog schema satcfdi bundles (about 0.8 s). The CFDI adapter
checks them before it builds a document and validates against a schema without them (libxml2
spent about 6 ms of each document's 11 ms walking these enumerations); the PAC still checks
everything. Codes are SAT's, not interface text."""

import os
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from lxml import etree
from satcfdi.transform import SCHEMA_ROOT

CATALOG = os.path.join(SCHEMA_ROOT, "www.sat.gob.mx/sitio_internet/cfd/catalogos/catCFDI.xsd")
XS = "{http://www.w3.org/2001/XMLSchema}"
# The catalogs checked here instead of by the schema, and the shape the schema keeps of each.
LARGE = {
    "c_CodigoPostal": "[0-9]{5}",
    "c_ClaveProdServ": "[0-9]{8}",
    "c_ClaveUnidad": "[A-Z0-9]{2,3}",
    "c_Colonia": "[0-9]{4}",
}


@cache
def _catalogs() -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for _event, element in etree.iterparse(CATALOG, tag=f"{XS}simpleType"):
        name = element.get("name")
        if name in LARGE:
            found[name] = frozenset(e.get("value") for e in element.iter(f"{XS}enumeration"))
        element.clear()
    return found


def is_postal_code(value: str) -> bool:
    return value in _catalogs()["c_CodigoPostal"]


def is_product_key(value: str) -> bool:
    return value in _catalogs()["c_ClaveProdServ"]


def is_unit_key(value: str) -> bool:
    return value in _catalogs()["c_ClaveUnidad"]


def validate_sat_postal_code(value: str) -> None:
    if value and not is_postal_code(value):
        raise ValidationError(
            _("Postal code %(code)s is not in SAT's catalog of postal codes.") % {"code": value},
            code="postal_code_catalog",
        )


def validate_sat_product_key(value: str) -> None:
    if value and not is_product_key(value):
        raise ValidationError(
            _("Product key %(key)s is not in SAT's catalog (c_ClaveProdServ).") % {"key": value},
            code="product_key_catalog",
        )


def validate_sat_unit_key(value: str) -> None:
    if value and not is_unit_key(value):
        raise ValidationError(
            _("Unit key %(key)s is not in SAT's catalog (c_ClaveUnidad).") % {"key": value},
            code="unit_key_catalog",
        )


def lean_catalog() -> bytes:
    """The catalog schema with the LARGE enumerations replaced by their shape (a pattern)."""
    tree = etree.parse(CATALOG)
    for simple in tree.getroot().findall(f"{XS}simpleType"):
        pattern = LARGE.get(simple.get("name") or "")
        if pattern is None:
            continue
        restriction = simple.find(f"{XS}restriction")
        for enumeration in restriction.findall(f"{XS}enumeration"):
            restriction.remove(enumeration)
        etree.SubElement(restriction, f"{XS}pattern", value=pattern)
    result: bytes = etree.tostring(tree)
    return result
