"""What the apps below tell messaging, connected in MessagingConfig.ready()."""

from wispbill.messaging.models import Kind
from wispbill.messaging.services import messages_enqueue_bulk


def payment_receipts(sender, payments, **kwargs) -> None:
    """Every registered payment gets its receipt, whatever the switches say."""
    messages_enqueue_bulk(
        kind=Kind.RECEIPT, items=[(payment.client_id, payment.pk) for payment in payments]
    )
