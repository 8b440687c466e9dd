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
    """ "ok" when the client's router holds what its state asks; routers without enforcement
    always do."""
    router = client.zone.router
    if router.enforcement == "none":
        return "ok"
    return router.sync_status
