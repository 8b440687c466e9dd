"""Reads about money that the rules use: what a client owes, its invoices, its next charge
and who is due an invoice. The reports (payments, cash, the dashboard) are in `reports`."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import (
    DecimalField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from wispbill.billing.charges import (
    FROM_START,
    CycleCharge,
    billing_start,
    cut_at_invoice_date,
    cycle_charge,
)
from wispbill.billing.models import Invoice, InvoiceQuerySet
from wispbill.clients.models import WITH_SERVICE, Client, ClientState
from wispbill.clients.selectors import client_list
from wispbill.core.clock import business_day, today
from wispbill.core.models import CompanySettings, FirstInvoice, ReactivationBilling
from wispbill.core.schedule import BillingSchedule, Cycle, current_cycle, next_cycle

ZERO = Decimal("0.00")
MONEY: "DecimalField[Decimal, Decimal]" = DecimalField(max_digits=12, decimal_places=2)


def pending_invoices(client: Client | int) -> InvoiceQuerySet:
    """Oldest first: the order a payment pays them in."""
    return Invoice.objects.pending().filter(client=client).oldest_first()


def owed_subquery() -> Coalesce:
    """Per client (OuterRef "pk"): the sum of what its pending invoices still lack."""
    return Coalesce(
        Subquery(
            Invoice.objects.pending()
            .filter(client=OuterRef("pk"))
            .values("client")
            .annotate(owed=Sum(F("total") - F("paid_amount")))
            .values("owed"),
            output_field=MONEY,
        ),
        Value(ZERO),
        output_field=MONEY,
    )


# --- who the invoice task bills, and what the next run will bill a client ------------------


def billed_states(company: CompanySettings) -> list[ClientState]:
    """The states the invoice task bills: active or throttled (a reduced speed is still a
    service), and suspended too if the company says so."""
    states = list(WITH_SERVICE)
    if company.invoice_suspended:
        states.append(ClientState.SUSPENDED)
    return states


def billed_since(cycle: Cycle, company: CompanySettings) -> date:
    """The latest start day of a client that `cycle` bills: its first day, or — unless the
    company starts with the next cycle — its last (the first invoice is then prorated or
    full)."""
    return (
        cycle.period_start if company.first_invoice == FirstInvoice.NEXT_CYCLE else cycle.period_end
    )


def not_yet_invoiced(
    clients: QuerySet[Client], cycle: Cycle, company: CompanySettings
) -> QuerySet[Client]:
    """The clients of `clients` whose billing started in time for the cycle to be billed
    (by its first day, or — unless the company starts with the next cycle — by its last: the
    service's start, and the day after what it paid for before wispbill, `billing_start`)
    and without an invoice for it (a cancelled one included: a cycle is billed
    automatically once)."""
    since = billed_since(cycle, company)
    return (
        clients.filter(start_date__lte=since)
        .exclude(paid_until__gte=since)
        .exclude(
            Exists(
                Invoice.objects.filter(
                    client=OuterRef("pk"), period_start=cycle.period_start, charges_only=False
                )
            )
        )
    )


def invoice_due(
    clients: QuerySet[Client], cycle: Cycle, company: CompanySettings
) -> QuerySet[Client]:
    """The clients of `clients` the invoice task bills for `cycle`: in a billed state,
    started in time, and without an invoice for it."""
    return not_yet_invoiced(clients.filter(state__in=billed_states(company)), cycle, company)


class ChargeKind(models.TextChoices):
    """What the next run does about a client's current cycle, and why."""

    FULL = "full", _("The whole cycle")
    FULL_AFTER_CUT = "full_after_cut", _("The whole cycle, although it was cut then")
    PRORATED = "prorated", _("From the reactivation day (prorated)")
    FIRST_PRORATED = "first_prorated", _("From the day the service starts (prorated)")
    SKIPPED = "skipped", _("Not billed: it was cut then")
    INVOICED = "invoiced", _("Already invoiced")
    NOT_STARTED = "not_started", _("Not billed: the service starts later")
    PAID_BEFORE = "paid_before", _("Not billed: paid for before wispbill")
    TASK_OFF = "task_off", _("Not billed: automatic invoices are off")
    STATE = "state", _("Not billed in its state")


@dataclass(frozen=True)
class NextInvoice:
    """The next invoice the daily run issues a client: its cycle, what it charges, and the
    day of the run that issues it."""

    cycle: Cycle
    charge: CycleCharge
    on: date

    @property
    def amount(self) -> Decimal:
        return self.charge.total

    def as_dict(self) -> dict[str, Any]:
        return {
            "period_start": self.cycle.period_start.isoformat(),
            "period_end": self.cycle.period_end.isoformat(),
            "amount": f"{self.charge.total:.2f}",
            "date": self.on.isoformat(),
            "prorated_from": self.charge.start.isoformat() if self.charge.prorated else None,
        }


# Past this, "the next invoice" of a client is too far ahead to state (a paid_until typo).
AHEAD = timedelta(days=366 * 20)


def next_invoice_ahead(
    *,
    schedule: BillingSchedule,
    price: Decimal,
    start_date: date,
    paid_until: date | None,
    company: CompanySettings,
    day: date,
) -> NextInvoice | None:
    """The first invoice the daily run issues, from the run of `day` on, to a client billed
    with `schedule` at `price` that has no invoice yet: the first cycle its billing start
    (`billing_start`) lets the run bill, by the company's rule for a first invoice, on the
    cycle's invoice date (or on `day`, for the current cycle). None when that is more than
    twenty years ahead."""
    start = billing_start(start_date, paid_until)
    if start > day + AHEAD:
        return None
    cycle = current_cycle(schedule, day)
    if start > cycle.period_end + timedelta(days=62):
        cycle = current_cycle(schedule, start - timedelta(days=62))  # skip the paid cycles
    for _step in range(6):
        if start <= billed_since(cycle, company):
            charge = cycle_charge(
                price=price,
                cycle=cycle,
                start_date=start,
                first_invoice=company.first_invoice,
                suspended_on=None,
                reactivated_on=None,
                policy=company.reactivation_billing,
                invoice_suspended=company.invoice_suspended,
            )
            if charge is not None:
                return NextInvoice(cycle, charge, max(cycle.invoice_date, day))
        cycle = next_cycle(schedule, cycle)
    raise AssertionError("unreachable: a cycle within three months of the start bills it")


@dataclass(frozen=True)
class NextCharge:
    """What the next run will bill a client for its current cycle (`charge` None: nothing),
    assuming, for a suspended client, that the service comes back on `reactivated_on`."""

    run_day: date
    cycle: Cycle
    following: Cycle  # the cycle after it, whose invoice comes next if this one is not billed
    kind: str
    charge: CycleCharge | None
    invoice_id: int | None = None
    reactivated_on: date | None = None
    # For a cycle paid for before wispbill: the first invoice after what was paid.
    ahead: NextInvoice | None = None

    @property
    def days(self) -> int:
        return self.charge.days if self.charge else 0


def next_run_day(company: CompanySettings) -> date:
    """The day the next daily run runs as of: today, or tomorrow once today's has run."""
    day = today() if company.last_daily_run != today() else today() + timedelta(days=1)
    return max(day, business_day())


def client_next_charge(client: Client, *, company: CompanySettings | None = None) -> NextCharge:
    """What the invoice task will bill this client at the next run, by the task's own rules
    (`invoice_due`'s states and cycle, `cycle_charge` for a first cycle and for billing
    after a cut). A suspended
    client is taken as reactivated today, as the payment screen asks: "if it pays now"."""
    company = company or CompanySettings.load()
    day = next_run_day(company)
    schedule = client.governing_schedule
    cycle = current_cycle(schedule, day)

    def result(kind: ChargeKind, charge: CycleCharge | None = None, **extra: Any) -> NextCharge:
        return NextCharge(
            run_day=day,
            cycle=cycle,
            following=next_cycle(schedule, cycle),
            kind=kind,
            charge=charge,
            **extra,
        )

    if not client.effective_switches.invoices:
        return result(ChargeKind.TASK_OFF)
    reactivated_on = client.reactivated_on
    if client.state == ClientState.SUSPENDED and not company.invoice_suspended:
        reactivated_on = business_day()
    elif client.state not in billed_states(company):
        return result(ChargeKind.STATE)
    clients = Client.objects.filter(pk=client.pk)
    if not not_yet_invoiced(clients, cycle, company).exists():
        invoice = Invoice.objects.filter(
            client=client, period_start=cycle.period_start, charges_only=False
        ).first()
        if invoice is not None:
            return result(ChargeKind.INVOICED, invoice_id=invoice.pk)
        if client.start_date <= billed_since(cycle, company):
            ahead = next_invoice_ahead(
                schedule=schedule,
                price=client.plan.price,
                start_date=client.start_date,
                paid_until=client.paid_until,
                company=company,
                day=day,
            )
            return result(ChargeKind.PAID_BEFORE, ahead=ahead)
        return result(ChargeKind.NOT_STARTED)
    charge = cycle_charge(
        price=client.plan.price,
        cycle=cycle,
        start_date=billing_start(client.start_date, client.paid_until),
        first_invoice=company.first_invoice,
        suspended_on=client.suspended_on,
        reactivated_on=reactivated_on,
        policy=company.reactivation_billing,
        invoice_suspended=company.invoice_suspended,
    )
    extra: dict[str, Any] = {"reactivated_on": reactivated_on}
    if charge is None:
        return result(ChargeKind.SKIPPED, **extra)
    if charge.prorated_from == FROM_START:
        return result(ChargeKind.FIRST_PRORATED, charge, **extra)
    if charge.prorated:
        return result(ChargeKind.PRORATED, charge, **extra)
    # In full although it was cut then: only by the company's rule (a prorated cycle whose
    # reactivation came before its period is simply the whole period).
    by_rule = (
        company.reactivation_billing == ReactivationBilling.FULL
        and not company.invoice_suspended
        and cut_at_invoice_date(
            cycle=cycle, suspended_on=client.suspended_on, reactivated_on=reactivated_on
        )
    )
    return result(ChargeKind.FULL_AFTER_CUT if by_rule else ChargeKind.FULL, charge, **extra)


def with_balance(qs: QuerySet[Client]) -> QuerySet[Client]:
    """Annotate `balance_due`: pending invoices minus credit (negative is credit)."""
    return qs.annotate(balance_due=owed_subquery() - F("credit"))


def client_balance(client: Client) -> Decimal:
    if hasattr(client, "balance_due"):
        annotated: Decimal = client.balance_due
        return annotated
    owed: Decimal | None = pending_invoices(client).aggregate(
        owed=Sum(F("total") - F("paid_amount"))
    )["owed"]
    return (owed or ZERO) - client.credit


def client_rows(*, overdue: bool = False, owing: bool = False, **filters: Any) -> QuerySet[Client]:
    """The clients list (`clients.selectors.client_list` and its filters) with each client's
    balance, and the filters that need money: an invoice overdue today, something owed."""
    qs = client_list(**filters)
    if overdue:
        late = Invoice.objects.overdue_on(business_day()).values("client_id")
        qs = qs.filter(pk__in=late)
    qs = with_balance(qs)
    if owing:
        # Only clients with a pending invoice can owe: the balance is computed for those.
        qs = qs.filter(pk__in=Invoice.objects.pending().values("client_id"), balance_due__gt=0)
    return qs
