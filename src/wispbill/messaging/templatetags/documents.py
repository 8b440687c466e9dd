from decimal import Decimal, InvalidOperation

from django import template

from wispbill.core.formatting import long_date, money, short_date

register = template.Library()
register.filter("money", money)
register.filter("long_date", long_date)
register.filter("short_date", short_date)


@register.filter
def rate(value: object) -> str:
    """A tax rate as SAT writes it (TasaOCuota 0.160000) as people read it: 16 %."""
    try:
        percent = Decimal(str(value)) * 100
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{percent.normalize():f} %"
