"""Reads about clients: the list the panel and API page through, balances, sync state."""

from django.db.models import Q, QuerySet

from wispbill.billing.selectors import with_balance
from wispbill.clients.models import Client


def client_list(
    *,
    search: str = "",
    zone: int | None = None,
    router: int | None = None,
    state: str = "",
    billing_type: str = "",
) -> QuerySet[Client]:
    """Clients filtered as the operator asked, with what a list row shows, in a few queries."""
    qs = with_balance(Client.objects.select_related("zone__router", "plan"))
    if search := search.strip():
        condition = (
            Q(name__icontains=search)
            | Q(email__icontains=search)
            | Q(phone__icontains=search)
            | Q(address__icontains=search)
        )
        if any(ch.isdigit() for ch in search):
            condition |= Q(ip__startswith=search)
        qs = qs.filter(condition)
    if zone:
        qs = qs.filter(zone_id=zone)
    if router:
        qs = qs.filter(zone__router_id=router)
    if state:
        qs = qs.filter(state=state)
    if billing_type:
        qs = qs.filter(billing_type=billing_type)
    return qs.order_by("name", "id")


def client_sync_status(client: Client) -> str:
    """ "ok" when its router holds what the client's state asks (always, without enforcement);
    "pending" while a change waits to be pushed; "error" when its entry failed or its router
    cannot be reached."""
    router = client.zone.router
    if router.enforcement == "none":
        return "ok"
    if client.ip in router.failed_addresses:
        return "error"
    if router.needs_sync:
        # Changes wait for the router: unreachable ("error") or simply not pushed yet.
        return "error" if router.sync_status == "error" else "pending"
    return "ok" if router.last_sync_at else "pending"
