"""Gateway payments at speed, through the product's own task consumer (`wispbill worker`, one
worker) and a local stand-in for Mercado Pago's API:

- webhook to router: N cut clients of a router behind the RouterOS emulator (50 ms round trip)
  pay at once; each signed notification is answered, read back from the stand-in, paid by the
  counter's rule, and the client's address leaves the router's cut list. Timed per payment,
  from the webhook's answer to the address gone from the emulator.
- notifications: M notifications of the built ISP's clients, a fifth of them repeated and all
  shuffled; timed until the queue has made each payment once.

Both commit (the consumer is another process) and take away what they made."""

import hashlib
import hmac
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.db import connection
from django.test import Client as Browser
from django.utils import timezone

from wispbill.audit.models import AuditEvent
from wispbill.billing.models import Invoice, Payment, PaymentAllocation
from wispbill.clients.enforcement import router_reconcile
from wispbill.clients.models import Client, ClientState, Plan, SuspensionReason
from wispbill.core.clock import today
from wispbill.core.db import among
from wispbill.devtools.benchmarks.common import PREFIX, emulated_router, overdue_invoice
from wispbill.devtools.emulator import RouterOSEmulator
from wispbill.messaging.models import Message
from wispbill.network.models import Router, Zone
from wispbill.payments.gateways import reference_of
from wispbill.payments.models import GatewayPayment

SECRET = "bench-webhook-secret"
TOKEN = "APP_USR-bench"
PRICE = Decimal("399.00")
STARTUP_SECONDS = 4  # the consumer's start (Django, the queue) is not the payments'
DEADLINE_SECONDS = 600
ROUTER = f"{PREFIX}webhooks"


class MercadoPagoStandIn:
    """GET /v1/payments/{id}: the approved payments the benchmark made, by id."""

    def __init__(self):
        self.payments: dict[str, dict] = {}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                found = stand_in.payments.get(self.path.rsplit("/", 1)[-1])
                if self.headers.get("Authorization") != f"Bearer {TOKEN}" or found is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                body = json.dumps(found).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def approve(self, pay_id: str, client_id: int, invoice_id: int | None) -> None:
        self.payments[pay_id] = {
            "id": int(pay_id),
            "status": "approved",
            "transaction_amount": float(PRICE),
            "external_reference": reference_of(client_id, invoice_id),
            "date_approved": timezone.now().isoformat(),
        }

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _gateway_on(url: str) -> dict:
    """Mercado Pago on, pointed at the stand-in, here and in the consumer's environment."""
    values = {
        "WISPBILL_MERCADOPAGO_ACCESS_TOKEN": TOKEN,
        "WISPBILL_MERCADOPAGO_WEBHOOK_SECRET": SECRET,
        "WISPBILL_MERCADOPAGO_API_URL": url,
    }
    before = {name: getattr(settings, name) for name in values}
    for name, value in values.items():
        setattr(settings, name, value)
    return before


def _notify(browser: Browser, pay_id: str, request_id: str) -> int:
    """A notification signed as Mercado Pago signs it; returns the answer's status."""
    ts = str(int(time.time() * 1000))
    manifest = f"id:{pay_id};request-id:{request_id};ts:{ts};"
    signature = hmac.new(SECRET.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    body = json.dumps({"action": "payment.created", "type": "payment", "data": {"id": pay_id}})
    return browser.post(
        f"/webhooks/mercadopago/?data.id={pay_id}&type=payment",
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=f"ts={ts},v1={signature}",
        HTTP_X_REQUEST_ID=request_id,
    ).status_code


def _consumer() -> subprocess.Popen:
    env = {
        **os.environ,
        "WISPBILL_MERCADOPAGO_ACCESS_TOKEN": TOKEN,
        "WISPBILL_MERCADOPAGO_WEBHOOK_SECRET": SECRET,
        "WISPBILL_MERCADOPAGO_API_URL": settings.WISPBILL_MERCADOPAGO_API_URL,
    }
    command = [sys.executable, "-m", "wispbill.cli", "worker", "--no-periodic", "--workers", "1"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(STARTUP_SECONDS)
    if process.poll() is not None:
        raise RuntimeError("the task consumer did not start")
    return process


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=60)


def _queue_empty() -> None:
    from huey.contrib.djhuey import HUEY

    HUEY.flush()


def _forget(payments) -> None:
    """Take away the payments a part made and what hangs from them."""
    ids = list(payments.values_list("id", flat=True))
    clients = list(payments.values_list("client_id", flat=True).distinct())
    GatewayPayment.objects.all().delete()
    Message.objects.filter(payment_id__in=among(ids)).delete()
    PaymentAllocation.objects.filter(payment_id__in=among(ids)).delete()
    Payment.objects.filter(pk__in=among(ids)).delete()
    Client.objects.filter(pk__in=among(clients)).update(credit=Decimal("0.00"))
    AuditEvent.objects.filter(object_type="client", object_id__in=among(clients)).delete()


def _cut_clients(zone: Zone, count: int) -> list[tuple[int, int, str | None]]:
    """`count` clients of the zone, each cut for an invoice overdue a week; (client, invoice,
    address) of each."""
    plan = Plan.objects.filter(name__startswith=PREFIX).first()
    day = today()
    clients = Client.objects.bulk_create(
        Client(
            name=f"Pago en línea {n}",
            ip=f"172.30.{n // 250}.{n % 250 + 1}",
            zone=zone,
            plan=plan,
            state=ClientState.SUSPENDED,
            suspension_reason=SuspensionReason.AUTOMATIC,
            suspended_on=day - timedelta(days=7),
            auto_activate_on_payment=True,
        )
        for n in range(count)
    )
    invoices = Invoice.objects.bulk_create(
        overdue_invoice(client, day, PRICE, cut_on=day - timedelta(days=7)) for client in clients
    )
    return [(c.pk, i.pk, c.ip) for c, i in zip(clients, invoices, strict=True)]


def _one_wave(emulator, router: Router, stand_in, cut: list, wave: int) -> list[float]:
    """The clients pay at once; seconds from each webhook's answer to its address gone."""
    cut_list = router.cut_list
    answered: dict[str, float] = {}
    gone: dict[str, float] = {}
    ids = {}
    for n, (client_id, invoice_id, ip) in enumerate(cut):
        pay_id = str(70_000_000 + wave * 100_000 + n)
        stand_in.approve(pay_id, client_id, invoice_id)
        ids[pay_id] = ip
    waiting = set(ids.values())
    done = threading.Event()

    def watch():
        while waiting and not done.is_set():
            with emulator.lock:
                held = {
                    row.get("address")
                    for row in emulator.address_list.rows.values()
                    if row.get("list") == cut_list
                }
            now = time.perf_counter()
            for ip in [ip for ip in waiting if ip not in held]:
                gone[ip] = now
                waiting.discard(ip)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    def send(pay_id: str) -> None:
        status = _notify(Browser(SERVER_NAME="localhost"), pay_id, f"bench-{pay_id}")
        if status != 200:
            raise RuntimeError(f"the webhook answered {status}")
        answered[ids[pay_id]] = time.perf_counter()

    try:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(send, ids))
        watcher.join(DEADLINE_SECONDS)
    finally:
        done.set()
    if waiting:
        raise RuntimeError(f"{len(waiting)} addresses never left the cut list")
    return [gone[ip] - answered[ip] for ip in ids.values()]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def time_webhook_to_router(*, payments: int, rtt: float, repeat: int) -> dict:
    """p95 and median from a verified webhook to the client's address off the cut list."""
    if connection.in_atomic_block:
        raise RuntimeError("the webhook part needs committed data the consumer can see")
    emulator = RouterOSEmulator(username="bench", password="bench", rtt=rtt).start()
    stand_in = MercadoPagoStandIn()
    before = _gateway_on(stand_in.url)
    waits, p95s = [], []
    try:
        with stand_in:
            router, zone = emulated_router(emulator.port, ROUTER)
            for wave in range(repeat):
                _forget(Payment.objects.filter(client__zone=zone))
                Invoice.objects.filter(client__zone=zone).delete()
                Client.objects.filter(zone=zone).delete()
                cut = _cut_clients(zone, payments)
                router_reconcile(router)
                Router.objects.filter(pk=router.pk).update(needs_sync=False)
                _queue_empty()
                consumer = _consumer()
                try:
                    seconds = _one_wave(emulator, router, stand_in, cut, wave)
                finally:
                    _stop(consumer)
                paid = Payment.objects.filter(client__zone=zone, method="mercadopago")
                if paid.count() != payments:
                    raise RuntimeError("a payment was lost or made twice")
                waits += seconds
                p95s.append(_p95(seconds))
    finally:
        for name, value in before.items():
            setattr(settings, name, value)
        emulator.stop()
        zone_clients = Client.objects.filter(zone__router__name=ROUTER)
        _forget(Payment.objects.filter(client__in=zone_clients))
        Invoice.objects.filter(client__in=zone_clients).delete()
        zone_clients.delete()
        Zone.objects.filter(router__name=ROUTER).delete()
        Router.objects.filter(name=ROUTER).delete()
    return {
        "webhook_payments_together": payments,
        "webhook_router_rtt_ms": rtt * 1000,
        "webhook_to_router_p95_s": statistics.median(p95s),
        "webhook_to_router_median_s": statistics.median(waits),
    }


def time_notifications(*, notifications: int, repeat: int) -> dict:
    """`notifications` notifications (a fifth of them repeats), shuffled, for the built ISP's
    clients: the seconds until the consumer has made each payment once (or the deadline), and
    the payments it made per second."""
    if connection.in_atomic_block:
        raise RuntimeError("the notifications part needs committed data the consumer can see")
    unique = notifications - notifications // 5
    clients = list(Client.objects.order_by("id").values_list("id", flat=True)[:unique])
    stand_in = MercadoPagoStandIn()
    before = _gateway_on(stand_in.url)
    timings, rates = [], []
    try:
        with stand_in:
            for wave in range(repeat):
                pay_ids = [str(80_000_000 + wave * 1_000_000 + n) for n in range(len(clients))]
                for pay_id, client_id in zip(pay_ids, clients, strict=True):
                    stand_in.approve(pay_id, client_id, None)
                sent = pay_ids + random.Random(wave).choices(pay_ids, k=notifications // 5)
                random.Random(wave + 1).shuffle(sent)
                _queue_empty()
                consumer = _consumer()
                try:
                    start = time.perf_counter()
                    browser = Browser(SERVER_NAME="localhost")
                    for n, pay_id in enumerate(sent):
                        if _notify(browser, pay_id, f"bench-{n}") != 200:
                            raise RuntimeError("a webhook was refused")
                    made = GatewayPayment.objects.filter(gateway_id__in=pay_ids)
                    deadline = time.monotonic() + DEADLINE_SECONDS
                    while (done := made.filter(payment__isnull=False).count()) < len(pay_ids):
                        if consumer.poll() is not None:
                            raise RuntimeError("the task consumer stopped")
                        if time.monotonic() > deadline:
                            break  # reported as the payments made in the deadline
                        time.sleep(0.2)
                    timings.append(time.perf_counter() - start)
                    rates.append(done / timings[-1])
                finally:
                    _stop(consumer)
                paid = Payment.objects.filter(method="mercadopago", reference__in=pay_ids)
                if paid.count() != done or paid.values("reference").distinct().count() != done:
                    raise RuntimeError("a notification was paid twice")
                _forget(paid)
    finally:
        for name, value in before.items():
            setattr(settings, name, value)
    return {
        "notifications": notifications,
        "notifications_payments": len(clients),
        "notifications_s": statistics.median(timings),
        # Below the unique count only when the deadline came first.
        "notifications_payments_per_s": statistics.median(rates),
    }
