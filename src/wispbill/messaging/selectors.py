"""Reads of the outbox, and what each row means for the operator."""

from collections.abc import Iterable
from datetime import date, datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise

from wispbill.clients.selectors import client_list
from wispbill.messaging.channels import off_reason
from wispbill.messaging.company import company_settings
from wispbill.messaging.models import (
    Channel,
    Message,
    MessageStatus,
    OptOut,
    Outlook,
    Problem,
)
from wispbill.messaging.sending import quiet_window
from wispbill.messaging.timing import quiet_end


def message_list(
    *,
    client: int | None = None,
    status: str | None = None,
    channel: str | None = None,
    kind: str | None = None,
    search: str = "",
    day: date | None = None,
) -> QuerySet[Message]:
    """Newest first, filtered by whatever is given: `search` finds the client as the clients
    list does, or the address a message went to; `day` is the day it was queued (ISP's zone)."""
    qs = Message.objects.select_related("client").order_by("-created_at", "-id")
    if client is not None:
        qs = qs.filter(client_id=client)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if kind:
        qs = qs.filter(kind=kind)
    if search := search.strip():
        qs = qs.filter(
            Q(client__in=client_list(search=search).values("id")) | Q(recipient__icontains=search)
        )
    if day is not None:
        qs = qs.filter(created_at__date=day)
    return qs


def message_counts() -> dict[str, int]:
    """How many messages wait, went and did not go."""
    return Message.objects.aggregate(
        **{status: Count("id", filter=Q(status=status)) for status in MessageStatus.values}
    )


def client_opt_outs(client_id: int) -> set[str]:
    """The channels a client asked not to be written to on."""
    return set(OptOut.objects.filter(client_id=client_id).values_list("channel", flat=True))


def channels_state() -> list[tuple[str, StrOrPromise, Problem | None]]:
    """Each channel (value, label) and why it is off (None when it sends)."""
    return [(value, label, off_reason(value)) for value, label in Channel.choices]


def message_outlooks(messages: Iterable[Message], *, now: datetime | None = None) -> None:
    """Set `outlook` on each message (one read of the company's settings for them all)."""
    now = now or timezone.now()
    window = quiet_window(company_settings())
    for message in messages:
        message.outlook = _outlook(message, window, now)


def _outlook(message: Message, window, now: datetime) -> Outlook:
    label = message.get_status_display()
    if message.status == MessageStatus.SENT:
        return Outlook(message.status, label, message.sent_at)
    if message.status == MessageStatus.FAILED:
        return Outlook(message.status, label, why=message.error_text)
    if message.claim:
        return Outlook(message.status, label, now, _("Being sent now."))
    leaves = max(message.next_attempt_at, now)
    quiet_over = quiet_end(timezone.localtime(leaves), window)
    if message.attempts and message.error_text:
        why = _("Try %(attempt)s failed: %(error)s") % {
            "attempt": message.attempts,
            "error": message.error_text,
        }
    else:
        why = ""
    if quiet_over:
        quiet = _("Quiet hours: no message leaves until %(time)s.") % {
            "time": quiet_over.strftime("%H:%M")
        }
        return Outlook(message.status, label, quiet_over, f"{why} {quiet}".strip())
    return Outlook(message.status, label, leaves, why or _("It leaves within a minute."))
