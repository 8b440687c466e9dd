"""Each client's payment reference (core.bank), given once, when the client is made."""

from collections.abc import Iterable

from wispbill.clients.models import Client
from wispbill.core.bank import payment_reference_of


def payment_references_assign(clients: Iterable[Client]) -> None:
    """Give each of `clients` (saved) that has none its payment reference, in one write per
    batch: the one function every way of making clients goes through."""
    pending = [c for c in clients if c.payment_reference is None]
    for client in pending:
        client.payment_reference = payment_reference_of(client.pk)
    if pending:
        Client.objects.bulk_update(pending, ["payment_reference"], batch_size=2_000)


def on_client_saved(sender, instance: Client, created: bool, raw: bool = False, **kwargs) -> None:
    """A client made one at a time (a form, the API, a factory) gets its reference at once."""
    if created and not raw:
        payment_references_assign([instance])
