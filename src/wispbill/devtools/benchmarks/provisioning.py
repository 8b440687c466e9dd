"""Provisioning and import through the RouterOS emulator with a simulated round trip: a router
of N clients pushed from scratch (PPPoE secrets, simple queues and the lists), the second
reconcile that has nothing to write, and importing a router of N secrets and queues (preview,
then confirm), each against one change per round trip."""

import statistics
import time
from decimal import Decimal

import librouteros

from wispbill.clients.enforcement import router_reconcile
from wispbill.clients.models import Access, Client, ClientState, Plan
from wispbill.clients.services.router_import import router_import_confirm, router_import_preview
from wispbill.devtools.benchmarks.common import PREFIX, emulated_router
from wispbill.devtools.emulator import RouterOSEmulator
from wispbill.network.models import Router, Zone

NAME = f"{PREFIX}provisioned"


def _drop(name: str) -> None:
    Client.objects.filter(zone__router__name=name).delete()
    Zone.objects.filter(router__name=name).delete()
    Router.objects.filter(name=name).delete()


def _clients(zone: Zone, count: int) -> None:
    """Half PPPoE, half static; one in ten cut, one in twenty throttled, one in ten warned."""
    plan, _created = Plan.objects.get_or_create(
        name=f"{PREFIX}provisioning",
        defaults={"price": Decimal("399.00"), "download_kbps": 10_000, "upload_kbps": 2_000},
    )
    rows = []
    for n in range(count):
        pppoe = n % 2 == 0
        client = Client(
            name=f"Aprovisionado {n}",
            ip=f"172.30.{n // 250}.{n % 250 + 1}",
            zone=zone,
            plan=plan,
            access=Access.PPPOE if pppoe else Access.STATIC,
            pppoe_username=f"user{n}" if pppoe else "",
            state=ClientState.SUSPENDED
            if n % 10 == 3
            else ClientState.THROTTLED
            if n % 20 == 7
            else ClientState.ACTIVE,
            notice_active=n % 10 == 5,
        )
        if pppoe:
            client.pppoe_password = f"pw{n}"
        rows.append(client)
    Client.objects.bulk_create(rows, batch_size=2_000)


def _serial_per_change(emulator: RouterOSEmulator) -> float:
    """The floor without pipelining: one change per round trip, as a plain client does."""
    api = librouteros.connect("127.0.0.1", "bench", "bench", port=emulator.port)
    path = api.path("queue", "simple")
    sample = 20
    start = time.perf_counter()
    for n in range(sample):
        path.add(name=f"bench-serial-{n}", target=f"198.18.0.{n + 1}/32", comment="bench")
    per_change = (time.perf_counter() - start) / sample
    api.close()
    return per_change


def time_provisioning(*, clients: int, rtt: float, repeat: int) -> dict:
    """Push a router of `clients` from scratch `repeat` times (a fresh emulator each time) and
    reconcile it again with nothing to do."""
    firsts, seconds, writes_first, writes_second = [], [], 0, 0
    per_change = 0.0
    try:
        for _ in range(repeat):
            emulator = RouterOSEmulator(username="bench", password="bench", rtt=rtt).start()
            try:
                router, zone = emulated_router(emulator.port, NAME, provisioning=True)
                _clients(zone, clients)
                start = time.perf_counter()
                first = router_reconcile(router)
                firsts.append(time.perf_counter() - start)
                assert not first["failed"], first["failed"][:3]
                writes_first = emulator.writes
                start = time.perf_counter()
                router_reconcile(router)
                seconds.append(time.perf_counter() - start)
                writes_second = emulator.writes - writes_first
                per_change = _serial_per_change(emulator)
            finally:
                emulator.stop()
                _drop(NAME)
    finally:
        Plan.objects.filter(name=f"{PREFIX}provisioning", clients__isnull=True).delete()
    first_s = statistics.median(firsts)
    return {
        "provisioning_clients": clients,
        "provisioning_rtt_ms": rtt * 1000,
        "provisioning_first_writes": writes_first,
        "provisioning_first_s": first_s,
        "provisioning_one_change_per_round_trip_s": per_change * writes_first,
        "provisioning_one_per_round_trip_over_pipelined_ratio": per_change * writes_first / first_s,
        "provisioning_second_reconcile_writes": writes_second,
        "provisioning_second_reconcile_s": statistics.median(seconds),
    }


IMPORT_NAME = f"{PREFIX}imported"


def _hand_made(emulator: RouterOSEmulator, count: int) -> None:
    """A router an operator built by hand: a PPPoE secret with its fixed address and a simple
    queue per client, a few speeds, some clients in the cut and notice lists."""
    speeds = ("1M/5M", "2M/10M", "4M/20M", "10M/50M")
    for n in range(count):
        ip = f"172.31.{n // 250}.{n % 250 + 1}"
        emulator.add_secret(f"cliente{n}", f"pw{n}", remote_address=ip, comment=f"Cliente {n}")
        emulator.add_queue(f"Cliente {n}", f"{ip}/32", speeds[n % len(speeds)])
        if n % 10 == 3:
            emulator.add_by_hand("Moroso", ip, "debe")
        elif n % 10 == 5:
            emulator.add_by_hand("Aviso", ip)


def time_import(*, clients: int, rtt: float, repeat: int) -> dict:
    """Preview and confirm the import of a router of `clients` secrets and queues."""
    previews, confirms, created = [], [], 0
    plans_before = set(Plan.objects.values_list("id", flat=True))
    try:
        for _ in range(repeat):
            emulator = RouterOSEmulator(username="bench", password="bench", rtt=rtt).start()
            try:
                _hand_made(emulator, clients)
                router, zone = emulated_router(emulator.port, IMPORT_NAME, provisioning=True)
                start = time.perf_counter()
                proposal = router_import_preview(actor=None, router=router, zone=zone)
                previews.append(time.perf_counter() - start)
                assert emulator.writes == 0 and len(proposal.clients) == clients
                start = time.perf_counter()
                result = router_import_confirm(actor=None, router=router, zone=zone)
                confirms.append(time.perf_counter() - start)
                created = result["clients_created"]
                assert created == clients and not result["adoption_failed"]
            finally:
                emulator.stop()
                _drop(IMPORT_NAME)
    finally:
        Plan.objects.exclude(id__in=plans_before).filter(clients__isnull=True).delete()
    return {
        "import_clients": created,
        "import_rtt_ms": rtt * 1000,
        "import_preview_s": statistics.median(previews),
        "import_confirm_s": statistics.median(confirms),
    }
