"""What billing tells the CFDI app, connected in CfdiConfig.ready()."""

from typing import Any

from wispbill.billing.models import Payment
from wispbill.cfdi.services import documents_for_payment


def payment_documents(sender: object, payment: Payment, **kwargs: Any) -> None:
    documents_for_payment(payment)
