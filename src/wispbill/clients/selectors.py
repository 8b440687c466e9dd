"""Reads about clients: the list the panel and API page through, and whether its router
holds what its state asks (which switches and cut govern a client: `ClientQuerySet`)."""

from django.db.models import QuerySet
from django.utils.translation import gettext

from wispbill.clients.models import Client
from wispbill.clients.search import containing
from wispbill.core.models import fold
from wispbill.core.switches import Task
from wispbill.network.models import Enforcement, SyncStatus


def client_list(
    *,
    search: str = "",
    zone: int | None = None,
    router: int | None = None,
    state: str = "",
    billing_type: str = "",
    task_off: str = "",
    notice: bool = False,
) -> QuerySet[Client]:
    """Clients filtered as the operator asked, with what a list row shows, in a few queries.
    Search finds every word anywhere in the name, e-mail, phone, address or IP, ignoring case
    and accents (`gomez` finds "Gómez", `0.163` finds 172.16.0.163)."""
    qs = Client.objects.select_related("zone__router", "plan")
    if words := fold(search).split():
        qs = qs.filter(containing(words))
    if zone:
        qs = qs.filter(zone_id=zone)
    if router:
        qs = qs.filter(zone__router_id=router)
    if state:
        qs = qs.filter(state=state)
    if billing_type:
        qs = qs.filter(billing_type=billing_type)
    if task_off:
        qs = qs.governed_by(Task(task_off), enabled=False)
    if notice:
        qs = qs.filter(notice_active=True)
    return qs.order_by("name", "id")


def _failure_key(client: Client) -> str:
    """How the router's failures name this client: its IP, or, taking one from a pool, its
    PPPoE username (network.sync)."""
    return client.ip or client.pppoe_username


def client_sync_problem(client: Client) -> str:
    """What its router could not do for this client at the last push ("" for nothing), in
    the router's words: one client's problem, not the router's."""
    router = client.zone.router
    key = _failure_key(client)
    if router.enforcement == Enforcement.NONE or not key or key not in router.failed_addresses:
        return ""
    prefix = f"{key}: "
    found = [p[len(prefix) :] for p in router.last_error.split("; ") if p.startswith(prefix)]
    return "; ".join(found) or gettext("Its router could not be set up for it at the last push.")


def client_sync_status(client: Client) -> str:
    """ "ok" when its router holds what the client's state asks (always, without enforcement);
    "pending" while a change waits to be pushed; "error" when its entry failed or its router
    cannot be reached."""
    router = client.zone.router
    if router.enforcement == Enforcement.NONE:
        return SyncStatus.OK
    if client_sync_problem(client):
        return SyncStatus.ERROR
    if router.needs_sync:
        # Changes wait for the router: unreachable ("error") or simply not pushed yet.
        return SyncStatus.ERROR if router.sync_status == SyncStatus.ERROR else SyncStatus.PENDING
    return SyncStatus.OK if router.last_sync_at else SyncStatus.PENDING
