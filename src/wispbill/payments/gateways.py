"""The one adapter to the online gateways, Mercado Pago and Stripe: which are on, the pay links
they make, the signatures of their webhooks, and what a notification says. Secrets come from
the environment only and never reach a URL, a log line or an error message."""

import hashlib
import hmac
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from wispbill.core.clock import day_of
from wispbill.payments.models import Provider

logger = logging.getLogger(__name__)

TIMEOUT = 15  # seconds for each call to a gateway
# Stripe's own tolerance: an older signed event is a replay, refused.
STRIPE_TOLERANCE_SECONDS = 5 * 60
# A notification is a few kilobytes; anything this large is not one.
WEBHOOK_MAX_BYTES = 256 * 1024
GATEWAY_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
REFERENCE = re.compile(r"^wispbill:client=(?P<client>[0-9]{1,18})(?:;invoice=[0-9]{1,18})?$")


class GatewayError(Exception):
    """A gateway could not be reached or refused a request; the message is for people and
    holds no secret."""


class SignatureError(Exception):
    """A webhook whose signature is missing, forged or stale."""


@dataclass(frozen=True)
class Gateway:
    provider: Provider
    api_url: str
    secret: str  # the access token / secret key: only ever in an Authorization header
    webhook_secret: str


def gateway(provider: str) -> Gateway | None:
    """The gateway's settings, or None when it is off (its secrets are not set)."""
    if provider == Provider.MERCADOPAGO:
        found = Gateway(
            Provider.MERCADOPAGO,
            settings.WISPBILL_MERCADOPAGO_API_URL.rstrip("/"),
            settings.WISPBILL_MERCADOPAGO_ACCESS_TOKEN,
            settings.WISPBILL_MERCADOPAGO_WEBHOOK_SECRET,
        )
    elif provider == Provider.STRIPE:
        found = Gateway(
            Provider.STRIPE,
            settings.WISPBILL_STRIPE_API_URL.rstrip("/"),
            settings.WISPBILL_STRIPE_SECRET_KEY,
            settings.WISPBILL_STRIPE_WEBHOOK_SECRET,
        )
    else:
        return None
    return found if found.secret and found.webhook_secret else None


def gateways_on() -> list[Provider]:
    """The gateways a client may be offered, in the order the pages show them."""
    return [provider for provider in Provider if gateway(provider) is not None]


def reference_of(client_id: int, invoice_id: int | None) -> str:
    """What a pay link carries back to us: the client and, when it pays one, the invoice."""
    invoice = f";invoice={invoice_id}" if invoice_id else ""
    return f"wispbill:client={client_id}{invoice}"


def client_of_reference(text: str | None) -> int | None:
    match = REFERENCE.match(text or "")
    return int(match["client"]) if match else None


# --- pay links -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRequest:
    client_id: int
    invoice_id: int | None
    amount: Decimal
    title: str  # what the client sees at the checkout
    email: str
    webhook_url: str  # this installation's webhook for the gateway
    return_url: str  # where the client comes back to (its own page), or ""


def _call(gw: Gateway, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    name = gw.provider.label
    try:
        response = requests.request(
            method,
            f"{gw.api_url}{path}",
            headers={"Authorization": f"Bearer {gw.secret}"},
            timeout=TIMEOUT,
            **kwargs,
        )
    except requests.RequestException as exc:
        # The exception's text may carry the URL, never the header: still, name only its kind.
        logger.warning("%s could not be reached: %s", name, type(exc).__name__)
        raise GatewayError(
            _("%(gateway)s could not be reached; try again in a moment.") % {"gateway": name}
        ) from None
    if response.status_code >= 400:
        logger.warning("%s answered %s to %s %s", name, response.status_code, method, path)
        raise GatewayError(
            _("%(gateway)s refused the request (HTTP %(status)s).")
            % {"gateway": name, "status": response.status_code}
        )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise GatewayError(_("%(gateway)s answered something unexpected.") % {"gateway": name})
    return answer


def _answer_url(gw: Gateway, answer: dict[str, Any], key: str) -> str:
    url = answer.get(key)
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise GatewayError(_("%(gateway)s gave no payment page.") % {"gateway": gw.provider.label})
    return url


def mercadopago_link(gw: Gateway, ask: LinkRequest) -> str:
    """A Checkout Pro preference for the amount; its `init_point` is the link."""
    body = {
        "items": [
            {
                "id": str(ask.invoice_id or ask.client_id),
                "title": ask.title[:250],
                "quantity": 1,
                "currency_id": "MXN",
                "unit_price": float(ask.amount),
            }
        ],
        "external_reference": reference_of(ask.client_id, ask.invoice_id),
        "notification_url": ask.webhook_url,
        "metadata": {"client": ask.client_id, "invoice": ask.invoice_id},
    }
    if ask.email:
        body["payer"] = {"email": ask.email}
    if ask.return_url:
        body["back_urls"] = {key: ask.return_url for key in ("success", "pending", "failure")}
    return _answer_url(gw, _call(gw, "POST", "/checkout/preferences", json=body), "init_point")


def stripe_link(gw: Gateway, ask: LinkRequest) -> str:
    """A Checkout Session (mode payment, pesos, card or OXXO); its `url` is the link."""
    metadata = {"client": str(ask.client_id), "invoice": str(ask.invoice_id or "")}
    form = {
        "mode": "payment",
        "currency": "mxn",
        "payment_method_types[0]": "card",
        "payment_method_types[1]": "oxxo",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "mxn",
        "line_items[0][price_data][unit_amount]": str(int(ask.amount * 100)),
        "line_items[0][price_data][product_data][name]": ask.title[:250],
        "client_reference_id": reference_of(ask.client_id, ask.invoice_id),
        "success_url": ask.return_url or ask.webhook_url,
        "cancel_url": ask.return_url or ask.webhook_url,
    }
    for key, value in metadata.items():
        form[f"metadata[{key}]"] = value
        # The charge's refund names its payment intent: it carries the client too.
        form[f"payment_intent_data[metadata][{key}]"] = value
    if ask.email:
        form["customer_email"] = ask.email
    return _answer_url(gw, _call(gw, "POST", "/v1/checkout/sessions", data=form), "url")


LINK_MAKERS = {Provider.MERCADOPAGO: mercadopago_link, Provider.STRIPE: stripe_link}


# --- webhooks --------------------------------------------------------------------------------


def _signature_parts(header: str) -> dict[str, list[str]]:
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        if value:
            parts.setdefault(key.strip(), []).append(value.strip())
    return parts


def _hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def mercadopago_verify(gw: Gateway, *, signature: str, request_id: str, data_id: str) -> None:
    """Mercado Pago's `x-signature` (`ts=TS,v1=HEX`): HMAC-SHA256 with the webhook secret of
    `id:{data.id};request-id:{x-request-id};ts:{TS};`."""
    parts = _signature_parts(signature)
    ts, sent = parts.get("ts", [""])[0], parts.get("v1", [])
    if not ts or not sent or not data_id:
        raise SignatureError("incomplete signature")
    # Mercado Pago signs an alphanumeric id in lower case.
    manifest = f"id:{data_id.lower()};request-id:{request_id};ts:{ts};"
    expected = _hmac(gw.webhook_secret, manifest)
    if not any(hmac.compare_digest(expected, value.lower()) for value in sent):
        raise SignatureError("signature does not match")


def stripe_verify(gw: Gateway, *, signature: str, body: bytes, now: float | None = None) -> None:
    """Stripe's `Stripe-Signature` (`t=TS,v1=HEX`): HMAC-SHA256 of `{TS}.{raw body}`, at most
    five minutes old."""
    parts = _signature_parts(signature)
    ts, sent = parts.get("t", [""])[0], parts.get("v1", [])
    if not ts.isdigit() or not sent:
        raise SignatureError("incomplete signature")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise SignatureError("body is not text") from None
    expected = _hmac(gw.webhook_secret, f"{ts}.{text}")
    if not any(hmac.compare_digest(expected, value.lower()) for value in sent):
        raise SignatureError("signature does not match")
    now = time.time() if now is None else now
    if abs(now - int(ts)) > STRIPE_TOLERANCE_SECONDS:
        raise SignatureError("stale signature")


class EventKind:
    PAID = "paid"
    REVERSED = "reversed"


@dataclass(frozen=True)
class GatewayEvent:
    """What a notification means for wispbill: a payment that was paid, or taken back."""

    provider: Provider
    kind: str  # EventKind
    gateway_id: str
    client_id: int | None = None
    amount: Decimal | None = None
    paid_on: date | None = None
    what: str = ""  # the gateway's own words (a status, an event type), for people


def _day(moment: datetime | None) -> date:
    """The ISP's day of a gateway's timestamp (now when it gave none)."""
    return day_of(moment)


def _money(value: object) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount.quantize(Decimal("0.01")) if amount.is_finite() else None


def mercadopago_payment(gw: Gateway, payment_id: str) -> GatewayEvent | None:
    """Read the payment back from Mercado Pago (the notification itself is never trusted) and
    say what it means; None for a status that neither pays nor takes back."""
    if not GATEWAY_ID.match(payment_id):
        return None
    found = _call(gw, "GET", f"/v1/payments/{payment_id}")
    status = found.get("status")
    if status == "approved":
        kind = EventKind.PAID
    elif status in ("refunded", "charged_back"):
        kind = EventKind.REVERSED
    else:
        return None
    approved = found.get("date_approved")
    try:
        moment = datetime.fromisoformat(approved) if isinstance(approved, str) else None
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    amount = _money(found.get("transaction_amount"))
    if kind == EventKind.PAID and amount is None:
        # Paid, but for no amount wispbill can read: a person looks at it in Mercado Pago.
        logger.warning("Mercado Pago payment %s is approved with no amount", payment_id)
        return None
    return GatewayEvent(
        provider=Provider.MERCADOPAGO,
        kind=kind,
        gateway_id=str(found.get("id") or payment_id),
        client_id=client_of_reference(found.get("external_reference")),
        amount=amount,
        paid_on=_day(moment),
        what=str(status),
    )


STRIPE_PAID = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


def _client_id(metadata: object) -> int | None:
    value = metadata.get("client") if isinstance(metadata, dict) else None
    return int(value) if isinstance(value, str | int) and str(value).isdigit() else None


def stripe_event(event: dict[str, Any]) -> GatewayEvent | None:
    """What a signed Stripe event means; None for the events wispbill does not act on."""
    kind = event.get("type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        return None
    created = event.get("created")
    moment = datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None
    if kind in STRIPE_PAID:
        if obj.get("payment_status") != "paid":
            return None  # OXXO: the voucher was made; its payment comes days later
        gateway_id = obj.get("payment_intent") or obj.get("id")
        cents = obj.get("amount_total")
        if not isinstance(gateway_id, str) or not isinstance(cents, int):
            return None
        return GatewayEvent(
            provider=Provider.STRIPE,
            kind=EventKind.PAID,
            gateway_id=gateway_id,
            client_id=_client_id(obj.get("metadata")),
            amount=Decimal(cents) / 100,
            paid_on=_day(moment),
            what=kind,
        )
    if kind == "charge.refunded":
        if obj.get("refunded") is False:
            # Part of the charge was refunded: a person decides what that means.
            logger.warning("Stripe refunded part of %s; nothing was reversed", obj.get("id"))
            return None
        gateway_id = obj.get("payment_intent") or obj.get("id")
        if not isinstance(gateway_id, str):
            return None
        return GatewayEvent(
            provider=Provider.STRIPE,
            kind=EventKind.REVERSED,
            gateway_id=gateway_id,
            client_id=_client_id(obj.get("metadata")),
            what=kind,
        )
    return None
