"""What the API and the panel read of the CFDI queue, each list in a fixed number of
queries."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet

from wispbill.billing.models import Invoice, Payment
from wispbill.cfdi.models import CfdiDocument, CfdiKind, CfdiStatus

# A document whose XML carries SAT's stamp: stamped, or stamped and later cancelled.
HAS_STAMP = (CfdiStatus.STAMPED, CfdiStatus.CANCELLED)


def cfdi_list(*, status: str = "", kind: str = "") -> QuerySet[CfdiDocument]:
    qs = CfdiDocument.objects.prefetch_related("payments__allocations").order_by("-id")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def cfdi_invoice_ids(document: CfdiDocument) -> list[int]:
    """The invoices a document covers: its own, or those its payments paid."""
    if document.invoice_id:
        return [document.invoice_id]
    return sorted(
        {a.invoice_id for payment in document.payments.all() for a in payment.allocations.all()}
    )


def with_invoice_cfdis(qs: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Invoices with their own CFDI at hand (`invoice_cfdi`), in one query more."""
    return qs.prefetch_related(
        Prefetch("cfdis", queryset=CfdiDocument.objects.filter(kind=CfdiKind.INVOICE))
    )


def with_payment_cfdis(qs: QuerySet[Payment]) -> QuerySet[Payment]:
    """Payments with their complement at hand (`payment_cfdi`), in one query more."""
    return qs.prefetch_related(
        Prefetch("cfdis", queryset=CfdiDocument.objects.filter(kind=CfdiKind.PAYMENT))
    )


def _latest(documents: Iterable[CfdiDocument], kind: str) -> CfdiDocument | None:
    """The live document of that kind, else the last cancelled one."""
    mine = [d for d in documents if d.kind == kind]
    live = [d for d in mine if d.status != CfdiStatus.CANCELLED]
    return max(live or mine, key=lambda d: d.pk, default=None)


def invoice_cfdi(invoice: Invoice) -> CfdiDocument | None:
    return _latest(invoice.cfdis.all(), CfdiKind.INVOICE)


def payment_cfdi(payment: Payment) -> CfdiDocument | None:
    return _latest(payment.cfdis.all(), CfdiKind.PAYMENT)


def stamped_xml(document: CfdiDocument | None) -> str | None:
    """The XML SAT's stamp is in, or None when there is none yet."""
    if document is None or document.status not in HAS_STAMP or not document.uuid:
        return None
    return document.xml


def cfdi_summary(document: CfdiDocument | None) -> dict[str, Any] | None:
    if document is None:
        return None
    return {
        "id": document.pk,
        "uuid": document.uuid or None,
        "status": document.status,
        "error": document.error,
    }
