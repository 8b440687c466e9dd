from django import template
from django.utils.translation import gettext as _

from wispbill.core.formatting import long_date, money, short_date

register = template.Library()
# Money and dates read the same in the panel, the messages, the documents and the client page.
register.filter("money", money)
register.filter("long_date", long_date)
register.filter("short_date", short_date)


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
