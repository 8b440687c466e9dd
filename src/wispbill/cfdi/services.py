"""The CFDI queue: documents created in the transaction that causes them, stamped after the
commit (`cfdi_stamp_due`, by the task consumer and `wispbill stamp-cfdi`), retried with
back-off, stamped at most once; a refusal waits for a person (`document_retry`)."""

import enum
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from satcfdi.exceptions import CFDIError, SchemaValidationError
from satcfdi.models import Signer

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.billing.models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentStatus,
)
from wispbill.billing.services.invoices import invoice_cancel
from wispbill.cfdi import pac
from wispbill.cfdi.build import (
    FORMA_PAGO,
    PaidInvoice,
    global_document,
    invoice_document,
    payment_document,
)
from wispbill.cfdi.csd import company_csd
from wispbill.cfdi.globals import periodicity_of
from wispbill.cfdi.models import CancelReason, CfdiDocument, CfdiKind, CfdiStatus
from wispbill.cfdi.signals import cfdi_stamped
from wispbill.clients.models import Client
from wispbill.core.db import bulk_set, locked
from wispbill.core.models import CfdiMode, CompanySettings
from wispbill.staff.permissions import MANAGE_INVOICES, require_permission_of_person

# After the n-th attempt without an answer, the next one comes this much later.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
BULK = 500
MAX_ATTEMPTS = 12  # then the document waits for a person (about two days of a silent PAC)


def _backoff(attempts: int) -> timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def queue_stamping() -> None:
    from wispbill.cfdi import tasks

    transaction.on_commit(tasks.stamp_cfdi_task)


# SAT stamps a CFDI at most 72 hours after its date: an invoice older than that when the
# company starts stamping on issue is not stamped on its own.
ISSUE_WINDOW = timedelta(hours=72)


def _invoice_document(
    invoice: Invoice, company: CompanySettings, method: str
) -> tuple[CfdiDocument | None, bool]:
    """The invoice's live CFDI of its own, made now (as `method`) unless it has one:
    (document, made)."""
    live = (
        CfdiDocument.objects.filter(invoice=invoice, kind=CfdiKind.INVOICE)
        .exclude(status=CfdiStatus.CANCELLED)
        .first()
    )
    if live is not None:
        return live, False
    try:
        with transaction.atomic():
            document = CfdiDocument.objects.create(
                kind=CfdiKind.INVOICE,
                method=method,
                invoice=invoice,
                series=company.invoice_series,
                total=invoice.total,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None, False  # another transaction made it
    return document, True


def documents_for_payments(payments: list[Payment]) -> list[CfdiDocument]:
    """Inside the transaction that registered `payments` (one or ten thousand, in a fixed
    number of queries), for clients with an RFC: stamping on payment, a PUE CFDI for each
    invoice they paid in full; stamping on issue, the PPD CFDI of each invoice they paid (if
    the sweep has not made it yet) and each payment's complement."""
    company = CompanySettings.load()
    if company.cfdi == CfdiMode.OFF or not payments:
        return []
    with_rfc = set(
        Client.objects.filter(pk__in={p.client_id for p in payments})
        .exclude(rfc="")
        .values_list("pk", flat=True)
    )
    mine = {p.pk: p for p in payments if p.client_id in with_rfc}
    if not mine:
        return []
    allocations = list(
        PaymentAllocation.objects.filter(payment__in=list(mine))
        .exclude(invoice__status=InvoiceStatus.CANCELLED)
        .select_related("invoice")
        .order_by("payment_id", "invoice_id")
    )
    for attempt in range(3):
        try:
            with transaction.atomic():
                created = _documents_in_bulk(company, mine, allocations)
            break
        except IntegrityError:
            # Another transaction made one of them meanwhile (committed, so the next reading
            # sees it and skips it).
            if attempt == 2:
                raise
    if created:
        queue_stamping()
    return created


def _documents_in_bulk(
    company: CompanySettings, payments: dict[int, Payment], allocations: list[PaymentAllocation]
) -> list[CfdiDocument]:
    invoices = {a.invoice_id: a.invoice for a in allocations}
    have = set(
        CfdiDocument.objects.filter(invoice__in=list(invoices), kind=CfdiKind.INVOICE)
        .exclude(status=CfdiStatus.CANCELLED)
        .values_list("invoice_id", flat=True)
    )
    now = timezone.now()
    links: list[tuple[int, int]] = []  # (index of the new document, payment id)
    made: dict[int, int] = {}  # invoice id -> index of its new document
    documents: list[CfdiDocument] = []

    def new(**values: Any) -> int:
        documents.append(CfdiDocument(series=company.invoice_series, next_attempt_at=now, **values))
        return len(documents) - 1

    if company.cfdi == CfdiMode.ON_PAYMENT:
        for allocation in allocations:
            invoice = allocation.invoice
            if invoice.status != InvoiceStatus.PAID or invoice.pk in have:
                continue
            if invoice.pk not in made:
                made[invoice.pk] = new(
                    kind=CfdiKind.INVOICE, method="PUE", invoice=invoice, total=invoice.total
                )
            links.append((made[invoice.pk], allocation.payment_id))
    else:
        covered = set(
            CfdiDocument.payments.through.objects.filter(
                payment_id__in=list(payments), cfdidocument__kind=CfdiKind.PAYMENT
            ).values_list("payment_id", flat=True)
        )
        paid: dict[int, list[PaymentAllocation]] = {}
        for allocation in allocations:
            if allocation.payment_id not in covered:
                paid.setdefault(allocation.payment_id, []).append(allocation)
        for payment_id, mine in paid.items():
            for allocation in mine:
                invoice = allocation.invoice
                if invoice.pk not in have and invoice.pk not in made:
                    made[invoice.pk] = new(
                        kind=CfdiKind.INVOICE, method="PPD", invoice=invoice, total=invoice.total
                    )
            complement = new(
                kind=CfdiKind.PAYMENT, total=sum((a.amount for a in mine), Decimal("0.00"))
            )
            links.append((complement, payment_id))
    CfdiDocument.objects.bulk_create(documents, batch_size=BULK)
    Through = CfdiDocument.payments.through
    Through.objects.bulk_create(
        [Through(cfdidocument_id=documents[i].pk, payment_id=p) for i, p in links],
        batch_size=BULK,
    )
    return documents


def documents_for_issued_invoices() -> int:
    """Stamping on issue: a PPD CFDI for each invoice issued lately to a client with an RFC
    that has none yet (the run, the API and the panel issue invoices; this finds them all)."""
    company = CompanySettings.load()
    if company.cfdi != CfdiMode.ON_ISSUE:
        return 0
    issued = (
        Invoice.objects.filter(created_at__gte=timezone.now() - ISSUE_WINDOW)
        .exclude(client__rfc="")
        .exclude(status=InvoiceStatus.CANCELLED)
        .exclude(cfdis__kind=CfdiKind.INVOICE)
        .order_by("id")
    )
    # The caller stamps next: nothing to queue.
    return sum(_invoice_document(invoice, company, "PPD")[1] for invoice in issued)


@dataclass(frozen=True)
class StampOutcome:
    stamped: int
    failed: int


# Documents in flight at once: the PAC's latency (100 ms or more), not this machine, is
# what limits one at a time.
WORKERS = 16


def cfdi_stamp_due(*, workers: int = WORKERS) -> StampOutcome:
    """Stamp every pending document whose time has come, `workers` at the PAC at a time.
    Invoices and global CFDIs first, then the payment complements that wait for them.

    Only the calling thread touches the database (claims, builds and signs documents a batch
    at a time, writes each batch's results back): the senders only talk to the PAC, so a
    caller inside a transaction stamps what it sees, and the PAC's latency, not a connection
    per document in flight, sets the pace."""
    documents_for_issued_invoices()
    company = CompanySettings.load()  # read once per run, not per document
    stamped = failed = 0
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="cfdi") as senders:
        for kinds in ((CfdiKind.INVOICE, CfdiKind.GLOBAL), (CfdiKind.PAYMENT,)):
            outcome = _stamp_kinds(kinds, company, senders, depth=2 * max(1, workers) + CLAIM)
            stamped += outcome.stamped
            failed += outcome.failed
    replaced_cancel_due()
    return StampOutcome(stamped, failed)


@dataclass(frozen=True)
class _Batch:
    claimed: int  # documents claimed, sent or not
    sent: list[CfdiDocument]
    answers: list["Future[_Answer]"]


def _stamp_kinds(
    kinds: tuple[str, ...], company: CompanySettings, senders: ThreadPoolExecutor, depth: int
) -> StampOutcome:
    """Claim batches while fewer than `depth` documents are at the PAC (the senders always
    have the next one waiting); when that many are, write back the oldest batch once all its
    documents are answered. A batch that found the PAC unavailable, every document of it,
    ends the claiming: the rest waits for the next run instead of each document waiting for
    its timeout now."""
    stamped = failed = in_flight = 0
    batches: deque[_Batch] = deque()
    more = True
    while more or batches:
        if more and in_flight < depth:
            claimed = _claim(kinds, company)
            if claimed is None:
                more = False
                continue
            sent = [document for document in claimed.documents if document.pk in claimed.ready]
            answers = [senders.submit(_send, document) for document in sent]
            batches.append(_Batch(len(claimed.documents), sent, answers))
            in_flight += len(sent)
            continue
        batch = batches.popleft()
        answered = [answer.result() for answer in batch.answers]
        in_flight -= len(batch.sent)
        bulk_set(batch.sent, SENT_FIELDS)
        done = [d for d, a in zip(batch.sent, answered, strict=True) if a == _Answer.STAMPED]
        if done:
            cfdi_stamped.send(sender=CfdiDocument, documents=done)
        if answered and all(answer == _Answer.UNAVAILABLE for answer in answered):
            more = False
        stamped += len(done)
        failed += batch.claimed - len(done)
    return StampOutcome(stamped, failed)


# Documents claimed at once: their data is read, they are built and signed, and their results
# are written back in a few statements for all of them.
CLAIM = 32

# What sending writes back to a document's row.
SENT_FIELDS = (
    "status",
    "uuid",
    "xml",
    "stamped_at",
    "error_code",
    "error_message",
    "next_attempt_at",
)
CLAIMED_FIELDS = ("attempts", "next_attempt_at", "xml", "status", "error_code", "error_message")


@dataclass(frozen=True)
class _Claimed:
    documents: list[CfdiDocument]
    ready: set[int]  # the ids of those built and signed, to be sent


def _claim(kinds: tuple[str, ...], company: CompanySettings) -> _Claimed | None:
    """The next due documents, their attempt counted and their next one set, each built and
    signed once (the XML every retry sends again, so the PAC recognizes it by its seal and
    its customid instead of stamping it twice), all committed before the PAC is called: a
    parallel worker skips them (locked rows are passed over, updated ones are no longer
    due), a crash leaves them for their next turn."""
    now = timezone.now()
    with transaction.atomic():
        due = (
            locked(CfdiDocument.objects)
            .filter(status=CfdiStatus.PENDING, next_attempt_at__lte=now, kind__in=kinds)
            .select_related("invoice__client__plan", "replaces")
            .prefetch_related(
                "invoice__lines", Prefetch("payments", queryset=Payment.objects.order_by("id"))
            )
            .order_by("next_attempt_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        documents = list(due[:CLAIM])
        if not documents:
            return None
        ready = set()
        for document in documents:
            document.attempts += 1
            document.next_attempt_at = now + _backoff(document.attempts)
            if _prepared(document, company):
                ready.add(document.pk)
        bulk_set(documents, CLAIMED_FIELDS)
    return _Claimed(documents, ready)


def _prepared(document: CfdiDocument, company: CompanySettings) -> bool:
    """Whether `document` can go to the PAC: built and signed now if it never was; why not
    in its error fields otherwise."""
    if not pac.configured():
        document.error_code, document.error_message = "off", _("No PAC is configured.")
        return False
    if document.xml:
        return True
    # Never sent, and its invoice was cancelled meanwhile: it is not stamped at all.
    if document.invoice is not None and document.invoice.status == InvoiceStatus.CANCELLED:
        document.status, document.error_code = CfdiStatus.CANCELLED, ""
        document.error_message = _("Its invoice was cancelled before it was stamped.")
        return False
    signer = _signer(company)
    if signer is None:
        document.error_code, document.error_message = "off", _("The company has no CSD.")
        return False
    try:
        document.xml = _build(document, company, signer).decode()
    except _Waiting:
        document.error_code = "waiting"
        document.error_message = _("Waiting for the CFDI of the invoice it pays to be stamped.")
        return False
    except (ValidationError, SchemaValidationError, CFDIError, ValueError) as error:
        document.status, document.error_code = CfdiStatus.ERROR, "data"
        document.error_message = " ".join(getattr(error, "messages", None) or [str(error)])
        return False
    return True


class _Answer(enum.Enum):
    STAMPED = "stamped"
    REFUSED = "refused"
    UNAVAILABLE = "unavailable"


def _send(document: CfdiDocument) -> _Answer:
    """Send a signed document to the PAC; its row's new values are set on it (written by the
    caller, with the rest of the batch)."""
    try:
        result = pac.stamp(document.xml.encode(), document.customid)
    except pac.PacRefused as error:
        document.status = CfdiStatus.ERROR
        document.error_code, document.error_message = error.code, error.message
        return _Answer.REFUSED
    except pac.PacUnavailable as error:
        document.error_code, document.error_message = error.code, error.message
        if document.attempts >= MAX_ATTEMPTS:
            document.status = CfdiStatus.ERROR
        return _Answer.UNAVAILABLE
    document.status, document.uuid = CfdiStatus.STAMPED, result.uuid
    document.xml = result.xml.decode()
    document.stamped_at, document.next_attempt_at = timezone.now(), None
    document.error_code = document.error_message = ""
    return _Answer.STAMPED


def _save(document: CfdiDocument, **values: Any) -> None:
    for name, value in values.items():
        setattr(document, name, value)
    document.save(update_fields=list(values))


# The CSD's key opened once per process (about 85 ms: decrypted, then the .key's own
# password-based encryption), kept by the CSD's identity: a new upload is a new key.
_signers: dict[tuple[str, str], Signer] = {}
_signers_lock = threading.Lock()


def _signer(company: CompanySettings) -> Signer | None:
    identity = (company.csd_serial, company.csd_key)
    with _signers_lock:
        signer = _signers.get(identity)
        if signer is not None:
            return signer
        csd = company_csd(company)
        if csd is None:
            return None
        certificate, key, password = csd
        signer = Signer.load(certificate=certificate, key=key, password=password)
        _signers.clear()
        _signers[identity] = signer
        return signer


class _Waiting(Exception):
    """A complement waits for the CFDI of an invoice it pays to be stamped first."""


def _build_complement(document: CfdiDocument, company: CompanySettings, signer: Signer) -> bytes:
    payment = document.payments.get()
    paid = []
    for allocation in payment.allocations.select_related("invoice").order_by("invoice_id"):
        ppd = (
            CfdiDocument.objects.filter(
                invoice=allocation.invoice_id, kind=CfdiKind.INVOICE, method="PPD"
            )
            .exclude(status=CfdiStatus.CANCELLED)
            .first()
        )
        if ppd is None:
            continue
        if ppd.status != CfdiStatus.STAMPED:
            raise _Waiting
        earlier = PaymentAllocation.objects.filter(
            invoice=allocation.invoice_id,
            payment_id__lt=payment.pk,
            payment__status=PaymentStatus.APPLIED,
        ).values_list("amount", flat=True)
        paid.append(
            PaidInvoice(
                stamped_xml=ppd.xml,
                installment=len(earlier) + 1,
                balance_before=allocation.invoice.total - sum(earlier, Decimal("0.00")),
                paid=allocation.amount,
            )
        )
    if not paid:
        raise ValidationError(_("The payment paid no invoice with a PPD CFDI."))
    return payment_document(
        payment=payment, paid=paid, signer=signer, folio=document.folio, series=document.series
    )


def _build(document: CfdiDocument, company: CompanySettings, signer: Signer) -> bytes:
    if document.kind == CfdiKind.PAYMENT:
        return _build_complement(document, company, signer)
    if document.kind == CfdiKind.GLOBAL:
        # A global CFDI is made with its period (cfdi_global_create).
        assert document.period_start is not None and document.period_end is not None
        return global_document(
            payments=list(document.payments.all()),  # prefetched in order (_claim)
            company=company,
            signer=signer,
            periodicity=periodicity_of(document.period_start, document.period_end),
            start=document.period_start,
            folio=document.folio,
            series=document.series,
        )
    # A CFDI that is not global nor a complement: its invoice, with the invoice's client,
    # plan and lines (_claim).
    invoice = document.invoice
    assert invoice is not None
    client = invoice.client
    errors = client.fiscal_errors()
    if errors:
        raise ValidationError(" ".join(errors.values()))
    first = next(iter(document.payments.all()), None)  # prefetched in order (_claim)
    forma = (
        "99" if document.method == "PPD" else FORMA_PAGO.get(first.method if first else "", "99")
    )
    return invoice_document(
        invoice=invoice,
        company=company,
        signer=signer,
        method=document.method,
        folio=document.folio,
        forma_pago=forma,
        replaces=document.replaces.uuid if document.replaces is not None else "",
    )


def replace_refusal(document: CfdiDocument, *, complements: bool = True) -> str:
    """Why `document` cannot be replaced by a CFDI re-issued with the data as it is now, or
    "" when it can: a stamped CFDI of an invoice that stands, not already being replaced,
    and, for a PPD, with no payment complement naming it (those would need replacing too;
    one query, skipped with `complements=False` where a list asks for each row)."""
    if document.kind != CfdiKind.INVOICE:
        return _("Only an invoice's own CFDI is replaced from here.")
    if document.status != CfdiStatus.STAMPED or document.superseded:
        return _("Only a stamped CFDI that is not already being replaced can be replaced.")
    assert document.invoice is not None
    if document.invoice.status == InvoiceStatus.CANCELLED:
        return _("Its invoice is cancelled: there is nothing to replace.")
    if (
        complements
        and document.method == "PPD"
        and CfdiDocument.objects.filter(
            kind=CfdiKind.PAYMENT, payments__allocations__invoice=document.invoice_id
        )
        .exclude(status=CfdiStatus.CANCELLED)
        .exists()
    ):
        return _(
            "Its payments have complements that name this CFDI: cancel the invoice with "
            "SAT's reason instead."
        )
    return ""


@transaction.atomic
def cfdi_replace(*, actor: User | None, document: CfdiDocument) -> CfdiDocument:
    """Re-issue an invoice's stamped CFDI with the data as it is now (the client's corrected
    RFC, name, regime, postal code or use): a new CFDI that substitutes it (TipoRelacion 04)
    is queued; once it is stamped, the old one is cancelled at the PAC with reason 01 and the
    new UUID (`replaced_cancel_due`). The old one stays valid until then."""
    require_permission_of_person(actor, MANAGE_INVOICES)
    document = locked(CfdiDocument.objects.select_related("invoice__client")).get(pk=document.pk)
    refused = replace_refusal(document)
    if refused:
        raise ValidationError(refused)
    assert document.invoice is not None
    client = document.invoice.client
    errors = client.fiscal_errors()
    if errors:
        raise ValidationError(
            _("Fix the client's fiscal data first: %(errors)s")
            % {"errors": " ".join(errors.values())}
        )
    _save(document, superseded=True)
    replacement = CfdiDocument.objects.create(
        kind=CfdiKind.INVOICE,
        method=document.method,
        invoice=document.invoice,
        series=CompanySettings.load().invoice_series,
        total=document.invoice.total,
        replaces=document,
        next_attempt_at=timezone.now(),
    )
    replacement.payments.set(document.payments.all())
    audit_record(
        actor=actor,
        action=AuditAction.CFDI_REPLACED,
        obj=client,
        changes={"cfdi": [document.pk, replacement.pk]},
        reason=gettext_noop("CFDI %(uuid)s re-issued with corrected data"),
        reason_args={"uuid": document.uuid},
    )
    queue_stamping()
    return replacement


def replaced_cancel_due() -> int:
    """Cancel at the PAC, with reason 01 and their replacement's UUID, the CFDIs whose
    replacement is stamped; one the PAC does not cancel now is tried again later (its error
    said on Facturación electrónica). Each is claimed first, as stamping claims (its next
    attempt set, skip-locked), so two workers never cancel the same one. How many were
    cancelled."""
    now = timezone.now()
    with transaction.atomic():
        due = (
            locked(CfdiDocument.objects)
            .filter(status=CfdiStatus.STAMPED, superseded=True)
            .filter(replaced_by__status=CfdiStatus.STAMPED)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .select_related("replaced_by")
            .order_by("id")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        documents = list(due[:CLAIM])
        for document in documents:
            document.attempts += 1
            document.next_attempt_at = now + _backoff(document.attempts)
        bulk_set(documents, ("attempts", "next_attempt_at"))
    cancelled = 0
    for document in documents:
        substitution = document.replaced_by.uuid
        try:
            pac.cancel(document.xml.encode(), CancelReason.WITH_RELATION, substitution)
        except pac.PacError as error:
            _save(
                document,
                error_code="cancel",
                error_message=f"{error.code}: {error.message}"[:1000],
            )
            continue
        _save(
            document,
            status=CfdiStatus.CANCELLED,
            cancelled_at=timezone.now(),
            cancel_reason=CancelReason.WITH_RELATION,
            substitution=substitution,
            error_code="",
            error_message="",
            next_attempt_at=None,
        )
        cancelled += 1
    return cancelled


@transaction.atomic
def document_retry(*, actor: User | None, document: CfdiDocument) -> CfdiDocument:
    """Send a refused document again, built anew from the data as it is now."""
    require_permission_of_person(actor, MANAGE_INVOICES)
    document = locked(CfdiDocument.objects.select_related("invoice")).get(pk=document.pk)
    if document.status != CfdiStatus.ERROR:
        raise ValidationError(_("Only a CFDI in error can be sent again."))
    if document.invoice is not None and document.invoice.status == InvoiceStatus.CANCELLED:
        raise ValidationError(_("Its invoice is cancelled: it is not sent again."))
    _save(
        document,
        status=CfdiStatus.PENDING,
        xml="",
        attempts=0,
        next_attempt_at=timezone.now(),
    )
    queue_stamping()
    return document


def cancel_check(document: CfdiDocument | None, reason: str, substitution: str) -> None:
    """SAT's rules for a cancellation's reason, before anything is written."""
    if document is None:
        return
    if reason not in CancelReason.values:
        raise ValidationError(
            {"reason": [_("This invoice has a stamped CFDI: give SAT's reason (01 to 04).")]}
        )
    if reason == CancelReason.WITH_RELATION and not substitution:
        raise ValidationError(
            {"substitution": [_("Reason 01 needs the UUID of the CFDI that replaces it.")]}
        )
    if reason == CancelReason.WITH_RELATION and substitution.upper() == document.uuid.upper():
        raise ValidationError(
            {
                "substitution": [
                    _("That is this CFDI's own UUID: give the UUID of the CFDI that replaces it.")
                ]
            }
        )


@transaction.atomic
def invoice_and_cfdi_cancel(
    *, actor: User | None, invoice: Invoice, reason: str = "", substitution: str = ""
) -> Invoice:
    """Cancel an invoice (its rules, its permission) and then its stamped CFDI at the PAC with
    SAT's reason, if it has one: a reason missing, or a PAC that refuses, undoes the
    invoice's cancellation."""
    invoice = invoice_cancel(actor=actor, invoice=invoice)
    invoice_cfdi_cancel(invoice=invoice, reason=reason, substitution=substitution)
    return invoice


def invoice_cfdi_cancel(*, invoice: Invoice, reason: str, substitution: str = "") -> None:
    """Cancel at the PAC the stamped CFDI of `invoice` (if any), then mark it cancelled; a
    PAC that refuses or does not answer leaves everything as it was (a ValidationError)."""
    mine = CfdiDocument.objects.filter(invoice=invoice, kind=CfdiKind.INVOICE)
    if mine.filter(status=CfdiStatus.PENDING, replaces__isnull=False).exists():
        raise ValidationError(
            _(
                "Its CFDI is being replaced with corrected data: cancel the invoice once the "
                "replacement is stamped (a few minutes)."
            )
        )
    document = mine.filter(status=CfdiStatus.STAMPED).order_by("-id").first()
    cancel_check(document, reason, substitution)
    # One the PAC refused (a replacement, or the first with wrong data) is never stamped for
    # an invoice that no longer stands. (One that turned error after MAX_ATTEMPTS without an
    # answer may be stamped at the PAC: it stays, for a retry to recover its stamp.)
    refused = mine.filter(status=CfdiStatus.ERROR, attempts__lt=MAX_ATTEMPTS)
    if document is None:
        refused.update(status=CfdiStatus.CANCELLED)
        return
    try:
        pac.cancel(document.xml.encode(), reason, substitution)
    except pac.PacUnavailable as error:
        raise ValidationError(
            _(
                "The PAC did not answer the cancellation (%(code)s: %(message)s); nothing "
                "changed. Try again in a few minutes."
            )
            % {"code": error.code, "message": error.message}
        ) from None
    except pac.PacError as error:
        raise ValidationError(
            _("The PAC did not cancel the CFDI (%(code)s: %(message)s); nothing changed.")
            % {"code": error.code, "message": error.message}
        ) from None
    _save(
        document,
        status=CfdiStatus.CANCELLED,
        cancelled_at=timezone.now(),
        cancel_reason=reason,
        substitution=substitution,
    )
    refused.update(status=CfdiStatus.CANCELLED)
