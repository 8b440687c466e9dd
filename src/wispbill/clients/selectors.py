"""Reads about clients: the list the panel and API page through, which switches govern a
client, and whether its router holds what its state asks."""

from django.db.models import Case, Count, F, Q, QuerySet, When
from django.utils.translation import gettext

from wispbill.clients.models import BillingType, Client
from wispbill.clients.search import containing
from wispbill.core.models import fold
from wispbill.core.schedule import BillingSchedule
from wispbill.core.switches import TASKS, Switches, Task
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
        qs = clients_governed_by(qs, task_off, enabled=False)
    if notice:
        qs = qs.filter(notice_active=True)
    return qs.order_by("name", "id")


def client_governing_schedule(client: Client) -> BillingSchedule:
    """The schedule that bills a client: its own for own billing, its zone's otherwise."""
    return client.schedule if client.is_own_billing else client.zone.schedule


def client_cut_action(client: Client) -> tuple[str, int]:
    """What the cut does to a client, and its reduced speed: its own schedule's for own
    billing, its zone's otherwise."""
    source = client if client.is_own_billing else client.zone
    return source.cut_action, source.throttle_kbps


def clients_with_cut_action(qs: QuerySet) -> QuerySet:
    """Annotate `eff_cut_action` and `eff_throttle_kbps` in SQL, for the cut and the
    routers."""
    return qs.annotate(
        **{
            f"eff_{column}": Case(
                When(billing_type=BillingType.OWN, then=F(column)),
                default=F(f"zone__{column}"),
            )
            for column in ("cut_action", "throttle_kbps")
        }
    )


def client_effective_switches(client: Client) -> Switches:
    """The switches that govern a client: its own for own billing, its zone's otherwise."""
    return client.switches if client.is_own_billing else client.zone.switches


def clients_with_effective_switches(qs: QuerySet) -> QuerySet:
    """Annotate `eff_invoices`, `eff_notices`, `eff_cuts` in SQL, for lists and sweeps."""
    return qs.annotate(
        **{
            f"eff_{task}": Case(
                When(billing_type=BillingType.OWN, then=F(f"task_{task}")),
                default=F(f"zone__task_{task}"),
            )
            for task in TASKS
        }
    )


def clients_governed_by(qs: QuerySet, task: Task, enabled: bool = True) -> QuerySet:
    """The clients of `qs` whose governing switch for `task` is `enabled`."""
    return qs.filter(
        Q(billing_type=BillingType.OWN, **{f"task_{task}": enabled})
        | Q(billing_type=BillingType.ZONE, **{f"zone__task_{task}": enabled})
    )


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


def clients_with_tasks_off() -> dict[str, int]:
    """Per task, how many clients have it switched off by the switches that govern them (the
    count the clients list's `task_off` filter shows); one query."""
    qs = clients_with_effective_switches(Client.objects.all())
    return qs.aggregate(**{task: Count("id", filter=Q(**{f"eff_{task}": False})) for task in TASKS})
