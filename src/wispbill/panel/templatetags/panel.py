from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def onoff(value) -> str:
    """A switch value as the operator reads it."""
    if value is True:
        return _("On")
    if value is False:
        return _("Off")
    return "—"


@register.filter
def audit_value(value):
    if isinstance(value, bool):
        return onoff(value)
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {audit_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(audit_value(v)) for v in value) or "—"
    return value


@register.filter
def money(value) -> str:
    """An amount as the ISP's clients read it: $1,234.50 (and -$51.00 for credit)."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"
