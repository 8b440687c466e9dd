"""The company's limits on payment promises, as one rule for both doors: the client page
refuses a promise beyond them; staff may go further, and the panel says which limit they
passed."""

from datetime import date

from django.utils.translation import gettext as _

from wispbill.billing.selectors import pending_invoices
from wispbill.clients.models import Client, Promise
from wispbill.core.models import CompanySettings


def promise_limit_passed(*, client: Client, until: date, today: date) -> str:
    """The company limit a promise until `until`, already registered, goes beyond ("" for
    none): the days ahead a client may promise, and the promises per unpaid invoice."""
    company = CompanySettings.load()
    if (until - today).days > company.portal_promise_days:
        return _(
            "This promise goes beyond the company's limit of %(days)s days ahead that a client "
            "can promise on its own page."
        ) % {"days": company.portal_promise_days}
    oldest = pending_invoices(client).first()
    if oldest is None:
        return _("This client owes nothing now: the promise changes nothing until it does.")
    made = Promise.objects.filter(client=client, created_at__date__gte=oldest.issued_on).count()
    if made > company.portal_promises_per_cycle:
        return _(
            "This is promise number %(made)s for the same unpaid invoice; the company allows "
            "%(limit)s per cycle on the client's own page."
        ) % {"made": made, "limit": company.portal_promises_per_cycle}
    return ""
