"""A payment request that may arrive twice makes one payment: a retry after a lost answer,
a double click, two tabs. The key is claimed by a unique constraint in the same transaction
as the payment, so two requests at once cannot both pay."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wispbill.billing.models import Payment, PaymentKey
from wispbill.billing.services.payments import payment_register
from wispbill.core.db import max_length_of

KEY_LIFETIME = timedelta(hours=24)
KEY_MAX_LENGTH = max_length_of(PaymentKey, "key")


class PaymentKeyReused(Exception):
    """The key already made a payment for another request."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This idempotency key was already used for a different payment request in "
                "the last 24 hours; send a new key for a new payment."
            )
        )


@dataclass(frozen=True)
class PaymentOnce:
    """The payment of a keyed request; `replayed` when an earlier request with the same key
    made it (then `status` and `body` are the answer that request got)."""

    payment: Payment
    replayed: bool
    status: int | None = None
    body: dict[str, Any] | None = None


def payment_key_check(key: str) -> str:
    """The key as given, or a ValidationError when it is empty, too long or not printable."""
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable() or not key.isascii():
        raise ValidationError(
            {
                "idempotency_key": [
                    _("The Idempotency-Key must be 1 to %(max)s printable ASCII characters.")
                    % {"max": KEY_MAX_LENGTH}
                ]
            }
        )
    return key


def request_fingerprint(data: Any) -> str:
    """What a request asked for, as a hash: its data as JSON with sorted keys (a form's
    fields as lists)."""
    plain = dict(data.lists()) if hasattr(data, "lists") else data
    text = json.dumps(plain, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def payment_register_once(
    *,
    actor: User,
    key: str,
    fingerprint: str,
    respond: Callable[[Payment], tuple[int, dict[str, Any]]] | None = None,
    **fields: Any,
) -> PaymentOnce:
    """`payment_register(**fields)` once per `actor` and `key` within 24 hours: a repeat of
    the same request (same `fingerprint`) gets the first one's payment and answer (`respond`
    makes it, inside the payment's transaction); another request with that key raises
    PaymentKeyReused. A request that fails claims nothing: its key can be sent again."""
    payment_key_check(key)
    now = timezone.now()
    # Expired keys are free again, and nobody needs their rows any more.
    PaymentKey.objects.filter(created_at__lte=now - KEY_LIFETIME).delete()
    if (earlier := _earlier(actor, key)) is not None:
        return _replay(earlier, fingerprint)
    try:
        with transaction.atomic():
            payment = payment_register(actor=actor, **fields)
            status, body = respond(payment) if respond else (None, None)
            PaymentKey.objects.create(
                user=actor,
                key=key,
                fingerprint=fingerprint,
                payment=payment,
                response_status=status,
                response_body=body,
                created_at=now,
            )
    except IntegrityError:
        # A request with the same key committed first: its payment stands, this one's is
        # rolled back with the failed claim.
        if (earlier := _earlier(actor, key)) is None:
            raise
        return _replay(earlier, fingerprint)
    return PaymentOnce(payment, replayed=False, status=status, body=body)


def _earlier(actor: User, key: str) -> PaymentKey | None:
    return PaymentKey.objects.select_related("payment").filter(user=actor, key=key).first()


def _replay(earlier: PaymentKey, fingerprint: str) -> PaymentOnce:
    if earlier.fingerprint != fingerprint:
        raise PaymentKeyReused
    return PaymentOnce(
        earlier.payment,
        replayed=True,
        status=earlier.response_status,
        body=earlier.response_body,
    )
