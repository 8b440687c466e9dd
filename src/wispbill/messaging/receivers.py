"""What the apps below tell messaging, connected in MessagingConfig.ready()."""

from django.db.models import Q

from wispbill.billing.models import Invoice
from wispbill.cfdi.models import CfdiDocument, CfdiKind
from wispbill.messaging.models import Kind, Message, MessageStatus
from wispbill.messaging.services import messages_enqueue_bulk


def payment_receipts(sender, payments, **kwargs) -> None:
    """Every registered payment gets its receipt, whatever the switches say."""
    messages_enqueue_bulk(
        kind=Kind.RECEIPT, items=[(payment.client_id, payment.pk) for payment in payments]
    )


def late_cfdi(sender, document: CfdiDocument, **kwargs) -> None:
    """A CFDI stamped after its invoice's message (or the receipt of the payment that caused
    it) already left goes to the client on its own, once: a message that has not left yet
    carries it as an attachment instead."""
    if document.kind == CfdiKind.GLOBAL:
        return
    # One query: most documents are stamped before any message about them leaves.
    paid_by = CfdiDocument.payments.through.objects.filter(cfdidocument=document.pk)
    about = Q(kind=Kind.RECEIPT, payment__in=paid_by.values("payment_id"))
    if document.invoice_id is not None:
        about |= Q(kind=Kind.INVOICE, invoice=document.invoice_id)
    if not Message.objects.filter(about, status=MessageStatus.SENT).exists():
        return
    if document.invoice_id is not None:
        client_id = Invoice.objects.values_list("client_id", flat=True).get(pk=document.invoice_id)
        messages_enqueue_bulk(kind=Kind.CFDI, items=[(client_id, document.invoice_id)])
    else:
        payment = document.payments.get()
        messages_enqueue_bulk(
            kind=Kind.CFDI, items=[(payment.client_id, payment.pk)], about_payment=True
        )
