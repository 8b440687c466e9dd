"""What each router must hold, from its clients' states, and getting it there: the database
is the truth, routers are made to match it, after every change (one coalesced push per
router, after the commit) and periodically."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from wispbill.clients.models import Client, ClientState
from wispbill.network.models import Router
from wispbill.network.reconcile import Entry, client_comment
from wispbill.network.sync import router_push, routers_mark_pending

CHUNK = 500  # keeps every IN (...) list under SQLite's bound-variable limit


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
    ids = list(client_ids)
    routers: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        routers.update(
            Client.objects.filter(pk__in=ids[start : start + CHUNK])
            .values_list("zone__router_id", flat=True)
            .distinct()
        )
    return routers


def router_desired_state(router: Router) -> set[Entry]:
    """The address-list entries the router must hold: its suspended clients in the cut list,
    its clients with an active notice who still have service in the notice list."""
    listed = Client.objects.filter(zone__router=router).filter(
        Q(state=ClientState.SUSPENDED) | Q(state=ClientState.ACTIVE, notice_active=True)
    )
    return {
        Entry(
            router.cut_list if state == ClientState.SUSPENDED else router.notice_list,
            ip,
            client_comment(client_id),
        )
        for client_id, ip, state in listed.values_list("id", "ip", "state")
    }


def router_reconcile(router: Router, *, claimed_only: bool = False) -> dict:
    """Make the router hold what its clients' states ask. Raises DriverError when it fails."""
    router = Router.objects.get(pk=router.pk)
    return router_push(router, desired=router_desired_state(router), claimed_only=claimed_only)


def on_router_settings_changed(sender, *, router_ids: set[int], **kwargs) -> None:
    routers_changed(router_ids)
