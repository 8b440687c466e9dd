"""A router sync through the RouterOS emulator with a simulated round trip, against one change
per round trip (what a client without pipelining pays)."""

import statistics
import time

import librouteros

from wispbill.clients.enforcement import router_reconcile
from wispbill.clients.models import Client, ClientState, Plan
from wispbill.devtools.benchmarks.common import PREFIX, emulated_router
from wispbill.devtools.emulator import RouterOSEmulator
from wispbill.network.models import Router, Zone


def time_reconcile(*, clients: int, changes: int, rtt: float, repeat: int) -> dict:
    """A router of N clients behind an emulated round trip: the first full sync, then
    syncs of `changes` changed clients, against one change per round trip."""
    emulator = RouterOSEmulator(username="bench", password="bench", rtt=rtt).start()
    try:
        router, zone = emulated_router(emulator.port, f"{PREFIX}emulated")
        plan = Plan.objects.filter(name__startswith=PREFIX).first()
        rows = [
            Client(
                name=f"Emulado {n}",
                ip=f"172.31.{n // 250}.{n % 250 + 1}",
                zone=zone,
                plan=plan,
                state=ClientState.SUSPENDED if n % 3 == 0 else ClientState.ACTIVE,
                notice_active=n % 3 == 1,
            )
            for n in range(clients)
        ]
        Client.objects.bulk_create(rows, batch_size=5_000)
        ids = list(Client.objects.filter(zone=zone).order_by("id").values_list("id", flat=True))
        start = time.perf_counter()
        first = router_reconcile(router)
        first_s = time.perf_counter() - start
        flip = ids[:changes]
        timings = []
        for _ in range(repeat):
            for chunk in range(0, len(flip), 500):
                part = flip[chunk : chunk + 500]
                Client.objects.filter(pk__in=part, state=ClientState.SUSPENDED).update(state="x")
                Client.objects.filter(pk__in=part, state=ClientState.ACTIVE).update(
                    state=ClientState.SUSPENDED
                )
                Client.objects.filter(pk__in=part, state="x").update(state=ClientState.ACTIVE)
            start = time.perf_counter()
            result = router_reconcile(router)
            timings.append(time.perf_counter() - start)
            assert not result["failed"]
        applied = result["added"] + result["removed"]
        # The floor without pipelining: one change per round trip, as a plain client does.
        api = librouteros.connect("127.0.0.1", "bench", "bench", port=emulator.port)
        path = api.path("ip", "firewall", "address-list")
        sample = 30
        start = time.perf_counter()
        for n in range(sample):
            path.add(list="bench-serial", address=f"198.18.0.{n + 1}", comment="bench")
        serial_per_change = (time.perf_counter() - start) / sample
        api.close()
        sync_s = statistics.median(timings)
        return {
            "router_clients": clients,
            "router_rtt_ms": rtt * 1000,
            "router_first_sync_entries": first["added"],
            "router_first_sync_s": first_s,
            "router_first_sync_entries_per_s": first["added"] / first_s,
            "router_sync_changes": applied,
            "router_sync_s": sync_s,
            "router_sync_entries_per_s": applied / sync_s,
            "router_one_change_per_round_trip_s": serial_per_change * applied,
            "router_one_per_round_trip_over_pipelined_ratio": serial_per_change * applied / sync_s,
        }
    finally:
        emulator.stop()
        Client.objects.filter(zone__router__name=f"{PREFIX}emulated").delete()
        Zone.objects.filter(router__name=f"{PREFIX}emulated").delete()
        Router.objects.filter(name=f"{PREFIX}emulated").delete()
