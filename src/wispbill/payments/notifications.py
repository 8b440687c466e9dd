"""Verified gateway notifications, kept until the queue acts on them, and taken in batches: a
drain claims every ready notification at once, reads back what it must (Mercado Pago's
payment, once per payment however often it was notified; Stripe's signed event as it came),
and applies all of them in one `gateway_events_apply`. A read-back that fails or is slow
leaves its notification for a later drain; the others go on."""

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from wispbill.payments.gateway_services import gateway_events_apply
from wispbill.payments.gateways import (
    GatewayError,
    GatewayEvent,
    gateway,
    mercadopago_payment,
    stripe_event,
)
from wispbill.payments.models import GatewayNotification, Provider

logger = logging.getLogger(__name__)

DRAIN_BATCH = 1_000  # notifications one drain takes
LEASE = timedelta(minutes=10)  # a drain that died lets go of its notifications after this
READERS = 8  # Mercado Pago read-backs at once
READ_BACK_WAIT = 20.0  # seconds a drain waits for its read-backs; the slower ones wait a turn
GIVE_UP_AFTER = 8  # tries of a read-back, spaced out over about an hour and a half
BACK_OFF = timedelta(minutes=1)  # doubled after each failed try, at most ...
BACK_OFF_MAX = timedelta(minutes=20)


def gateway_notification_keep(provider: Provider, gateway_id: str, event: Any = None) -> bool:
    """Keep a verified notification for the queue (the webhook answers right after). Returns
    whether a drain must be queued for it: not when an older one is still waiting untaken,
    since the drain queued for that one takes this one too (or, having taken its batch just
    before, sees this one when it looks for more)."""
    now = timezone.now()
    note = GatewayNotification.objects.create(
        provider=provider, gateway_id=gateway_id[:100], event=event, due_at=now
    )
    waiting = GatewayNotification.objects.filter(
        pk__lt=note.pk, given_up=False, claimed_until__isnull=True, due_at__lte=now
    )
    return not waiting.exists()


def _ready(now: datetime) -> "Q":
    return Q(given_up=False, due_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def _claim(now: datetime) -> list[GatewayNotification]:
    """Take up to DRAIN_BATCH ready notifications, oldest first, for this drain alone:
    PostgreSQL skips the rows another drain is taking; SQLite has one writer at a time."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        ready = GatewayNotification.objects.filter(_ready(now)).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            ready = ready.select_for_update(skip_locked=True)
        ids = list(ready.values_list("id", flat=True)[:DRAIN_BATCH])
        if not ids:
            return []
        GatewayNotification.objects.filter(_ready(now), pk__in=ids).update(
            claim=token, claimed_until=now + LEASE
        )
    return list(GatewayNotification.objects.filter(claim=token).order_by("id"))


@dataclass
class _Read:
    events: list[GatewayEvent] = field(default_factory=list)
    done: list[int] = field(default_factory=list)  # notifications read (acted on or not)
    failed: list[int] = field(default_factory=list)  # to try again later


def _read_back(taken: list[GatewayNotification]) -> _Read:
    """What each notification says, in arrival order; a Mercado Pago payment is read back
    once however many of its notifications were taken."""
    read = _Read()
    mp = gateway(Provider.MERCADOPAGO)
    wanted = sorted({n.gateway_id for n in taken if n.provider == Provider.MERCADOPAGO})
    found: dict[str, GatewayEvent | None] = {}
    if mp is not None and wanted:
        pool = ThreadPoolExecutor(min(READERS, len(wanted)))
        futures = {pool.submit(mercadopago_payment, mp, pay_id): pay_id for pay_id in wanted}
        finished, _late = wait(futures, timeout=READ_BACK_WAIT)
        pool.shutdown(wait=False, cancel_futures=True)
        for future in finished:
            try:
                found[futures[future]] = future.result()
            except GatewayError:
                logger.warning("Mercado Pago payment %s could not be read back", futures[future])
    read_once: set[str] = set()
    for note in taken:
        if note.provider == Provider.MERCADOPAGO:
            if mp is None:
                read.done.append(note.pk)  # the gateway was turned off: nothing to act on
            elif note.gateway_id in read_once:
                read.done.append(note.pk)  # the same payment, notified again: read once
            elif note.gateway_id not in found:
                read.failed.append(note.pk)
            else:
                read.done.append(note.pk)
                read_once.add(note.gateway_id)
                if (event := found[note.gateway_id]) is not None:
                    read.events.append(event)
        else:
            # Stripe's event was verified when it came: it is trusted as it is.
            read.done.append(note.pk)
            event = stripe_event(note.event) if isinstance(note.event, dict) else None
            if event is not None:
                read.events.append(event)
    return read


def _try_later(ids: list[int], now: datetime) -> datetime | None:
    """Let go of notifications to try again, later each time; kept untaken after too many.
    Returns when the first of them is due again."""
    due = []
    for note in GatewayNotification.objects.filter(pk__in=ids):
        note.attempts += 1
        note.claim, note.claimed_until = "", None
        note.due_at = now + min(BACK_OFF * 2 ** (note.attempts - 1), BACK_OFF_MAX)
        if note.attempts >= GIVE_UP_AFTER:
            note.given_up = True
            logger.error(
                "%s notification %s given up after %s tries; look at it in the gateway",
                note.provider,
                note.gateway_id,
                note.attempts,
            )
        else:
            due.append(note.due_at)
        note.save(update_fields=["attempts", "claim", "claimed_until", "due_at", "given_up"])
    return min(due, default=None)


def _apply(read: _Read, taken: list[GatewayNotification], now: datetime) -> list[int]:
    """Apply the batch at once, and take its notifications away in the same transaction; when
    one event of it cannot be applied, each goes on its own, so only that one waits for a
    later try. Returns the notifications to try again."""
    try:
        with transaction.atomic():
            gateway_events_apply(read.events)
            GatewayNotification.objects.filter(pk__in=read.done).delete()
        return []
    except Exception:
        logger.exception("a batch of gateway payments failed; applying them one by one")
    retry = []
    by_key: dict[tuple[str, str], list[int]] = {}
    for note in taken:
        if note.pk in read.done:
            by_key.setdefault((note.provider, note.gateway_id), []).append(note.pk)
    for event in read.events:
        ids = by_key.pop((event.provider.value, event.gateway_id), [])
        try:
            with transaction.atomic():
                gateway_events_apply([event])
                GatewayNotification.objects.filter(pk__in=ids).delete()
        except Exception:
            logger.exception("%s payment %s could not be applied", event.provider, event.gateway_id)
            retry += ids
    leftover = [pk for ids in by_key.values() for pk in ids]
    GatewayNotification.objects.filter(pk__in=leftover).delete()  # nothing to act on
    return retry


@dataclass(frozen=True)
class Drained:
    taken: int
    retry_at: datetime | None  # when a notification this drain let go of is due again
    more: bool  # ready notifications beyond this batch


def gateway_notifications_drain() -> Drained:
    """Take every ready notification (up to DRAIN_BATCH) and act on all of them at once."""
    now = timezone.now()
    taken = _claim(now)
    retry_at = None
    if taken:
        read = _read_back(taken)
        retry = read.failed + _apply(read, taken, now)
        if retry:
            retry_at = _try_later(retry, timezone.now())
    more = bool(taken) and GatewayNotification.objects.filter(_ready(timezone.now())).exists()
    return Drained(taken=len(taken), retry_at=retry_at, more=more)
