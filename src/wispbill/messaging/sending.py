"""Sending the outbox: claim due rows atomically, send them outside any transaction, record
each outcome; retries back off, and nothing leaves during quiet hours."""

import logging
import uuid
from datetime import datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop as _

from wispbill.billing.models import InvoiceStatus
from wispbill.cfdi.models import CfdiDocument
from wispbill.cfdi.selectors import stamped_documents_of
from wispbill.clients.models import ClientState
from wispbill.messaging.channels import Attachment, ChannelError, channel_session, off_reason
from wispbill.messaging.company import company_settings
from wispbill.messaging.documents import (
    cfdi_name,
    cfdi_pdf,
    invoice_number,
    invoice_pdf,
    receipt_number,
    receipt_pdf,
)
from wispbill.messaging.models import Kind, Message, MessageStatus, Problem
from wispbill.messaging.timing import (
    DEFAULT_QUIET_HOURS,
    MAX_ATTEMPTS,
    is_quiet,
    parse_quiet_hours,
    retry_delay,
)

log = logging.getLogger(__name__)

# A claimed row is not due again for this long: if its sender dies mid-way, another one
# takes it over then (counted as an attempt).
LEASE = timedelta(minutes=30)
BATCH = 50


def quiet_window(company) -> tuple[time, time] | None:
    """The company's quiet hours (an unreadable setting counts as the default, so a typo never
    lets messages out at 3 a.m.)."""
    try:
        return parse_quiet_hours(company.quiet_hours)
    except ValueError:
        return parse_quiet_hours(DEFAULT_QUIET_HOURS)


def quiet_now(company, now: datetime) -> bool:
    """Whether `now` falls in the company's quiet hours."""
    return is_quiet(timezone.localtime(now).time(), quiet_window(company))


def _due(now: datetime):
    return Message.objects.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now)


def _claim(now: datetime, size: int) -> list[Message]:
    """Take up to `size` due messages for this sender alone."""
    if not _due(now).exists():
        return []
    token = uuid.uuid4().hex
    with transaction.atomic():
        due = _due(now).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:size])
        _due(now).filter(id__in=ids).update(
            claim=token, attempts=F("attempts") + 1, next_attempt_at=now + LEASE
        )
    return list(Message.objects.filter(claim=token).select_related("client", "invoice", "payment"))


def _record(message: Message, **fields) -> None:
    """Write an outcome, unless another sender took the row over since (its lease ran out)."""
    Message.objects.filter(pk=message.pk, claim=message.claim).update(claim="", **fields)


CUT_STATES = (ClientState.SUSPENDED, ClientState.THROTTLED)


def _stale_reason(message: Message) -> Problem | None:
    """Why a message no longer makes sense to send (None when it does)."""
    invoice = message.invoice  # None for a receipt: it is about a payment
    if invoice is not None:
        if message.kind in (Kind.INVOICE, Kind.CFDI) and invoice.status == InvoiceStatus.CANCELLED:
            return Problem(_("Not sent: the invoice was cancelled."))
        if message.kind in (Kind.REMINDER, Kind.CUT) and invoice.status != InvoiceStatus.PENDING:
            return Problem(_("Not sent: the invoice is no longer pending."))
    # A promise or a reactivation by hand since the cut: telling the client it is cut would
    # be false.
    if message.kind == Kind.CUT and message.client.state not in CUT_STATES:
        return Problem(_("Not sent: the client's service is no longer cut."))
    return None


def _cfdi_attachments(documents: list[CfdiDocument]) -> list[Attachment]:
    """Each stamped CFDI as SAT has it (XML) and printed (PDF)."""
    files = []
    for document in documents:
        name = cfdi_name(document)
        files.append(Attachment(f"{name}.pdf", cfdi_pdf(document)))
        files.append(Attachment(f"{name}.xml", document.xml.encode(), "application/xml"))
    return files


def _attachments(message: Message, cache: dict) -> list[Attachment]:
    """The files an invoice or receipt message carries, rendered once per batch: its PDF, and
    the CFDIs stamped for it by the time it leaves. The claim loaded both documents."""
    invoice, payment = message.invoice, message.payment
    if message.kind == Kind.INVOICE and invoice is not None:
        key = ("invoice", invoice.pk)
        if key not in cache:
            cache[key] = [
                Attachment(f"{invoice_number(invoice.pk)}.pdf", invoice_pdf(invoice)),
                *_cfdi_attachments(stamped_documents_of(invoice_id=invoice.pk)),
            ]
        return cache[key]
    if message.kind == Kind.CFDI:
        about = ("cfdi", f"{message.invoice_id}/{message.payment_id}")
        if about not in cache:
            if message.invoice_id is not None:
                documents = stamped_documents_of(invoice_id=message.invoice_id)
            else:
                documents = stamped_documents_of(payment_id=message.payment_id)
            cache[about] = _cfdi_attachments(documents)
        return cache[about]
    if message.kind == Kind.RECEIPT and payment is not None:
        key = ("receipt", payment.pk)
        if key not in cache:
            cache[key] = [
                Attachment(f"{receipt_number(payment.pk)}.pdf", receipt_pdf(payment)),
                *_cfdi_attachments(stamped_documents_of(payment_id=payment.pk)),
            ]
        return cache[key]
    return []


def _send_one(session, message: Message, cache: dict, now: datetime) -> str:
    """Send and record one claimed message; returns "sent", "failed" or "skipped"."""
    if stale := _stale_reason(message):
        _record(message, status=MessageStatus.FAILED, **stale.fields())
        return "skipped"
    try:
        provider_id = session.send(message, _attachments(message, cache))
    except ChannelError as exc:
        error, permanent = exc.problem, exc.permanent
    except Exception as exc:  # one broken message (a PDF that fails) must not stop the rest
        log.exception("message %s", message.pk)
        error, permanent = Problem(f"{type(exc).__name__}: {exc}"), False
    else:
        _record(
            message,
            status=MessageStatus.SENT,
            sent_at=timezone.now(),
            provider_id=provider_id[:200],
            **Problem("").fields(),
        )
        return "sent"
    if permanent or message.attempts >= MAX_ATTEMPTS:
        _record(message, status=MessageStatus.FAILED, **error.fields())
    else:
        _record(message, **error.fields(), next_attempt_at=now + retry_delay(message.attempts))
    return "failed"


def messages_send_due(*, now: datetime | None = None, batch_size: int = BATCH) -> dict:
    """Send every message due at `now` (default: the clock, read again for each batch), unless
    it is quiet hours; returns {"sent": N, "failed": N} of this call's attempts."""
    totals = {"sent": 0, "failed": 0}
    company = company_settings()
    while True:
        moment = now or timezone.now()
        if quiet_now(company, moment):
            break
        claimed = _claim(moment, batch_size)
        if not claimed:
            break
        cache: dict = {}
        for channel in sorted({m.channel for m in claimed}):
            batch = [m for m in claimed if m.channel == channel]
            if reason := off_reason(channel):
                for message in batch:
                    _record(message, status=MessageStatus.FAILED, **reason.fields())
                totals["failed"] += len(batch)
                continue
            with channel_session(channel, company) as session:
                for message in batch:
                    outcome = _send_one(session, message, cache, moment)
                    if outcome in totals:
                        totals[outcome] += 1
    return totals
