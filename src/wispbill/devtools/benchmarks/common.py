"""The large ISP the benchmark parts measure, and how they time things."""

import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from wispbill.audit.models import AuditEvent
from wispbill.automation.models import ManualRun, MassUpdate, TaskState
from wispbill.billing.models import (
    Charge,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    PaymentKey,
)
from wispbill.cfdi.models import CfdiDocument
from wispbill.clients.models import BillingType, Client, Plan, Promise
from wispbill.clients.search import search_index_tidy
from wispbill.core import schedule
from wispbill.core.models import BillingMode
from wispbill.messaging.models import Message
from wispbill.network.models import Enforcement, Router, Zone
from wispbill.payments.models import BankLine, BankStatement, GatewayPayment

PREFIX = "bench-"
# What hangs from clients (and from each other), in an order that deletes referrers first.
HANGING = (
    GatewayPayment,
    BankLine,
    BankStatement,
    Message,
    CfdiDocument.payments.through,
    CfdiDocument,
    PaymentKey,
    PaymentAllocation,
    Payment,
    Charge,
    InvoiceLine,
    Invoice,
    Promise,
    AuditEvent,
    TaskState,
    ManualRun,
)


def median_of(fn: Callable[[], object], repeat: int) -> float:
    return medians_of(fn, repeat)[0]


def medians_of(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The median time of `repeat` calls, and the median processor time this process spent
    on them (which other work on the machine does not stretch)."""
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), statistics.median(cpu)


def wipe() -> None:
    """Remove every client, zone and benchmark router and plan (and what hangs from them)."""
    from django.db import connection

    MassUpdate.objects.all().delete()
    with connection.cursor() as cursor:
        # Faster than the ORM's cascade over hundreds of thousands of rows; what refers to a
        # table goes before it.
        for model in HANGING:
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
    # In slices: the ORM's cascade names each row it touches, and SQLite takes at most
    # 32,766 of them in one statement.
    ids = list(Client.objects.values_list("id", flat=True))
    for start in range(0, len(ids), 10_000):
        Client.objects.filter(pk__in=ids[start : start + 10_000]).delete()
    Zone.objects.all().delete()
    Router.objects.filter(name__startswith=PREFIX).delete()
    Plan.objects.filter(name__startswith=PREFIX).delete()


def build(count: int, zone_count: int) -> float:
    """N clients in `zone_count` zones of prepaid schedules (pay days 1 to 28), one in ten
    with its own postpaid billing; returns the seconds it took."""
    start = time.perf_counter()
    with transaction.atomic():
        plan = Plan.objects.create(
            name=f"{PREFIX}plan", price=Decimal("399.00"), download_kbps=10_000, upload_kbps=2_000
        )
        routers = Router.objects.bulk_create(
            Router(name=f"{PREFIX}router-{n}", host=f"192.0.2.{n % 250 + 1}")
            for n in range(max(1, zone_count // 10))
        )
        zones = Zone.objects.bulk_create(
            Zone(
                router=routers[n % len(routers)],
                name=f"Zona {n}",
                billing_mode=BillingMode.PREPAID,
                pay_day=n % 28 + 1,
                invoice_lead_days=5,
                notice_offset_days=0,
                grace_days=5,
            )
            for n in range(zone_count)
        )
        own = {
            "billing_mode": BillingMode.POSTPAID,
            "pay_day": 10,
            "invoice_lead_days": 5,
            "notice_offset_days": 1,
            "grace_days": 3,
            **schedule.OPTIONAL,
        }
        batch = []
        for n in range(count):
            is_own = n % 10 == 0
            batch.append(
                Client(
                    name=f"Cliente {n:06d}",
                    ip=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
                    zone=zones[n % len(zones)],
                    plan=plan,
                    start_date=date(2025, 1, 1),
                    billing_type=BillingType.OWN if is_own else BillingType.ZONE,
                    **(own if is_own else {}),
                )
            )
            if len(batch) == 5_000:
                Client.objects.bulk_create(batch)
                batch = []
        Client.objects.bulk_create(batch)
    search_index_tidy()  # as an import leaves it
    settle()
    return time.perf_counter() - start


def settle() -> None:
    """On PostgreSQL, vacuum and analyze what `wipe` and `build` rewrote, as autovacuum does
    for an ISP that grew to this size: a run timed right after a rebuild would otherwise be
    planned on the previous size's statistics, among its dead rows."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def bench_admin():
    admin, _created = get_user_model().objects.get_or_create(
        username=f"{PREFIX}admin", defaults={"is_staff": True, "is_superuser": True}
    )
    return admin


def emulated_router(
    port: int | None, name: str, *, provisioning: bool = False
) -> tuple[Router, Zone]:
    """A router record pointed at a benchmark's emulator (user and password "bench"), and a
    zone of it; a router of that name left by an earlier run is replaced."""
    if port is None:
        raise RuntimeError("the emulator is not listening: start it first")
    Router.objects.filter(name=name).delete()
    router = Router(
        name=name,
        host="127.0.0.1",
        api_port=port,
        allow_local_host=True,  # the emulator is on this machine, as an admin allowed
        username="bench",
        enforcement=Enforcement.MIKROTIK,
        provisioning=provisioning,
    )
    router.password = "bench"
    router.save()
    zone = Zone.objects.create(
        router=router,
        name="Zona emulada",
        billing_mode=BillingMode.PREPAID,
        pay_day=1,
        invoice_lead_days=5,
        notice_offset_days=0,
        grace_days=3,
    )
    return router, zone


def overdue_invoice(client: Client, day: date, price: Decimal, **marks: object) -> Invoice:
    """An invoice of `price` for the client, issued 40 days before `day` and overdue since a
    week (unsaved, for a bulk_create); `marks` set its notice or cut."""
    start = day - timedelta(days=40)
    return Invoice(
        client=client,
        period_start=start,
        period_end=start + timedelta(days=29),
        issued_on=start,
        pay_date=day - timedelta(days=10),
        notice_date=day - timedelta(days=8),
        due_date=day - timedelta(days=7),
        total=price,
        subtotal=price,
        **marks,
    )
