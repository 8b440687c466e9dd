from html import escape

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from wispbill.core.formatting import long_date, money, short_date
from wispbill.network.models import Router, Zone

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


@register.simple_tag
def zone_options(selected="") -> str:
    """The `<option>`s of a zone filter, one per zone with its router, built in one query and
    plain string joins: a large ISP has a thousand zones on every list page."""
    rows = Zone.objects.order_by("router__name", "name").values_list(
        "id", "router_id", "router__name", "name"
    )
    chosen = str(selected)
    return mark_safe(
        "".join(
            f'<option value="{pk}" data-router="{router_id}"'
            f"{' selected' if str(pk) == chosen else ''}>{escape(rn)} · {escape(zn)}</option>"
            for pk, router_id, rn, zn in rows
        )
    )


@register.simple_tag
def router_options(selected="") -> str:
    """The `<option>`s of a router filter, in one query."""
    chosen = str(selected)
    rows = Router.objects.order_by("name").values_list("id", "name")
    return mark_safe(
        "".join(
            f'<option value="{pk}"{" selected" if str(pk) == chosen else ""}>{escape(n)}</option>'
            for pk, n in rows
        )
    )
