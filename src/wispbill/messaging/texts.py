"""What each kind of message says, in the client's language (the active one when called)."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from wispbill.core.formatting import long_date, money
from wispbill.messaging.models import Kind


@dataclass(frozen=True)
class Text:
    subject: str
    body: str
    # The WhatsApp template's four body parameters: name, amount, date, link.
    params: list[str]


def message_text(
    *,
    kind: str,
    company_name: str,
    client_name: str,
    amount,
    day,
    link: str,
    instructions: str,
    throttled: bool = False,
    pay_link: str = "",
    gateways: str = "",
) -> Text:
    """The subject, e-mail body and template parameters of one message.

    amount and day: the invoice's total and due date (invoice), what is left to pay and the
    due date (reminder, cut), or the amount received and its day (receipt). throttled: the
    cut reduced the client's speed instead of suspending the service. pay_link: the client's
    pay page, given for an invoice or a reminder when `gateways` (their names) are on; it is
    then the WhatsApp template's link too, since that page is the client's page as well."""
    values = {
        "name": client_name,
        "company": company_name,
        "amount": money(amount),
        "date": long_date(day),
        "link": link,
    }
    if kind == Kind.INVOICE:
        subject = _("Your invoice from %(company)s") % values
        lines = [
            _("Hello %(name)s,") % values,
            _("Your new invoice for %(amount)s is attached. Please pay it by %(date)s.") % values,
        ]
    elif kind == Kind.REMINDER:
        subject = _("Payment reminder from %(company)s") % values
        lines = [
            _("Hello %(name)s,") % values,
            _("You have %(amount)s to pay. After %(date)s your internet service will be suspended.")
            % values,
        ]
    elif kind == Kind.CUT and throttled:
        subject = _("Your internet speed was reduced") % values
        lines = [
            _("Hello %(name)s,") % values,
            _(
                "Your internet speed was reduced for an unpaid balance of %(amount)s (due "
                "%(date)s). It is back to full speed as soon as your payment is registered."
            )
            % values,
        ]
    elif kind == Kind.CUT:
        subject = _("Your internet service is suspended") % values
        lines = [
            _("Hello %(name)s,") % values,
            _(
                "Your internet service was suspended for an unpaid balance of %(amount)s (due "
                "%(date)s). It comes back as soon as your payment is registered."
            )
            % values,
        ]
    elif kind == Kind.CFDI:
        subject = _("Your electronic invoice from %(company)s") % values
        lines = [
            _("Hello %(name)s,") % values,
            _(
                "Your electronic invoice (CFDI) for %(amount)s is attached, as PDF and as the "
                "XML file that SAT validates."
            )
            % values,
        ]
    else:
        subject = _("Payment receipt from %(company)s") % values
        lines = [
            _("Hello %(name)s,") % values,
            _(
                "We received your payment of %(amount)s on %(date)s. Thank you! The receipt is "
                "attached."
            )
            % values,
        ]
    if pay_link:
        lines += ["", _("Pay online now (%(gateways)s):") % {"gateways": gateways}, pay_link]
    if instructions and kind not in (Kind.RECEIPT, Kind.CFDI):
        lines += ["", _("How to pay:"), instructions]
    lines += [
        "",
        _("See your invoices, pay, or make a payment promise on your page:"),
        link,
        "",
        company_name,
    ]
    return Text(
        subject=subject[:200],
        body="\n".join(lines),
        params=[client_name, values["amount"], values["date"], pay_link or link],
    )
