"""What the imports' previews say about money: for each client a file or a router would
create, the next invoice the daily run will issue it (period, amount, day), by the same rules
the run applies — the day after what the client paid for before wispbill (`paid_until`), and
the company's rule for a first invoice."""

from datetime import date
from decimal import Decimal

from wispbill.billing.selectors import NextInvoice, billed_states, next_invoice_ahead, next_run_day
from wispbill.clients.models import ClientState, Plan
from wispbill.clients.services.file_import import FilePreview
from wispbill.clients.services.router_import import Proposal
from wispbill.core.clock import today
from wispbill.core.models import CompanySettings
from wispbill.network.models import Zone


def _next_invoice(
    *,
    zone: Zone,
    plan: Plan | None,
    start_date: date | None,
    paid_until: date | None,
    state: str,
    company: CompanySettings,
    day: date,
) -> NextInvoice | None:
    if state not in billed_states(company):
        return None  # a suspended client is invoiced only once it is reactivated
    zone_schedule = zone.schedule
    assert zone_schedule is not None  # a zone always has a schedule (its columns are required)
    return next_invoice_ahead(
        schedule=zone_schedule,  # own billing starts from its zone's schedule
        price=plan.price if plan else Decimal("0.00"),  # a new plan, priced later
        start_date=start_date or today(),
        paid_until=paid_until,
        company=company,
        day=day,
    )


def file_preview_next_invoices(preview: FilePreview) -> FilePreview:
    """Give every readable row of a file's preview its `next_invoice`."""
    company = CompanySettings.load()
    day = next_run_day(company)
    for row in preview.rows:
        if row.fields is not None and not row.errors:
            row.next_invoice = _next_invoice(
                zone=row.fields["zone"],
                plan=row.fields["plan"],
                start_date=row.fields.get("start_date"),
                paid_until=row.fields.get("paid_until"),
                state=ClientState.ACTIVE,
                company=company,
                day=day,
            )
    return preview


def proposal_next_invoices(
    proposal: Proposal, *, zone: Zone, paid_until: date | None = None
) -> Proposal:
    """Give every client of a router's proposal, imported into `zone` today and paid for
    until `paid_until`, its `next_invoice` (a new plan's price is 0.00 until it is set)."""
    company = CompanySettings.load()
    day = next_run_day(company)
    plans = {
        p.name: Plan.objects.filter(pk=p.existing).first() if p.existing else None
        for p in proposal.plans
    }
    for client in proposal.clients:
        client.next_invoice = _next_invoice(
            zone=zone,
            plan=plans.get(client.plan),
            start_date=None,
            paid_until=paid_until,
            state=client.state,
            company=company,
            day=day,
        )
    return proposal
