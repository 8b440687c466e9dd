"""What billing tells the CFDI app, connected in CfdiConfig.ready()."""

from wispbill.cfdi.services import documents_for_payments


def payments_documents(sender, payments, **kwargs) -> None:
    """Every list of payments registered (one at the counter, thousands from a statement)
    queues its CFDI documents at once."""
    documents_for_payments(payments)
