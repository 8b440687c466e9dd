"""Gateway notifications arriving together are acted on in batches: the webhook only keeps
what it verified, a drain takes every ready notification at once, reads each Mercado Pago
payment back once however often it was notified, and applies them all in one go, each gateway
payment once; a read-back that fails waits for a later drain without holding the others."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from tests.integration.test_gateways import (
    MP_TOKEN,
    _mp_notify,
    _session,
    _stripe_event,
    _stripe_post,
    gateways,  # noqa: F401 (the fixture)
)
from wispbill.billing.models import Invoice, Payment
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.clients.models import Client
from wispbill.payments.gateways import reference_of
from wispbill.payments.models import GatewayNotification, GatewayPayment
from wispbill.payments.notifications import gateway_notifications_drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue_held():
    """The queue keeps what is queued instead of running it: the notifications pile up as
    when they arrive faster than the worker takes them."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = False
    try:
        yield
    finally:
        HUEY.flush()
        HUEY.immediate = True


def _approved(httpserver, pay_id: str, client: Client, amount: str) -> None:
    httpserver.expect_request(
        f"/v1/payments/{pay_id}", method="GET", headers={"Authorization": f"Bearer {MP_TOKEN}"}
    ).respond_with_json(
        {
            "id": int(pay_id),
            "status": "approved",
            "transaction_amount": float(amount),
            "external_reference": reference_of(client.pk, None),
            "date_approved": timezone.now().isoformat(),
        }
    )


def _inserts_into(queries, table: str) -> int:
    return sum(1 for q in queries if q["sql"].upper().startswith(f'INSERT INTO "{table}"'.upper()))


def test_notifications_arriving_together_become_their_payments_in_one_batch(
    gateways,  # noqa: F811
    queue_held,
):
    zone, plan = ZoneFactory(), PlanFactory(price=Decimal("400.00"))
    clients = [ClientFactory(zone=zone, plan=plan) for _ in range(12)]
    for client in clients:
        invoice_create_for_cycle(actor=None, client=client)
    Client.objects.filter(pk__in=[c.pk for c in clients]).update(state="suspended")
    ids = [str(900_100 + n) for n in range(len(clients))]
    for pay_id, client in zip(ids, clients, strict=True):
        _approved(gateways, pay_id, client, "400.00")
    # A fifth more, repeated and out of order, as gateways deliver.
    sent = ids[::-1] + ids[:3] + ids[5:7]
    for n, pay_id in enumerate(sent):
        assert _mp_notify(pay_id, request_id=f"r-{n}").status_code == 200
    assert Payment.objects.count() == 0  # answered; nothing applied yet
    assert GatewayNotification.objects.count() == len(sent)
    # One drain queued for the wave: the later ones wait for the drain the first one queued.
    from huey.contrib.djhuey import HUEY

    assert HUEY.pending_count() == 1

    with CaptureQueriesContext(connection) as queries:
        drained = gateway_notifications_drain()
    assert drained.taken == len(sent) and not drained.more
    # One read-back per payment, not per notification.
    reads = [r for r, _ in gateways.log if r.path.startswith("/v1/payments/")]
    assert sorted(r.path.rsplit("/", 1)[1] for r in reads) == sorted(ids)
    # One batch: one insert of the payments for all of them.
    assert _inserts_into(queries.captured_queries, "billing_payment") == 1
    payments = Payment.objects.filter(method="mercadopago")
    assert sorted(payments.values_list("reference", flat=True)) == sorted(ids)
    for pay_id, client in zip(ids, clients, strict=True):
        client.refresh_from_db()
        assert client.state == "active", "paid by the counter's rule: reactivated"
        assert Invoice.objects.get(client=client).status == "paid"
        assert payments.get(reference=pay_id).client_id == client.pk
    assert not GatewayNotification.objects.exists()

    # The same payments notified again, in a later batch: nothing more.
    for n, pay_id in enumerate(ids[:4]):
        assert _mp_notify(pay_id, request_id=f"again-{n}").status_code == 200
    assert gateway_notifications_drain().taken == 4
    assert payments.count() == len(ids)
    assert GatewayPayment.objects.filter(status="applied").count() == len(ids)


def test_a_read_back_that_fails_waits_without_holding_the_others(
    gateways,  # noqa: F811
    queue_held,
):
    plan = PlanFactory(price=Decimal("400.00"))
    ana, bea = ClientFactory(plan=plan), ClientFactory(plan=plan)
    _approved(gateways, "910001", ana, "400.00")
    gateways.expect_request("/v1/payments/910002").respond_with_data("down", status=503)
    assert _mp_notify("910001").status_code == 200
    assert _mp_notify("910002").status_code == 200

    drained = gateway_notifications_drain()
    assert drained.taken == 2 and drained.retry_at is not None
    assert list(Payment.objects.values_list("reference", flat=True)) == ["910001"]
    waiting = GatewayNotification.objects.get()
    assert (waiting.gateway_id, waiting.attempts, waiting.claim) == ("910002", 1, "")
    assert waiting.due_at > timezone.now()
    assert gateway_notifications_drain().taken == 0  # not due yet

    gateways.clear()
    _approved(gateways, "910002", bea, "250.00")
    GatewayNotification.objects.update(due_at=timezone.now())
    assert gateway_notifications_drain().taken == 1
    assert sorted(Payment.objects.values_list("reference", "amount")) == [
        ("910001", Decimal("400.00")),
        ("910002", Decimal("250.00")),
    ]


def test_stripe_events_in_one_batch_pay_once_and_a_refund_among_them_means_no_payment(
    gateways,  # noqa: F811
    queue_held,
):
    plan = PlanFactory(price=Decimal("400.00"))
    ana, bea = ClientFactory(plan=plan), ClientFactory(plan=plan)
    for client in (ana, bea):
        invoice_create_for_cycle(actor=None, client=client)
    paid = _stripe_event("checkout.session.completed", _session(ana, "pi_a", 40_000))
    other = _stripe_event("checkout.session.completed", _session(bea, "pi_b", 40_000))
    refund = _stripe_event(
        "charge.refunded", {"id": "ch_b", "payment_intent": "pi_b", "refunded": True}
    )
    ignored = _stripe_event("customer.created", {"id": "cus_1"})
    for body in (paid, refund, paid, other, ignored, other):
        assert _stripe_post(body).status_code == 200
    assert GatewayNotification.objects.count() == 5  # the event it does not act on: not kept
    assert gateway_notifications_drain().taken == 5
    assert list(Payment.objects.values_list("reference", "client_id", "status")) == [
        ("pi_a", ana.pk, "applied")
    ]
    assert dict(GatewayPayment.objects.values_list("gateway_id", "status")) == {
        "pi_a": "applied",
        "pi_b": "reversed",
    }
    bea.refresh_from_db()
    assert bea.credit == 0 and Invoice.objects.get(client=bea).status == "pending"
