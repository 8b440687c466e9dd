"""Pushing a desired state to a router: the router is made to match what the caller says it
must hold, in one connection, with its sync status, failures and retries recorded. What a
router must hold is decided above this app (from its clients: `clients.enforcement`)."""

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from wispbill.network.drivers import DriverError, driver_for
from wispbill.network.drivers.base import ProvisioningResult
from wispbill.network.models import Enforcement, Router, SyncStatus
from wispbill.network.provisioning import (
    Change,
    Provisioned,
    ProvisioningPlan,
    Queue,
    Secret,
    Session,
    plan_provisioning,
)
from wispbill.network.reconcile import Entry, plan_changes
from wispbill.staff.permissions import MANAGE_ROUTERS, require_permission_of_person

log = logging.getLogger(__name__)
SKIPPED = {
    "added": 0,
    "changed": 0,
    "removed": 0,
    "sessions_dropped": 0,
    "failed": [],
    "skipped": True,
}
# In the language of whoever reads the router's last error (the product's, for a push).
NO_PASSWORD = gettext_noop("no PPPoE password in wispbill: set one so the secret can be created")
NOT_OURS = {
    "secret": gettext_noop(
        "the router has a PPPoE secret named «%(name)s» that is not wispbill's: import the "
        "router to take it over, or rename one of them"
    ),
    "simple queue": gettext_noop(
        "the router has a simple queue named «%(name)s» that is not wispbill's: import the "
        "router to take it over, or rename one of them"
    ),
}


@dataclass(frozen=True)
class Live:
    """A PPPoE client whose address comes from a pool: the lists and the queue it must be in
    at whatever address its live session has (none while it is offline). The queue's target
    is filled in from that address."""

    username: str
    comment: str
    lists: tuple[str, ...] = ()
    queue: Queue | None = None


@dataclass(frozen=True)
class Desired:
    """What a router must hold: its address-list entries and, where wispbill keeps them, its
    PPPoE secrets and simple queues; and, for pool clients, what follows their live address.
    A secret without a password leaves the router's as it is (wispbill never sets an empty
    one)."""

    entries: frozenset[Entry] = frozenset()
    secrets: tuple[Secret, ...] = ()
    queues: tuple[Queue, ...] = ()
    live: tuple[Live, ...] = ()


def desired_at(desired: Desired, addresses: dict[str, str]) -> Desired:
    """`desired` with each pool client's entries and queue at its live address (secret name →
    address, from /ppp/active); a client offline has neither until it connects."""
    entries, queues = set(desired.entries), list(desired.queues)
    for live in desired.live:
        address = addresses.get(live.username)
        if not address:
            continue
        entries.update(Entry(name, address, live.comment) for name in live.lists)
        if live.queue is not None:
            queues.append(replace(live.queue, target=f"{address}/32"))
    return replace(desired, entries=frozenset(entries), queues=tuple(queues), live=())


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


def provisioning_plan(
    desired: Desired, held: Provisioned
) -> tuple[ProvisioningPlan, list, dict[tuple[str, str], str]]:
    """The provisioning diff, the (address, message) of each client it cannot provision, and
    which client address each object of the diff serves (for the router's own refusals).
    Before diffing: a queue wispbill owns keeps the name the router has for it (an adopted
    queue keeps the operator's name; the comment, not the name, says whose it is), and a
    secret whose password wispbill does not know keeps the router's."""
    owned_queue: dict[str, str] = {}
    for queue in held.queues:
        if queue.owned:
            owned_queue.setdefault(queue.comment, queue.name)
    queues = [replace(q, name=owned_queue.get(q.comment, q.name)) for q in desired.queues]
    held_secret = {s.name: s for s in held.secrets if s.owned}
    secrets, problems = [], []
    for secret in desired.secrets:
        if not secret.password:
            if secret.name not in held_secret:
                problems.append((_secret_key(secret), gettext(NO_PASSWORD)))
                continue
            secret = replace(secret, password=held_secret[secret.name].password)
        secrets.append(secret)
    plan = plan_provisioning(
        secrets=secrets,
        queues=queues,
        actual_secrets=held.secrets,
        actual_queues=held.queues,
        sessions=held.sessions,
    )
    address = _addresses(secrets, queues)
    for conflict in plan.conflicts:
        kind = "secret" if isinstance(conflict, Secret) else "simple queue"
        problems.append(
            (
                address.get((kind[0], conflict.name), ""),
                gettext(NOT_OURS[kind]) % {"name": conflict.name},
            )
        )
    return plan, problems, address


def _secret_key(secret: Secret) -> str:
    """How a secret's failure names its client: its address, or for a client that takes one
    from a pool (its remote address is the pool's name), its username."""
    try:
        ipaddress.IPv4Address(secret.remote_address)
    except ValueError:
        return secret.name
    return secret.remote_address


def _addresses(secrets: list[Secret], queues: list[Queue]) -> dict[tuple[str, str], str]:
    """("s"|"q", name) → the client address (or pool client's username) a secret or queue
    serves."""
    found = {("s", s.name): _secret_key(s) for s in secrets}
    found.update((("q", q.name), q.target.split("/")[0]) for q in queues)
    return found


def _failed_address(subject, address: dict) -> str:
    if isinstance(subject, Secret):
        return address.get(("s", subject.name)) or _secret_key(subject)
    if isinstance(subject, Queue):
        return subject.target.split("/")[0]
    if isinstance(subject, Change):
        return address.get((subject.kind[0], subject.name), "")
    if isinstance(subject, Session):
        return address.get(("s", subject.name), "")
    return ""


def router_push(
    router: Router, *, desired: Desired | Callable[[], Desired], claimed_only: bool = False
) -> dict:
    """Read what wispbill owns on the router, diff it against `desired`, apply the
    difference: the address lists, then (with provisioning) the secrets, queues and the
    sessions of disabled secrets. With `claimed_only`, do nothing unless a change is
    waiting (a queued push whose work another push already did). Raises DriverError when
    the router fails. `desired` as a function is read after the claim: a change committed
    before the claim is in it, one committed after it queues its own push that finds the
    router pending (read before the claim, that change's push found nothing to claim and
    the client stayed cut until the periodic pass)."""
    if router.enforcement == Enforcement.NONE:
        Router.objects.filter(pk=router.pk).update(
            sync_status=SyncStatus.OK, needs_sync=False, last_error="", failed_addresses=[]
        )
        return SKIPPED
    claimed = Router.objects.filter(pk=router.pk, needs_sync=True).update(needs_sync=False)
    if claimed_only and not claimed:
        return SKIPPED
    if callable(desired):
        desired = desired()
    provisioned = ProvisioningResult()
    problems: list[tuple[str | None, str]] = []
    try:
        with driver_for(router) as driver:
            if desired.live:
                desired = desired_at(desired, driver.read_session_addresses())
            actual = driver.read_owned((router.cut_list, router.notice_list, router.throttle_list))
            plan = plan_changes(desired=desired.entries, actual=actual)
            result = driver.apply(plan) if not plan.empty else None
            if router.provisioning:
                held = driver.read_provisioning()
                prov_plan, problems, address = provisioning_plan(desired, held)
                if not prov_plan.empty:
                    provisioned = driver.apply_provisioning(prov_plan)
                problems += [
                    (_failed_address(subject, address), message)
                    for subject, message in provisioned.failed
                ]
    except DriverError as exc:
        Router.objects.filter(pk=router.pk).update(
            sync_status=SyncStatus.ERROR,
            last_error=str(exc),
            needs_sync=True,
            sync_failures=F("sync_failures") + 1,
        )
        raise
    failed: list[tuple[str | None, str]] = [
        (entry.address, message) for entry, message in (result.failed if result else [])
    ]
    failed += problems
    common = {
        "last_sync_at": timezone.now(),
        "sync_failures": 0,
        "failed_addresses": sorted({address for address, _m in failed if address}),
        "last_error": "; ".join(f"{a}: {m}" for a, m in failed[:5]),
    }
    # A change that arrived while we worked keeps the router pending: its push is queued.
    Router.objects.filter(pk=router.pk, needs_sync=False).update(
        **common, sync_status=SyncStatus.ERROR if failed else SyncStatus.OK
    )
    Router.objects.filter(pk=router.pk, needs_sync=True).update(**common)
    return {
        "added": (result.added if result else 0) + provisioned.added,
        "changed": provisioned.changed,
        "removed": (result.removed if result else 0) + provisioned.removed,
        "sessions_dropped": provisioned.sessions_dropped,
        "failed": [{"address": a, "error": m} for a, m in failed],
        "skipped": False,
    }


def router_test_connection(router: Router, *, actor=None) -> dict:
    """Connect, log in and read the router's identity and version (a person needs the
    routers' permission: the answer tells what is listening at the stored address)."""
    require_permission_of_person(actor, MANAGE_ROUTERS)
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
