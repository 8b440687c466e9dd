"""The outbox: queuing messages (one per client, kind, channel and document, ever), opt-outs
and resending. Sending is in sending.py."""

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.billing.models import Invoice, Payment
from wispbill.clients.models import Client, ClientState
from wispbill.core.db import among, locked
from wispbill.messaging import tasks
from wispbill.messaging.channels import off_reason
from wispbill.messaging.company import company_settings
from wispbill.messaging.contacts import e164, valid_email
from wispbill.messaging.links import portal_link
from wispbill.messaging.models import Channel, Kind, Message, MessageStatus, OptOut, Problem
from wispbill.messaging.texts import message_text
from wispbill.payments.gateways import gateways_on
from wispbill.staff.permissions import (
    MANAGE_CLIENTS,
    REGISTER_PAYMENTS,
    require_any_permission,
    require_permission,
)

BATCH = 1000


@dataclass(frozen=True)
class Target:
    channel: str
    recipient: str
    # Why it cannot go (None when it can): the row is kept as not sent, so the outbox says why.
    problem: Problem | None = None


def client_targets(client: Client, *, country: str, opted_out: set, off: dict) -> list[Target]:
    """The channels a client can be written to, each with its address or why not; a channel
    without a contact, or that the client opted out of, is left out."""
    targets = []
    email = (client.email or "").strip()
    if email and (client.pk, Channel.EMAIL) not in opted_out:
        problem = off[Channel.EMAIL]
        if not problem and not valid_email(email):
            problem = Problem(
                gettext_noop("Not sent: %(email)s is not a valid e-mail address."),
                {"email": email},
            )
        targets.append(Target(Channel.EMAIL, email, problem))
    phone = (client.phone or "").strip()
    if phone and (client.pk, Channel.WHATSAPP) not in opted_out:
        number = e164(phone, country)
        problem = off[Channel.WHATSAPP]
        if not problem and not number:
            problem = Problem(
                gettext_noop("Not sent: %(phone)s is not a valid phone number for %(country)s."),
                {"phone": phone, "country": country},
            )
        targets.append(Target(Channel.WHATSAPP, number or phone, problem))
    return targets


PAY_LINK_KINDS = (Kind.INVOICE, Kind.REMINDER)
# What `_about` reads of a payment (True) or an invoice (False).
ABOUT_FIELDS = {True: ("amount", "paid_on"), False: ("total", "due_date", "paid_amount")}


def _about(kind: str, document) -> tuple:
    """The amount and day a message of this kind states about its invoice or payment."""
    if isinstance(document, Payment):
        return document.amount, document.paid_on
    if kind in (Kind.INVOICE, Kind.CFDI):
        return document.total, document.due_date
    return document.total - document.paid_amount, document.due_date


def _enqueue_batch(
    *, kind: str, pairs: list[tuple[int, int]], company, now, about_payment: bool = False
) -> int:
    is_receipt = kind == Kind.RECEIPT or about_payment
    field = "payment_id" if is_receipt else "invoice_id"
    model = Payment if is_receipt else Invoice
    # Clients with neither e-mail nor phone get nothing: a run over an ISP that keeps no
    # contacts reads one query per batch here, not the batch's documents.
    clients = {
        client.pk: client
        for client in Client.objects.exclude(email="", phone="")
        .filter(pk__in=among({client_id for client_id, _doc_id in pairs}))
        .only("id", "name", "email", "phone", "language", "state", "portal_links_revision")
    }
    if not clients:
        return 0
    pairs = [(client_id, doc_id) for client_id, doc_id in pairs if client_id in clients]
    client_ids, doc_ids = set(clients), {doc_id for _client_id, doc_id in pairs}
    existing = set(
        Message.objects.filter(kind=kind, **{f"{field}__in": among(doc_ids)}).values_list(
            field, "channel"
        )
    )
    documents = {
        document.pk: document
        for document in model.objects.filter(pk__in=among(doc_ids)).only(
            "client_id", *ABOUT_FIELDS[is_receipt]
        )
    }
    opted_out = set(
        OptOut.objects.filter(client_id__in=among(client_ids)).values_list("client_id", "channel")
    )
    off = {channel: off_reason(channel) for channel in Channel.values}
    # A message that asks for money carries a pay link when some gateway is on.
    gateways = gateways_on() if kind in PAY_LINK_KINDS else []
    rows = []
    for client_id, doc_id in pairs:
        client, document = clients.get(client_id), documents.get(doc_id)
        if client is None or document is None or document.client_id != client_id:
            continue
        targets = [
            t
            for t in client_targets(client, country=company.country, opted_out=opted_out, off=off)
            if (doc_id, t.channel) not in existing
            # A CFDI is its XML: it goes by e-mail (a WhatsApp template carries one file).
            and (kind != Kind.CFDI or t.channel == Channel.EMAIL)
        ]
        if not targets:
            continue
        amount, day = _about(kind, document)
        with translation.override(client.language):
            text = message_text(
                kind=kind,
                company_name=company.name,
                client_name=client.name,
                amount=amount,
                day=day,
                link=portal_link(client, company=company).url,
                instructions=company.payment_instructions,
                # Queued in the batch that cut: the state says what the cut did.
                throttled=kind == Kind.CUT and client.state == ClientState.THROTTLED,
                pay_link=portal_link(client, company=company, page="pay-page").url
                if gateways
                else "",
                gateways=", ".join(str(provider.label) for provider in gateways),
            )
        for target in targets:
            rows.append(
                Message(
                    client_id=client_id,
                    channel=target.channel,
                    kind=kind,
                    **{field: doc_id},
                    recipient=target.recipient[:254],
                    subject=text.subject,
                    body=text.body,
                    params=text.params,
                    language=client.language,
                    status=MessageStatus.FAILED if target.problem else MessageStatus.QUEUED,
                    **(target.problem.fields() if target.problem else {}),
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            existing.add((doc_id, target.channel))
    # A parallel run may have queued the same rows since the read above: the unique key
    # drops them here.
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    return sum(row.status == MessageStatus.QUEUED for row in rows)


def messages_enqueue_bulk(
    *, kind: str, items: Iterable[tuple[int, int]], now=None, about_payment: bool = False
) -> int:
    """Queue the `kind` message about each (client id, invoice id) pair — (client id, payment
    id) for receipts — on every channel the client can receive. A message that exists is
    left alone, so repeating a run queues nothing twice. A few queries per thousand pairs;
    sending starts after the commit. Returns how many messages were queued to be sent.
    `about_payment`: a CFDI message about a payment's CFDIs, not an invoice's."""
    if kind not in Kind.values:
        raise ValueError(kind)
    now = now or timezone.now()
    company = company_settings()
    queued = 0
    items = iter(items)
    while pairs := list(islice(items, BATCH)):
        queued += _enqueue_batch(
            kind=kind, pairs=pairs, company=company, now=now, about_payment=about_payment
        )
    if queued:
        transaction.on_commit(tasks.send_messages_task)
    return queued


def message_enqueue(
    *, client: Client, kind: str, invoice: Invoice | None = None, payment: Payment | None = None
) -> list[Message]:
    """Queue one message about an invoice (or, for a receipt, a payment) on every channel the
    client can receive; returns the client's messages about it."""
    document = payment if kind == Kind.RECEIPT else invoice
    if document is None:
        raise ValueError(_("A receipt is about a payment; other messages about an invoice."))
    messages_enqueue_bulk(kind=kind, items=[(client.pk, document.pk)])
    field = "payment" if kind == Kind.RECEIPT else "invoice"
    return list(Message.objects.filter(client=client, kind=kind, **{field: document}))


@transaction.atomic
def client_set_opt_out(*, actor, client: Client, channel: str, opted_out: bool) -> bool:
    """Stop (or resume) messages to a client over one channel; True when something changed."""
    require_permission(actor, MANAGE_CLIENTS)
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("Unknown channel.")]})
    if opted_out:
        changed = OptOut.objects.get_or_create(client=client, channel=channel)[1]
    else:
        changed = OptOut.objects.filter(client=client, channel=channel).delete()[0] > 0
    if changed:
        audit_record(
            actor=actor,
            action=AuditAction.MESSAGES_OPT_OUT,
            obj=client,
            changes={f"opt_out_{channel}": [not opted_out, opted_out]},
        )
    return changed


@transaction.atomic
def message_resend(*, actor, message: Message) -> Message:
    """Queue a message again ("reenviar"), to the client's address as it is now."""
    require_permission(actor, MANAGE_CLIENTS)
    message = Message.objects.select_for_update().select_related("client").get(pk=message.pk)
    if message.status == MessageStatus.QUEUED:
        raise ValidationError(_("This message is already waiting to be sent."))
    company = company_settings()
    off = {channel: off_reason(channel) for channel in Channel.values}
    opted_out = set(
        OptOut.objects.filter(client=message.client).values_list("client_id", "channel")
    )
    targets = client_targets(message.client, country=company.country, opted_out=opted_out, off=off)
    target = next((t for t in targets if t.channel == message.channel), None)
    if target is None:
        raise ValidationError(
            _("The client has no address for this channel, or asked not to be written to on it.")
        )
    if target.problem:
        raise ValidationError(str(target.problem))
    before = message.status
    message.recipient = target.recipient
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.last_error = ""
    message.error_args = {}
    message.next_attempt_at = timezone.now()
    message.claim = ""
    message.save()
    audit_record(
        actor=actor,
        action=AuditAction.MESSAGE_RESENT,
        obj=message.client,
        changes={"message": [message.pk, message.pk], "status": [before, message.status]},
    )
    transaction.on_commit(tasks.send_messages_task)
    return message


@transaction.atomic
def portal_link_create(*, actor, client: Client, request=None):
    """A signed link to the client's own page for staff to hand over; audited, since whoever
    holds it sees the client's account until it expires."""
    require_any_permission(actor, MANAGE_CLIENTS, REGISTER_PAYMENTS)
    link = portal_link(client, company=company_settings(), request=request)
    audit_record(
        actor=actor,
        action=AuditAction.PORTAL_LINK,
        obj=client,
        changes={"portal_link_expires_at": [None, link.expires_at.isoformat()]},
    )
    return link


@transaction.atomic
def portal_links_revoke(*, actor, client: Client) -> Client:
    """Every link to the client's page issued so far stops working (one handed to the wrong
    person, a phone lost); new links work again. Audited."""
    require_any_permission(actor, MANAGE_CLIENTS, REGISTER_PAYMENTS)
    client = locked(Client.objects).get(pk=client.pk)
    before = client.portal_links_revision
    client.portal_links_revision = before + 1
    client.save(update_fields=["portal_links_revision", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.PORTAL_LINKS_REVOKED,
        obj=client,
        changes={"portal_links_revision": [before, client.portal_links_revision]},
    )
    return client
