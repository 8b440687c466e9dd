"""What each router must hold, from its clients' states, and getting it there: the database
is the truth, routers are made to match it, after every change (one coalesced push per
router, after the commit) and periodically."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from wispbill.clients.models import WITH_SERVICE, Access, Client, ClientState
from wispbill.core.clock import today
from wispbill.core.db import among
from wispbill.core.secrets import decrypt
from wispbill.network.models import Router
from wispbill.network.provisioning import Queue, Secret, queue_name
from wispbill.network.reconcile import Entry, client_comment
from wispbill.network.speeds import format_max_limit
from wispbill.network.sync import Desired, Live, router_push, routers_mark_pending
from wispbill.staff.permissions import MANAGE_ROUTERS, require_permission_of_person


def routers_changed(router_ids: Iterable[int | None]) -> None:
    """Mark routers out of sync and queue one push each, after the commit."""
    enforced = routers_mark_pending({i for i in router_ids if i is not None})
    if not enforced:
        return

    def enqueue():
        from wispbill.clients.tasks import reconcile_router_task  # it imports this module

        for router_id in enforced:
            reconcile_router_task(router_id)

    transaction.on_commit(enqueue)


def clients_changed(client_ids: Iterable[int]) -> None:
    """The routers of these clients must hold something else now."""
    routers_changed(routers_of_clients(client_ids))


def routers_of_clients(client_ids: Iterable[int]) -> set[int]:
    return set(
        Client.objects.filter(pk__in=among(list(client_ids)))
        .values_list("zone__router_id", flat=True)
        .distinct()
    )


ROW = (
    "id",
    "name",
    "ip",
    "state",
    "notice_active",
    "notice_dismissed_on",
    "access",
    "pppoe_username",
    "pppoe_password_encrypted",
    "plan__upload_kbps",
    "plan__download_kbps",
    "eff_throttle_kbps",
    "zone__pppoe_pool",
    "zone__router__pppoe_pool",
)


def router_desired_state(router: Router) -> Desired:
    """What the router must hold for its clients (docs/routers.md, "What a router must hold"):
    - the cut list: its suspended clients, but for PPPoE clients whose secret is disabled
      instead (on a router that keeps the secrets and cuts that way);
    - the notice list: its clients with an active notice who still have service (active, or
      throttled: the notice page is where a throttled client learns why it is slow), but not
      for the rest of a day the client dismissed it on ("Understood, keep browsing");
    - the reduced speed list: its throttled clients;
    - with provisioning, a secret per PPPoE client (disabled while cut that way, and for a
      cancelled client, who has no service), but none on a RADIUS router once FreeRADIUS
      answers for its clients and a simple queue per client not cancelled, at
      its plan's speed or, throttled, at the reduced speed (never above the plan's);
    - a PPPoE client without an IP has its zone's (or router's) pool as its secret's remote
      address, and its list entries and queue follow its live address (`Desired.live`)."""
    clients = Client.objects.filter(zone__router=router)
    if not router.provisioning:
        clients = clients.filter(
            Q(state__in=(ClientState.SUSPENDED, ClientState.THROTTLED)) | Q(notice_active=True)
        )
    entries: set[Entry] = set()
    secrets: list[Secret] = []
    queues: list[Queue] = []
    live: list[Live] = []
    usernames: set[str] = set()
    day = today()
    rows = clients.with_cut_action().order_by("id").values_list(*ROW)
    for row in rows:
        cid, name, ip, state, notice, dismissed, access, username, password, up, down = row[:11]
        throttle, zone_pool, router_pool = row[11:]
        comment = client_comment(cid)
        pppoe = access == Access.PPPOE
        secret_off = state == ClientState.CANCELLED or (
            state == ClientState.SUSPENDED and router.disables_secrets
        )
        lists = []
        if state == ClientState.SUSPENDED and not (pppoe and router.disables_secrets):
            lists.append(router.cut_list)
        elif state == ClientState.THROTTLED:
            lists.append(router.throttle_list)
        if notice and dismissed != day and state in WITH_SERVICE:
            lists.append(router.notice_list)
        # A pool client is where its session is: its entries wait for the router's answer.
        pooled = ip is None and pppoe
        if not pooled:
            entries.update(Entry(list_name, ip, comment) for list_name in lists)
        queue = None
        if router.provisioning:
            # Usernames are unique per router (the client service sees to it); a duplicate
            # that slipped in anyway is left to the first client rather than failing it.
            if pppoe and router.pushes_secrets and username not in usernames:
                usernames.add(username)
                remote = (zone_pool or router_pool) if pooled else ip
                secrets.append(
                    Secret(
                        username, decrypt(password), remote, disabled=secret_off, comment=comment
                    )
                )
            if state != ClientState.CANCELLED:
                if state == ClientState.THROTTLED:
                    up, down = min(up, throttle), min(down, throttle)
                queue = Queue(
                    queue_name(cid, name), f"{ip}/32", format_max_limit(up, down), comment
                )
        if pooled:
            live.append(Live(username, comment, tuple(lists), queue))
        elif queue is not None:
            queues.append(queue)
    return Desired(
        entries=frozenset(entries), secrets=tuple(secrets), queues=tuple(queues), live=tuple(live)
    )


def router_reconcile(router: Router, *, claimed_only: bool = False, actor=None) -> dict:
    """Make the router hold what its clients' states ask. Raises DriverError when it fails.
    A person ("reconcile now") needs the routers' permission; the system does not."""
    require_permission_of_person(actor, MANAGE_ROUTERS)
    router = Router.objects.get(pk=router.pk)
    return router_push(
        router, desired=lambda: router_desired_state(router), claimed_only=claimed_only
    )


def on_router_settings_changed(sender, *, router_ids: set[int], **kwargs) -> None:
    routers_changed(router_ids)
