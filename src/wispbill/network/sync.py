"""Pushing a desired state to a router: the router is made to match what the caller says it
must hold, in one connection, with its sync status, failures and retries recorded. What a
router must hold is decided above this app (from its clients: `clients.enforcement`)."""

import logging
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from wispbill.network.drivers import DriverError, driver_for
from wispbill.network.models import Enforcement, Router, SyncStatus
from wispbill.network.reconcile import Entry, plan_changes

log = logging.getLogger(__name__)
SKIPPED = {"added": 0, "removed": 0, "failed": [], "skipped": True}


def routers_mark_pending(router_ids: set[int]) -> list[int]:
    """Mark the enforced routers among `router_ids` out of sync; returns them."""
    enforced = list(
        Router.objects.filter(pk__in=router_ids)
        .exclude(enforcement=Enforcement.NONE)
        .values_list("id", flat=True)
    )
    if enforced:
        Router.objects.filter(pk__in=enforced).update(
            needs_sync=True, sync_status=SyncStatus.PENDING
        )
    return enforced


def router_push(router: Router, *, desired: set[Entry], claimed_only: bool = False) -> dict:
    """Read what wispbill owns on the router, diff it against `desired`, apply the
    difference. With `claimed_only`, do nothing unless a change is waiting (a queued push
    whose work another push already did). Raises DriverError when the router fails."""
    if router.enforcement == Enforcement.NONE:
        Router.objects.filter(pk=router.pk).update(
            sync_status=SyncStatus.OK, needs_sync=False, last_error="", failed_addresses=[]
        )
        return SKIPPED
    claimed = Router.objects.filter(pk=router.pk, needs_sync=True).update(needs_sync=False)
    if claimed_only and not claimed:
        return SKIPPED
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
    common = {
        "last_sync_at": timezone.now(),
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
    router = Router.objects.get(pk=router_id)
    delay = retry_delay(router.sync_failures)
    now = timezone.now()
    booked = Router.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now), pk=router_id
    ).update(retry_at=now + timedelta(seconds=delay))
    return delay if booked else None
