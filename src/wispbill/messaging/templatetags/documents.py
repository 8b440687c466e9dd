from django import template

from wispbill.messaging.formatting import long_date, money

register = template.Library()
register.filter("money", money)
register.filter("long_date", long_date)
