"""What billing tells the CFDI app, connected in CfdiConfig.ready()."""

from typing import Any

from wispbill.billing.models import Payment
from wispbill.cfdi.services import documents_for_payments


def payments_documents(sender: object, payments: list[Payment], **kwargs: Any) -> None:
    """Every list of payments registered (one at the counter, thousands from a statement)
    queues its CFDI documents at once."""
    documents_for_payments(payments)
