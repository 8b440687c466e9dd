"""The gateways' webhooks: verified first, answered at once, acted on by the task queue. They
are the only views without the CSRF check: a gateway has no session, its signature is the
proof. A refusal says little (which secret failed is nobody's business) and changes nothing."""

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wispbill.payments.gateways import (
    GATEWAY_ID,
    WEBHOOK_MAX_BYTES,
    Gateway,
    SignatureError,
    gateway,
    mercadopago_verify,
    stripe_event,
    stripe_verify,
)
from wispbill.payments.models import Provider
from wispbill.payments.notifications import gateway_notification_keep
from wispbill.payments.tasks import gateway_notifications_task

logger = logging.getLogger(__name__)


def _refused(status: int, message: str) -> HttpResponse:
    return JsonResponse({"error": message}, status=status)


def _body(request: HttpRequest) -> bytes | None:
    """The raw body, or None when it is larger than any notification."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if declared > WEBHOOK_MAX_BYTES:
        return None
    body = request.read(WEBHOOK_MAX_BYTES + 1)
    return body if len(body) <= WEBHOOK_MAX_BYTES else None


def _arrived(request: HttpRequest, provider: Provider) -> tuple[Gateway, bytes] | HttpResponse:
    """The gateway's settings and the raw body, or a refusal in their place: the gateway
    is off, or the body is larger than any notification."""
    settings = gateway(provider)
    if settings is None:
        return _refused(404, "not enabled")
    body = _body(request)
    if body is None:
        return _refused(413, "too large")
    return settings, body


@csrf_exempt
@require_POST
def mercadopago_webhook(request: HttpRequest) -> HttpResponse:
    """Mercado Pago's notification: `x-signature` checked, the payment read back later."""
    arrived = _arrived(request, Provider.MERCADOPAGO)
    if isinstance(arrived, HttpResponse):
        return arrived
    settings, body = arrived
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        payload = {}
    data = payload.get("data") if isinstance(payload, dict) else None
    data_id = request.GET.get("data.id") or (
        str(data.get("id", "")) if isinstance(data, dict) else ""
    )
    kind = request.GET.get("type") or (payload.get("type") if isinstance(payload, dict) else "")
    try:
        mercadopago_verify(
            settings,
            signature=request.headers.get("x-signature", ""),
            request_id=request.headers.get("x-request-id", ""),
            data_id=data_id,
        )
    except SignatureError as exc:
        logger.warning("Mercado Pago webhook refused: %s", exc)
        return _refused(401, "invalid signature")
    kept = kind == "payment" and GATEWAY_ID.match(data_id)
    if kept and gateway_notification_keep(Provider.MERCADOPAGO, data_id):
        gateway_notifications_task()
    return JsonResponse({"received": True})


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """A Stripe event: `Stripe-Signature` checked over the raw body; the event is trusted."""
    arrived = _arrived(request, Provider.STRIPE)
    if isinstance(arrived, HttpResponse):
        return arrived
    settings, body = arrived
    try:
        stripe_verify(settings, signature=request.headers.get("Stripe-Signature", ""), body=body)
    except SignatureError as exc:
        logger.warning("Stripe webhook refused: %s", exc)
        return _refused(401, "invalid signature")
    try:
        event = json.loads(body)
    except ValueError:
        return _refused(400, "not JSON")
    if not isinstance(event, dict):
        return _refused(400, "not an event")
    # Kept only when it pays or takes back (read as the drain will read it).
    found = stripe_event(event)
    if found is not None and gateway_notification_keep(Provider.STRIPE, found.gateway_id, event):
        gateway_notifications_task()
    return JsonResponse({"received": True})
