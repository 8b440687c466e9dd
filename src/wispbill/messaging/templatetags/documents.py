from django import template

from wispbill.core.formatting import long_date, money, short_date

register = template.Library()
register.filter("money", money)
register.filter("long_date", long_date)
register.filter("short_date", short_date)
