"""What billing tells the CFDI app, connected in CfdiConfig.ready()."""

from wispbill.cfdi.services import documents_for_payment


def payment_documents(sender, payment, **kwargs) -> None:
    documents_for_payment(payment)
