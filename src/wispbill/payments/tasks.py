"""Queue tasks: a verified gateway notification is acted on after the webhook has answered."""

import logging
from typing import Any

from huey.contrib.djhuey import db_task

from wispbill.payments.gateway_services import gateway_event_apply
from wispbill.payments.gateways import (
    GatewayError,
    gateway,
    mercadopago_payment,
    stripe_event,
)
from wispbill.payments.models import Provider

logger = logging.getLogger(__name__)


# Mercado Pago unreachable: try again, spaced out, for about an hour.
@db_task(retries=6, retry_delay=600)
def mercadopago_notification_task(payment_id: str) -> None:
    """Read the payment back from Mercado Pago and act on what it says."""
    settings = gateway(Provider.MERCADOPAGO)
    if settings is None:
        return
    try:
        event = mercadopago_payment(settings, payment_id)
    except GatewayError:
        logger.warning("Mercado Pago payment %s could not be read back; retrying", payment_id)
        raise
    if event is not None:
        gateway_event_apply(event)


@db_task()
def stripe_event_task(event: dict[str, Any]) -> None:
    """Act on a Stripe event whose signature was verified."""
    found = stripe_event(event)
    if found is not None:
        gateway_event_apply(found)
