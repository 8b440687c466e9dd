"""Reads of the outbox."""

from django.db.models import QuerySet

from wispbill.messaging.models import Message, OptOut


def message_list(
    *,
    client: int | None = None,
    status: str | None = None,
    channel: str | None = None,
    kind: str | None = None,
) -> QuerySet[Message]:
    """Newest first, filtered by whatever is given."""
    qs = Message.objects.select_related("client").order_by("-created_at", "-id")
    if client is not None:
        qs = qs.filter(client_id=client)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def client_opt_outs(client_id: int) -> set[str]:
    """The channels a client asked not to be written to on."""
    return set(OptOut.objects.filter(client_id=client_id).values_list("channel", flat=True))
