"""RADIUS at an ISP's size (issue 21): the large ISP's clients turned into PPPoE clients of one
RADIUS router, `wispbill radius` started on loopback ports, and then

- the login storm: Access-Requests (PAP) at a fixed rate for N seconds, each timed;
- accounting: Accounting-Starts, then Interim-Updates at their own rate, and every one of
  them looked for in `radius_session` afterwards (stored, with its octets, or lost);
- a plan's new speed: a plan of M clients with live sessions gets a new speed, and the time
  from its commit until every session's CoA was acknowledged by a router port answering
  each one after a delay (the CoA sweep of `wispbill radius`, its interval included).

The ISP is turned back afterwards (static clients of their own routers, no credentials, no
sessions), so the other parts find it as they left it.
"""

import multiprocessing
import os
import subprocess
import sys
import time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat

from wispbill.clients.models import Access, Client, Plan
from wispbill.core.secrets import encrypt
from wispbill.devtools import radius_nas
from wispbill.devtools.benchmarks.common import PREFIX
from wispbill.network.models import Aaa, Router, Zone
from wispbill.radius.coa import coa_sweep
from wispbill.radius.credentials import credentials_refresh
from wispbill.radius.freeradius import RadiusError, check_installed
from wispbill.radius.models import CoaResult, Credential, Sent, Session

SECRET = "bench-radius-secret"
PASSWORD = "bench-pppoe"
STARTUP_SECONDS = 120


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        return udp.getsockname()[1]


def _turn_to_radius() -> tuple[Router, dict[int, int], float]:
    """Every benchmark client a PPPoE client (`u<id>`) of one RADIUS router on loopback.
    Returns the router, each zone's own router (to turn back), and the seconds it took."""
    start = time.perf_counter()
    routers = dict(Zone.objects.values_list("pk", "router_id"))
    router = Router.objects.filter(name__startswith=PREFIX).order_by("pk").first()
    if router is None:
        raise RuntimeError("the benchmark's ISP has no router: build it first")
    with transaction.atomic():
        router.aaa, router.host, router.allow_local_host = Aaa.RADIUS, "127.0.0.1", True
        router.radius_secret = SECRET
        router.save()
        Zone.objects.update(router=router)
        Client.objects.update(
            access=Access.PPPOE,
            pppoe_username=Concat(Value("u"), Cast("id", output_field=CharField())),
            pppoe_password_encrypted=encrypt(PASSWORD),
        )
    credentials_refresh()
    coa_sweep()  # every session as its login makes it: the sweeps to come start even
    _analyze()
    return router, routers, time.perf_counter() - start


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _turn_back(router: Router, routers: dict[int, int]) -> None:
    Session.objects.all().delete()
    Sent.objects.all().delete()
    with transaction.atomic():
        for zone_id, router_id in routers.items():
            Zone.objects.filter(pk=zone_id).update(router_id=router_id)
        Client.objects.update(access=Access.STATIC, pppoe_username="", pppoe_password_encrypted="")
        router.aaa, router.host, router.allow_local_host = Aaa.API, "192.0.2.1", False
        router.radius_secret_encrypted = ""
        router.save()
    Credential.objects.all().delete()
    coa_plan = Plan.objects.filter(name=f"{PREFIX}radius-coa")
    Client.objects.filter(plan__in=coa_plan).update(plan=Plan.objects.get(name=f"{PREFIX}plan"))
    coa_plan.delete()


def _start_server(auth_port: int, acct_port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "wispbill.cli", "radius"),
            *("--auth-port", str(auth_port), "--acct-port", str(acct_port)),
            *("--reject-delay", "0"),
        ],
        env=os.environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    probe = radius_nas.access_requests(SECRET.encode(), [("u-nobody", "x")])
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("wispbill radius stopped as it started")
        if radius_nas.storm(("127.0.0.1", auth_port), probe, 100, settle=1)["answered"]:
            return process
    process.terminate()
    raise RuntimeError("FreeRADIUS never answered")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _logins(ids: list[int], count: int) -> list[tuple[str, str]]:
    order = radius_nas.shuffled(ids)
    return [(f"u{order[n % len(order)]}", PASSWORD) for n in range(count)]


def _login_storm(port: int, ids: list[int], rate: int, seconds: int) -> dict:
    requests = radius_nas.access_requests(SECRET.encode(), _logins(ids, rate * seconds))
    done = radius_nas.storm(("127.0.0.1", port), requests, rate)
    return {
        "radius_auth_sent": done["sent"],
        "radius_auth_accepted": done["codes"].get(radius_nas.ACCESS_ACCEPT, 0),
        "radius_auth_lost": done["lost"],
        "radius_auth_answered_per_s": done["answered_per_s"],
        "radius_auth_fewest_in_a_second": done["fewest_in_a_second"],
        "radius_auth_p50_ms": done["p50_ms"],
        "radius_auth_p99_ms": done["p99_ms"],
        "radius_auth_max_ms": done["max_ms"],
        "radius_auth_sender_late_ms": done["sender_late_ms"],
    }


def _accounting(port: int, ids: list[int], rate: int, seconds: int) -> dict:
    """Starts for `rate * seconds` sessions, then one Interim-Update each with new octets,
    both at `rate`; then every update looked for in the database."""
    count = min(len(ids), rate * seconds)
    chosen = radius_nas.shuffled(ids)[:count]
    sessions = [(f"u{cid}", f"bench-{cid}", "100.64.0.1", 1000) for cid in chosen]
    secret = SECRET.encode()
    started = radius_nas.storm(
        ("127.0.0.1", port), radius_nas.accounting_requests(secret, "Start", sessions), rate
    )
    interim = [
        (u, sid, ip, cid + 7) for (u, sid, ip, _o), cid in zip(sessions, chosen, strict=True)
    ]
    updated = radius_nas.storm(
        ("127.0.0.1", port),
        radius_nas.accounting_requests(secret, "Interim-Update", interim),
        rate,
    )
    stored = Session.objects.filter(
        session_id__startswith="bench-",
        client_id__isnull=False,
        input_bytes=F("client_id") + 7,
        output_bytes=(F("client_id") + 7) * 4,
        stopped_at__isnull=True,
    ).count()
    return {
        "radius_acct_start_answered_per_s": started["answered_per_s"],
        "radius_acct_start_p99_ms": started["p99_ms"],
        "radius_interim_sent": updated["sent"],
        "radius_interim_acknowledged": updated["codes"].get(radius_nas.ACCOUNTING_RESPONSE, 0),
        "radius_interim_answered_per_s": updated["answered_per_s"],
        "radius_interim_p99_ms": updated["p99_ms"],
        "radius_interim_stored": stored,
        "radius_interim_lost": updated["sent"] - stored,
    }


def _plan_change(router: Router, ids: list[int], count: int, delay_ms: float) -> dict:
    """A plan of `count` clients gets a new speed; seconds until every one of their sessions
    acknowledged its CoA (the listener answers each after `delay_ms`)."""
    context = multiprocessing.get_context("spawn")
    ports, stop, counts = context.Queue(), context.Event(), context.Array("l", 4)
    listener = context.Process(
        target=radius_nas.coa_listener,
        args=(ports, stop, counts, SECRET.encode(), delay_ms / 1000),
        daemon=True,
    )
    listener.start()
    try:
        Router.objects.filter(pk=router.pk).update(coa_port=ports.get(timeout=60))
        chosen = ids[:count]
        plan = Plan.objects.create(
            name=f"{PREFIX}radius-coa",
            price=Decimal("299.00"),
            download_kbps=5_000,
            upload_kbps=1_000,
        )
        Client.objects.filter(pk__in=chosen).update(plan=plan)
        # The move to the plan is itself told first; the speed change is what is timed.
        _wait_told(chosen, time.time(), deadline=300)
        counts[0] = counts[1] = 0
        changed = time.time()
        Plan.objects.filter(pk=plan.pk).update(download_kbps=8_000, upload_kbps=2_000)
        seconds = _wait_told(chosen, changed, deadline=300)
    finally:
        stop.set()
        listener.join(timeout=10)
    acknowledged = Sent.objects.filter(
        client_id__in=chosen, coa_result=CoaResult.ACKNOWLEDGED, rate_limit="2000k/8000k"
    ).count()
    return {
        "radius_coa_clients": count,
        "radius_coa_all_acknowledged_s": seconds,
        "radius_coa_acknowledged": acknowledged,
        "radius_coa_requests_received": counts[0],
        "radius_coa_disconnects_received": counts[1],
    }


def _wait_told(ids: list[int], since: float, *, deadline: float) -> float:
    """Seconds from `since` until every one of `ids` has a CoA result after it (the running
    `wispbill radius` sweeps every few seconds)."""
    from datetime import UTC, datetime

    after = datetime.fromtimestamp(since, UTC)
    while True:
        pending = Sent.objects.filter(client_id__in=ids).exclude(coa_at__gte=after).count()
        if not pending:
            return time.time() - since
        if time.time() - since > deadline:
            raise RuntimeError(f"{pending} session(s) were never told their new speed")
        time.sleep(0.1)


def time_radius(
    *,
    rate: int,
    seconds: int,
    interim_rate: int,
    interim_seconds: int,
    coa_clients: int,
    coa_delay_ms: float,
) -> dict:
    """The login storm, accounting and a plan's new speed, against `wispbill radius`."""
    try:
        check_installed()
    except RadiusError:
        return {"radius": "skipped: FreeRADIUS is not installed (apt-get install freeradius)"}
    if connection.in_atomic_block:
        raise RuntimeError("the RADIUS part needs committed data FreeRADIUS can read")
    router, routers, prepared_s = _turn_to_radius()
    ids = list(Client.objects.order_by("pk").values_list("pk", flat=True))
    results: dict = {
        "radius_clients": len(ids),
        "radius_prepare_s": prepared_s,
        "radius_pyrad_build_us": radius_nas.build_us(SECRET.encode()),
    }
    auth_port, acct_port = _free_port(), _free_port()
    start = time.perf_counter()
    try:
        sweep_start = time.perf_counter()
        coa_sweep()
        results["radius_idle_sweep_s"] = time.perf_counter() - sweep_start
        server = _start_server(auth_port, acct_port)
        results["radius_start_s"] = time.perf_counter() - start
        try:
            results.update(_login_storm(auth_port, ids, rate, seconds))
            results.update(_accounting(acct_port, ids, interim_rate, interim_seconds))
            results.update(_plan_change(router, ids, coa_clients, coa_delay_ms))
        finally:
            _stop(server)
    finally:
        _turn_back(router, routers)
    return results
