"""What the API and the panel read of the CFDI queue, each list in a fixed number of
queries."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from wispbill.billing.models import Invoice, Payment
from wispbill.cfdi.models import CfdiDocument, CfdiKind, CfdiStatus
from wispbill.clients.models import Client

# A document whose XML carries SAT's stamp: stamped, or stamped and later cancelled.
HAS_STAMP = (CfdiStatus.STAMPED, CfdiStatus.CANCELLED)


def cfdi_list(*, status: str = "", kind: str = "") -> QuerySet[CfdiDocument]:
    qs = CfdiDocument.objects.prefetch_related("payments__allocations").order_by("-id")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def cfdi_page_list(*, status: str = "", kind: str = "", search: str = "") -> QuerySet[CfdiDocument]:
    """The panel's list: each document with the client it is for at hand, in a fixed number
    of queries; `search` finds a UUID, a folio or a client's name or RFC."""
    qs = cfdi_list(status=status, kind=kind).select_related("invoice__client")
    qs = qs.prefetch_related("payments__client")
    search = " ".join(search.split())
    if search:
        qs = qs.filter(_search_match(search)).distinct()
    return qs


# A number as the panel writes one: a CFDI's series and folio ("F1", "F 1"), an invoice's
# number ("F-000321", "F000321"), or bare digits.
NUMBER = re.compile(r"([A-Za-z]{0,25}) ?(-?) ?(\d{1,12})")
UUID_PART = re.compile(r"[0-9A-Fa-f-]{4,36}")


def _search_match(search: str) -> Q:
    """What the list's search finds. A number finds that number (not every UUID that happens
    to hold its digits); a piece of a UUID from four characters; a client by a piece of its
    name or fiscal name, or by its RFC's first characters (from four)."""
    number = NUMBER.fullmatch(search)
    match = _number_match(*number.groups()) if number else Q(pk__in=[])
    if number is None and UUID_PART.fullmatch(search):
        match |= Q(uuid__icontains=search)
    for client in ("invoice__client", "payments__client"):
        if number is None:
            match |= Q(**{f"{client}__name__icontains": search}) | Q(
                **{f"{client}__fiscal_name__icontains": search}
            )
        if len(search) >= 4:
            match |= Q(**{f"{client}__rfc__istartswith": search.replace(" ", "")})
    return match


def _number_match(letters: str, dash: str, digits: str) -> Q:
    """An invoice's number has a dash or its leading zeros (or is "F" and digits); a CFDI's
    folio has its series."""
    if dash or letters and digits.startswith("0") and len(digits) > 1:
        return Q(invoice_id=int(digits))
    if letters:
        folio = Q(pk=int(digits), series__iexact=letters)
        # "F527": a CFDI's folio, or invoice F-000527 written short.
        return folio | Q(invoice_id=int(digits)) if letters.upper() == "F" else folio
    return Q(pk=int(digits)) | Q(invoice_id=int(digits))


def cfdi_counts() -> dict[str, int]:
    """How many documents are in each status, in one query."""
    return CfdiDocument.objects.aggregate(
        **{value: Count("id", filter=Q(status=value)) for value in CfdiStatus.values}
    )


def cfdi_client(document: CfdiDocument) -> Client | None:
    """The client a document is for; None for a global one (the public in general)."""
    if document.kind == CfdiKind.GLOBAL:
        return None
    if document.invoice is not None:
        return document.invoice.client
    payments = list(document.payments.all())
    return payments[0].client if payments else None


# SAT's validation codes (Anexo 20, CFDI 4.0) that mean the receiver's data does not match
# its records: the most common refusal, fixed on the client's page.
RECEIVER_CODES = {f"CFDI40{n}" for n in range(141, 161)}
UNAVAILABLE_CODES = {"timeout", "error", "garbage"}


@dataclass(frozen=True)
class Problem:
    """What went wrong with a document, in plain words, and where it is fixed
    (`fix`: "client", "company" or "")."""

    text: str
    fix: str


def cfdi_problem(document: CfdiDocument) -> Problem | None:
    """A document's error said for a person: what it means and what to do."""
    code = document.error_code
    if not code and not document.error_message:
        return None
    if code == "off":
        return Problem(
            _("Stamping is not set up: the PAC's settings or the company's CSD are missing."),
            "company",
        )
    if code == "cancel":
        return Problem(
            _(
                "Its replacement is stamped, but the PAC has not cancelled it yet. It is tried "
                "again by itself."
            ),
            "",
        )
    if code == "waiting":
        return Problem(_("It waits for the CFDI of the invoice it pays to be stamped."), "")
    if code in UNAVAILABLE_CODES or code.isdigit() and int(code) >= 500:
        return Problem(_("The PAC did not answer. It is tried again by itself."), "")
    fix = "" if document.kind == CfdiKind.GLOBAL else "client"
    if code == "data":
        return Problem(
            _("The document could not be built with the data as it is. Fix it and retry."),
            fix or "company",
        )
    if code.upper() in RECEIVER_CODES or "Receptor" in document.error_message:
        return Problem(
            _(
                "The client's fiscal data (RFC, name, regime or postal code) does not match "
                "SAT's records. Fix it on the client's page, then retry."
            ),
            fix or "company",
        )
    if "Emisor" in document.error_message or "certificado" in document.error_message.lower():
        return Problem(
            _("The company's fiscal data or CSD was refused. Fix it, then retry."), "company"
        )
    return Problem(_("The PAC refused the document. Fix what its message says, then retry."), fix)


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


def stamped_documents_of(
    *, invoice_id: int | None = None, payment_id: int | None = None
) -> list[CfdiDocument]:
    """The stamped CFDIs a client's message carries: an invoice's own, or those a payment
    caused (its complement, or the PUE CFDI of an invoice it paid in full)."""
    qs = CfdiDocument.objects.filter(status=CfdiStatus.STAMPED).exclude(uuid="")
    if invoice_id is not None:
        return list(qs.filter(kind=CfdiKind.INVOICE, invoice_id=invoice_id).order_by("id"))
    return list(qs.filter(payments=payment_id).exclude(kind=CfdiKind.GLOBAL).order_by("id"))


def cfdi_summary(document: CfdiDocument | None) -> dict[str, Any] | None:
    if document is None:
        return None
    return {
        "id": document.pk,
        "uuid": document.uuid or None,
        "status": document.status,
        "error": document.error,
    }


def stamped_cfdi_of(invoice: Invoice) -> CfdiDocument | None:
    """The invoice's own CFDI that is stamped now (the one a cancellation must cancel)."""
    return (
        CfdiDocument.objects.filter(
            invoice=invoice, kind=CfdiKind.INVOICE, status=CfdiStatus.STAMPED
        )
        .order_by("-id")
        .first()
    )
