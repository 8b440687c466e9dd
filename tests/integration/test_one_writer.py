"""One path per write rule (issue 17): an invoice made by hand is written by the same writer
as the daily run's — numbered, its lines taxed, its charges taken, the credit applied, the
paid status, the audit — and nothing else in the product writes invoices."""

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from wispbill.audit.models import AuditAction, AuditEvent
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.models import Charge, ChargeStatus, Invoice
from wispbill.billing.services.charges import charge_create
from wispbill.billing.services.invoices import charge_invoice_now, invoice_create_for_cycle
from wispbill.billing.services.writer import INVOICE_COLUMNS
from wispbill.clients.models import Client
from wispbill.core.models import CompanySettings

pytestmark = pytest.mark.django_db
DAY = date(2026, 8, 25)
SOURCE = Path(__file__).resolve().parents[2] / "src" / "wispbill"
# Every column the writer sets but who the invoice is for, who made it, and when.
COMPARED = [c for c in INVOICE_COLUMNS if c not in ("client", "automatic", "created_at")]


def _written(client: Client) -> tuple[Invoice, dict, list, list, Decimal, AuditEvent]:
    invoice = Invoice.objects.get(client=client)
    client.refresh_from_db()
    lines = [
        (line.description, line.amount, line.tax_base, line.tax) for line in invoice.lines.all()
    ]
    charges = list(Charge.objects.filter(client=client).values_list("status", "invoice_id"))
    event = AuditEvent.objects.get(action=AuditAction.INVOICE_CREATED, object_id=client.pk)
    fields = {name: getattr(invoice, name) for name in COMPARED}
    return invoice, fields, lines, charges, client.credit, event


@pytest.mark.instant("2026-08-25 10:00")
@pytest.mark.parametrize(
    ("credit", "paid", "status", "credit_left"),
    [
        (Decimal("100.00"), Decimal("100.00"), "pending", Decimal("0.00")),
        (Decimal("1000.00"), Decimal("694.84"), "paid", Decimal("305.16")),
    ],
)
def test_an_invoice_by_hand_is_written_as_the_daily_run_writes_it(
    admin, credit, paid, status, credit_left
):
    company = CompanySettings.load()
    company.tax_rate, company.prices_include_tax = Decimal("0.16"), False
    company.save()
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    plan = PlanFactory(name="Hogar", price=Decimal("399.00"))
    by_run, by_hand = (
        ClientFactory(zone=zone, plan=plan, start_date=date(2026, 1, 1), credit=credit)
        for _ in range(2)
    )
    for client in (by_run, by_hand):
        charge_create(actor=admin, client=client, description="Antena", amount=Decimal("250"))
        charge_create(actor=admin, client=client, description="Descuento", amount=Decimal("-50"))
    by_hand_invoice = invoice_create_for_cycle(actor=admin, client=by_hand, day=DAY)
    with time_machine.travel(DAY, tick=False):
        summary = periodic_tasks_run(actor=None, force=True, day=DAY)
    assert summary.invoices_created == 1  # the one by hand holds its client's cycle

    run_invoice, run_fields, run_lines, run_charges, run_credit, run_event = _written(by_run)
    hand_invoice, hand_fields, hand_lines, hand_charges, hand_credit, hand_event = _written(by_hand)
    assert hand_invoice.pk == by_hand_invoice.pk
    assert run_fields == hand_fields
    assert hand_fields["period_start"] == date(2026, 9, 1)
    assert (hand_fields["subtotal"], hand_fields["tax"], hand_fields["total"]) == (
        Decimal("599.00"),
        Decimal("95.84"),
        Decimal("694.84"),
    )
    assert (hand_fields["paid_amount"], hand_fields["status"]) == (paid, status)
    assert (
        run_lines
        == hand_lines
        == [
            (
                "Servicio de internet Hogar, del 01/09/2026 al 30/09/2026",
                Decimal("462.84"),
                Decimal("399.00"),
                Decimal("63.84"),
            ),
            ("Antena", Decimal("290.00"), Decimal("250.00"), Decimal("40.00")),
            ("Descuento", Decimal("-58.00"), Decimal("-50.00"), Decimal("-8.00")),
        ]
    )
    assert run_charges == [(ChargeStatus.INVOICED, run_invoice.pk)] * 2
    assert hand_charges == [(ChargeStatus.INVOICED, hand_invoice.pk)] * 2
    assert run_credit == hand_credit == credit_left
    assert (run_invoice.automatic, hand_invoice.automatic) == (True, False)
    # The same event, said by who made it.
    assert run_event.changes == {"invoice": [None, run_invoice.pk], "total": [None, "694.84"]}
    assert hand_event.changes == {"invoice": [None, hand_invoice.pk], "total": [None, "694.84"]}
    assert (run_event.actor_name, hand_event.actor_name) == ("system", admin.username)
    assert hand_event.actor_id == admin.pk and hand_event.object_repr == by_hand.name
    assert hand_event.reason == "manual: invoice %(id)s"
    assert hand_event.reason_args == {"id": hand_invoice.pk}
    assert run_event.reason_args == {"start": "2026-09-01", "end": "2026-09-30"}


@pytest.mark.instant("2026-09-10 10:00")
def test_two_invoices_by_hand_at_one_instant_each_take_their_own_charges(admin):
    """The writer finds each new invoice after a bulk insert; a clock that stands still
    writes two of the same client's at one instant, and each keeps its own lines."""
    company = CompanySettings.load()
    company.tax_rate = Decimal("0")
    company.save()
    client = ClientFactory(
        zone=ZoneFactory(pay_day=1), plan=PlanFactory(price=Decimal("300.00")), credit=0
    )
    cycle = invoice_create_for_cycle(actor=admin, client=client)
    with time_machine.travel(datetime(2026, 9, 10, 12, tzinfo=ZoneInfo("UTC")), tick=False):
        router = charge_invoice_now(
            actor=admin, client=client, description="Router", amount=Decimal("300.00")
        )
        cable = charge_invoice_now(
            actor=admin, client=client, description="Cable", amount=Decimal("120.00")
        )
    assert len({cycle.pk, router.pk, cable.pk}) == 3
    assert (router.charges_only, router.total, cable.charges_only, cable.total) == (
        True,
        Decimal("300.00"),
        True,
        Decimal("120.00"),
    )
    assert [line.description for line in router.lines.all()] == ["Router"]
    assert [line.description for line in cable.lines.all()] == ["Cable"]
    assert dict(Charge.objects.values_list("description", "invoice_id")) == {
        "Router": router.pk,
        "Cable": cable.pk,
    }
    events = AuditEvent.objects.filter(action=AuditAction.INVOICE_CREATED, object_id=client.pk)
    assert sorted(event.reason_args["id"] for event in events) == sorted(
        [cycle.pk, router.pk, cable.pk]
    )


def test_only_the_writer_writes_invoices_and_their_lines():
    """Any other path that inserts invoices would number, tax or audit them its own way."""
    writes = re.compile(
        r"Invoice(Line)?\.objects\.(bulk_)?create\(|Invoice(Line)?\(\s*(client|invoice)"
        r"|bulk_insert\(\s*Invoice(Line)?\b"
    )
    found = [
        f"{path.relative_to(SOURCE)}: {match.group(0)}"
        for path in SOURCE.rglob("*.py")
        # The benchmarks in devtools lay down invoices to time what reads them, not as the
        # product bills.
        if not {"migrations", "devtools"} & set(path.parts) and path.name != "writer.py"
        for match in writes.finditer(path.read_text())
    ]
    assert found == []
    # And the writer does: the rule still has its home.
    assert writes.search((SOURCE / "billing" / "services" / "writer.py").read_text())
