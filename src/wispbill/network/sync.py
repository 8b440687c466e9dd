"""Keeping the routers in sync with the database: the database is the truth, routers are
made to match it, in one connection per router, after every change and periodically."""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wispbill.network.drivers import DriverError, driver_for
from wispbill.network.models import Enforcement, Router, SyncStatus
from wispbill.network.reconcile import desired_entries, plan_changes

log = logging.getLogger(__name__)


def routers_changed(router_ids: Iterable[int | None]) -> None:
    """Mark routers out of sync and queue one reconcile each, after the commit."""
    ids = {i for i in router_ids if i is not None}
    if not ids:
        return
    enforced = list(
        Router.objects.filter(pk__in=ids)
        .exclude(enforcement=Enforcement.NONE)
        .values_list("id", flat=True)
    )
    if not enforced:
        return
    Router.objects.filter(pk__in=enforced).update(needs_sync=True, sync_status=SyncStatus.PENDING)

    def enqueue():
        from wispbill.network.tasks import reconcile_router_task

        for router_id in enforced:
            reconcile_router_task(router_id)

    transaction.on_commit(enqueue)


def routers_of_clients(client_ids: Iterable[int]) -> set[int]:
    from wispbill.clients.models import Client

    ids = list(client_ids)
    routers: set[int] = set()
    for start in range(0, len(ids), 500):
        routers.update(
            Client.objects.filter(pk__in=ids[start : start + 500])
            .values_list("zone__router_id", flat=True)
            .distinct()
        )
    return routers


def router_reconcile(router: Router, *, claimed_only: bool = False) -> dict:
    """Read what wispbill owns on the router, diff it against the database, apply the
    difference. With `claimed_only`, do nothing unless a change is waiting (a queued push
    whose work another push already did). Raises DriverError when the router fails."""
    from wispbill.clients.models import Client

    router = Router.objects.get(pk=router.pk)
    if router.enforcement == Enforcement.NONE:
        Router.objects.filter(pk=router.pk).update(
            sync_status=SyncStatus.OK, needs_sync=False, last_error="", failed_addresses=[]
        )
        return {"added": 0, "removed": 0, "failed": [], "skipped": True}
    claimed = Router.objects.filter(pk=router.pk, needs_sync=True).update(needs_sync=False)
    if claimed_only and not claimed:
        return {"added": 0, "removed": 0, "failed": [], "skipped": True}
    clients = list(
        Client.objects.filter(zone__router=router).values_list("id", "ip", "state", "notice_active")
    )
    desired = desired_entries(
        cut_list=router.cut_list, notice_list=router.notice_list, clients=clients
    )
    try:
        with driver_for(router) as driver:
            actual = driver.read_owned((router.cut_list, router.notice_list))
            plan = plan_changes(desired=desired, actual=actual)
            result = driver.apply(plan) if not plan.empty else None
    except DriverError as exc:
        Router.objects.filter(pk=router.pk).update(
            sync_status=SyncStatus.ERROR,
            last_error=str(exc),
            needs_sync=True,
            sync_failures=F("sync_failures") + 1,
        )
        raise
    failed = [(entry.address, message) for entry, message in (result.failed if result else [])]
    now = timezone.now()
    common = {
        "last_sync_at": now,
        "sync_failures": 0,
        "failed_addresses": sorted({address for address, _m in failed}),
        "last_error": "; ".join(f"{a}: {m}" for a, m in failed[:5]),
    }
    # A change that arrived while we worked keeps the router pending: its push is queued.
    Router.objects.filter(pk=router.pk, needs_sync=False).update(
        **common, sync_status=SyncStatus.ERROR if failed else SyncStatus.OK
    )
    Router.objects.filter(pk=router.pk, needs_sync=True).update(**common)
    return {
        "added": result.added if result else 0,
        "removed": result.removed if result else 0,
        "failed": [{"address": a, "error": m} for a, m in failed],
        "skipped": False,
    }


def router_test_connection(router: Router) -> dict:
    """Connect, log in and read the router's identity and version."""
    with driver_for(router) as driver:
        return driver.health()


def retry_delay(failures: int) -> int:
    """Seconds before the next try of a router that keeps failing: 10 s doubling to 10 min."""
    return min(600, 10 * 2 ** max(0, failures - 1))


def schedule_retry(router_id: int) -> int | None:
    """Book the next try of a failing router, unless one is already booked; its delay."""
    from datetime import timedelta

    from django.db.models import Q

    router = Router.objects.get(pk=router_id)
    delay = retry_delay(router.sync_failures)
    now = timezone.now()
    booked = Router.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now), pk=router_id
    ).update(retry_at=now + timedelta(seconds=delay))
    return delay if booked else None
