"""What a client may do from its own page: a payment promise within the company's rules."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wispbill.audit.models import SYSTEM
from wispbill.billing.debt import client_promise
from wispbill.billing.selectors import pending_invoices
from wispbill.clients.models import Client, ClientState, Promise
from wispbill.core.clock import business_day
from wispbill.core.db import locked
from wispbill.core.formatting import long_date
from wispbill.core.models import CompanySettings

PROMISE_STATES = (ClientState.ACTIVE, ClientState.SUSPENDED, ClientState.THROTTLED)


@dataclass(frozen=True)
class PromiseRules:
    """Whether the client may promise now, until which days, or why not."""

    allowed: bool
    reason: str = ""
    earliest: date | None = None
    latest: date | None = None


def portal_promise_rules(client: Client) -> PromiseRules:
    """The company's rules for promises made from the client page: at most
    `portal_promise_days` days ahead (0: none), at most `portal_promises_per_cycle` of them
    since the oldest unpaid invoice was issued."""
    company = CompanySettings.load()
    today = business_day()
    if company.portal_promise_days == 0:
        return PromiseRules(False, _("Payment promises cannot be made from this page."))
    if client.state not in PROMISE_STATES:
        return PromiseRules(False, _("This account cannot make payment promises."))
    oldest = pending_invoices(client).first()
    if oldest is None:
        return PromiseRules(False, _("You owe nothing, so there is nothing to promise."))
    # Promises made from this page are the ones the system makes (no staff user).
    made = Promise.objects.filter(
        client=client, actor_name=SYSTEM, created_at__date__gte=oldest.issued_on
    ).count()
    if made >= company.portal_promises_per_cycle:
        return PromiseRules(
            False,
            _("You already made the payment promises allowed for this invoice; please contact us."),
        )
    return PromiseRules(
        True,
        earliest=today + timedelta(days=1),
        latest=today + timedelta(days=company.portal_promise_days),
    )


@transaction.atomic
def portal_promise_make(*, client: Client, until: date) -> Client:
    """A promise the client makes on its own page, through the usual promise service (actor:
    the system), refused outside the company's rules."""
    # Held until the commit, so two requests at once cannot both take the last promise.
    client = locked(Client.objects).get(pk=client.pk)
    rules = portal_promise_rules(client)
    if not rules.allowed or rules.earliest is None or rules.latest is None:
        raise ValidationError(rules.reason)  # an allowed promise always has its days
    if not rules.earliest <= until <= rules.latest:
        raise ValidationError(
            {
                "until": [
                    _("Choose a day from %(earliest)s to %(latest)s.")
                    % {"earliest": long_date(rules.earliest), "latest": long_date(rules.latest)}
                ]
            }
        )
    return client_promise(actor=None, client=client, until=until)
