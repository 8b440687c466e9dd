"""Which switches govern which client: the one answer every periodic task relies on."""

from django.db.models import Case, F, Q, QuerySet, When

from wispbill.automation.switches import TASKS, Switches


def client_effective_switches(client) -> Switches:
    """Its own switches for own billing; its zone's for zone billing."""
    if client.billing_type == "own":
        return client.switches
    return client.zone.switches


def clients_with_effective_switches(qs: QuerySet) -> QuerySet:
    """Annotate `eff_invoices`, `eff_notices`, `eff_cuts` in SQL, for set-based sweeps."""
    return qs.annotate(
        **{
            f"eff_{task}": Case(
                When(billing_type="own", then=F(f"task_{task}")),
                default=F(f"zone__task_{task}"),
            )
            for task in TASKS
        }
    )


def clients_governed_by(qs: QuerySet, task: str, enabled: bool = True) -> QuerySet:
    """The clients of `qs` whose governing switch for `task` is `enabled`."""
    return qs.filter(
        Q(billing_type="own", **{f"task_{task}": enabled})
        | Q(billing_type="zone", **{f"zone__task_{task}": enabled})
    )
