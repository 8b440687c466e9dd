from datetime import date, datetime
from html import escape

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from wispbill.cfdi.selectors import invoice_cfdi, payment_cfdi
from wispbill.core.formatting import long_date, money, short_date, speed
from wispbill.core.switches import TASK_LABELS, TASKS, Task
from wispbill.messaging import documents
from wispbill.network.models import Router, Zone

register = template.Library()
# Money and dates read the same in the panel, the messages, the documents and the client page.
register.filter("money", money)
register.filter("long_date", long_date)
register.filter("short_date", short_date)
register.filter("speed", speed)
# An invoice's own CFDI and a payment's complement (their querysets prefetch them:
# cfdi.selectors.with_invoice_cfdis, with_payment_cfdis).
register.filter("invoice_cfdi", invoice_cfdi)
register.filter("payment_cfdi", payment_cfdi)

# A moment as the ISP's people write it, in both languages: 29/10/2026 14:05.
SHORT_DATETIME = "d/m/Y H:i"


@register.filter
def onoff(value) -> str:
    """A switch value as the operator reads it."""
    if value is True:
        return _("On")
    if value is False:
        return _("Off")
    return "—"


@register.filter
def short_datetime(value) -> str:
    """29/10/2026 14:05, in the ISP's time zone."""
    if not value:
        return "—"
    if isinstance(value, date) and not isinstance(value, datetime):
        return short_date(value)
    return date_format(timezone.localtime(value), SHORT_DATETIME)


@register.filter
def invoice_number(invoice_id) -> str:
    """F-000123: the number printed on the invoice."""
    return documents.invoice_number(int(invoice_id)) if invoice_id else "—"


@register.filter
def receipt_number(payment_id) -> str:
    """R-000123: the number printed on the receipt."""
    return documents.receipt_number(int(payment_id)) if payment_id else "—"


@register.filter
def task_label(task: str) -> str:
    """A periodic task's name in the reader's language."""
    return str(TASK_LABELS[Task(task)]) if task in TASKS else task


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
