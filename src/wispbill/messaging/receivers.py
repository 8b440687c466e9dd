"""What the apps below tell messaging, connected in MessagingConfig.ready()."""

from django.db.models import Q

from wispbill.billing.models import Invoice, Payment
from wispbill.cfdi.models import CfdiDocument, CfdiKind
from wispbill.messaging.models import Kind, Message, MessageStatus
from wispbill.messaging.services import messages_enqueue_bulk


def payment_receipts(sender, payments, **kwargs) -> None:
    """Every registered payment gets its receipt, whatever the switches say."""
    messages_enqueue_bulk(
        kind=Kind.RECEIPT, items=[(payment.client_id, payment.pk) for payment in payments]
    )


def late_cfdi(sender, documents: list[CfdiDocument], **kwargs) -> None:
    """A CFDI stamped after its invoice's message (or the receipt of the payment that caused
    it) already left goes to the client on its own, once: a message that has not left yet
    carries it as an attachment instead. One query for the whole batch when, as most often,
    no message about them has left."""
    documents = [document for document in documents if document.kind != CfdiKind.GLOBAL]
    if not documents:
        return
    links = CfdiDocument.payments.through.objects.filter(cfdidocument__in=documents)
    invoices = {d.invoice_id for d in documents if d.invoice_id is not None}
    about = Q(kind=Kind.RECEIPT, payment__in=links.values("payment_id"))
    if invoices:
        about |= Q(kind=Kind.INVOICE, invoice__in=invoices)
    sent = list(
        Message.objects.filter(about, status=MessageStatus.SENT).values_list(
            "invoice_id", "payment_id"
        )
    )
    if not sent:
        return
    told_invoices = {invoice for invoice, _payment in sent if invoice is not None}
    told_payments = {payment for _invoice, payment in sent if payment is not None}
    paid_by: dict[int, list[int]] = {}
    for document_id, payment_id in links.values_list("cfdidocument_id", "payment_id"):
        paid_by.setdefault(document_id, []).append(payment_id)
    invoice_items, payment_items = set(), set()
    for document in documents:
        payments = paid_by.get(document.pk, [])
        told = document.invoice_id in told_invoices or told_payments.intersection(payments)
        if not told:
            continue
        if document.invoice_id is not None:
            invoice_items.add(document.invoice_id)
        else:
            payment_items.update(payments)
    if invoice_items:
        clients = Invoice.objects.filter(pk__in=invoice_items).values_list("client_id", "pk")
        messages_enqueue_bulk(kind=Kind.CFDI, items=sorted(clients))
    if payment_items:
        payers = Payment.objects.filter(pk__in=payment_items).values_list("client_id", "pk")
        messages_enqueue_bulk(kind=Kind.CFDI, items=sorted(payers), about_payment=True)
