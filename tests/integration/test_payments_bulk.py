"""The payment rule applied in bulk (a bank statement confirmed at once) gives exactly what the
same lines give applied one by one at the counter: the same invoices paid, payments, credit,
states, notices, promises, audit events and messages."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from tests.messaging_fixtures import local
from wispbill.audit.models import AuditEvent
from wispbill.billing.models import Charge, Invoice, Payment, PaymentMethod
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.billing.services.payments import CREDIT_LIMIT, payment_register
from wispbill.clients.models import Client, Promise
from wispbill.core.models import CompanySettings
from wispbill.messaging.models import Message
from wispbill.network.models import Enforcement, Router
from wispbill.payments.services import bank_statement_import, bank_statement_preview

pytestmark = pytest.mark.django_db
HEADER = "date,amount,reference,description,tracking_key\n"


class Rollback(Exception):
    pass


def _world(admin) -> str:
    """Five clients in the situations a payment changes, and a statement paying them."""
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    plan = PlanFactory(price=Decimal("400.00"))
    people = {}
    for name in ("Ana", "Beto", "Caro", "Dani", "Eli"):
        client = ClientFactory(
            zone=zone, plan=plan, name=name, email=f"{name.lower()}@example.com",
            start_date=date(2025, 1, 1),
        )  # fmt: skip
        invoice_create_for_cycle(actor=admin, client=client, day=date(2026, 9, 1))
        people[name] = client
    invoice_create_for_cycle(actor=admin, client=people["Eli"], day=date(2026, 8, 1))
    Client.objects.filter(name__in=["Beto", "Caro"]).update(
        state="suspended", suspension_reason="automatic"
    )
    Client.objects.filter(name="Caro").update(auto_activate_on_payment=False)
    Client.objects.filter(name="Dani").update(notice_active=True, promise_until=date(2026, 9, 20))
    Promise.objects.create(client=people["Dani"], until=date(2026, 9, 20), actor_name="admin")
    # A cut client that gets its service back owes the reconnection fee.
    CompanySettings.objects.filter(pk=CompanySettings.load().pk).update(
        reconnection_fee=Decimal("50.00")
    )
    ref = {name: Client.objects.get(pk=c.pk).payment_reference for name, c in people.items()}
    return (
        HEADER
        + "".join(
            f"2026-09-0{day},{amount},{ref[name]},Pago,RASTREO{index:04d}\n"
            for index, (day, amount, name) in enumerate(
                [
                    (8, "400.00", "Ana"),
                    (7, "150.00", "Beto"),
                    (9, "300.00", "Beto"),
                    (8, "100.00", "Caro"),
                    (9, "1000.00", "Dani"),
                    (6, "500.00", "Eli"),
                ]
            )
        )
        + "2026-09-08,99.00,sin referencia,Deposito,RASTREO9999\n"
    )


def _seen() -> dict:
    """What users see, keyed by names and periods rather than ids a rollback does not reuse."""
    names = dict(Client.objects.values_list("id", "name"))
    refs = dict(Payment.objects.values_list("id", "reference"))
    return {
        "clients": sorted(
            Client.objects.values_list(
                "name", "state", "suspension_reason", "credit", "notice_active", "promise_until"
            )
        ),
        "reactivated": sorted(Client.objects.values_list("name", "reactivated_on")),
        "charges": sorted(
            (names[c.client_id], c.description, c.amount, c.status, c.origin)
            for c in Charge.objects.all()
        ),
        "promises": sorted(
            (names[p.client_id], p.until, p.ended_on, p.end_reason) for p in Promise.objects.all()
        ),
        "invoices": sorted(
            (names[i.client_id], i.period_start, i.status, i.paid_amount, i.total)
            for i in Invoice.objects.all()
        ),
        "payments": sorted(
            (
                names[p.client_id],
                p.amount,
                p.method,
                p.paid_on,
                p.reference,
                p.status,
                p.credit_added,
                p.activate_service,
                sorted((a.invoice.period_start, a.amount) for a in p.allocations.all()),
            )
            for p in Payment.objects.all()
        ),  # fmt: skip
        "messages": sorted(
            (
                names[m.client_id],
                m.kind,
                m.channel,
                m.status,
                refs.get(m.payment_id),
                m.subject,
                m.body,
                m.params,
            )
            for m in Message.objects.all()
        ),  # fmt: skip
        "audit": sorted(
            (e.action, e.object_id, str(e.changes), e.reason)
            for e in AuditEvent.objects.exclude(action__startswith="invoice")
        ),
    }


def test_bulk_statement_confirm_equals_the_lines_applied_one_by_one(admin, settings):
    settings.WISPBILL_EMAIL_URL = "smtp://127.0.0.1:2525"
    settings.WISPBILL_FROM_EMAIL = "facturas@isp.example"
    with time_machine.travel(local(2026, 9, 10, 12, 0), tick=False):
        data = _world(admin).encode()
        before = _seen()
        try:
            with transaction.atomic():
                preview = bank_statement_preview(actor=admin, data=data, fmt="generic")
                for line, client in preview.matched:
                    payment_register(
                        actor=admin,
                        client=Client.objects.get(pk=client),
                        amount=line.amount,
                        method=PaymentMethod.TRANSFER,
                        paid_on=line.date,
                        reference=line.tracking_key,
                    )
                one_by_one = _seen()
                raise Rollback
        except Rollback:
            pass
        assert _seen() == before
        bank_statement_import(actor=admin, data=data, fmt="generic")
        at_once = _seen()

    assert at_once == one_by_one
    # And the story is the one a person expects, so the equality is not of two wrong answers.
    clients = {row[0]: row[1:] for row in at_once["clients"]}
    assert clients["Ana"][:3] == ("active", "", Decimal("0.00"))
    assert clients["Beto"][:3] == ("active", "", Decimal("50.00"))
    assert clients["Caro"][:2] == ("suspended", "held")
    assert clients["Dani"] == ("active", "", Decimal("600.00"), False, None)
    eli = [row for row in at_once["invoices"] if row[0] == "Eli"]
    assert [(row[2], row[3]) for row in eli] == [
        ("paid", Decimal("400.00")),
        ("pending", Decimal("100.00")),
    ]
    assert len(at_once["payments"]) == 6
    # Beto was cut and came back: its fee and its day; Caro stays cut and owes none.
    assert [(c[0], *c[2:]) for c in at_once["charges"]] == [
        ("Beto", Decimal("50.00"), "pending", "reconnection")
    ]
    assert dict(at_once["reactivated"])["Beto"] == date(2026, 9, 10)
    assert [row[2:] for row in at_once["promises"]] == [(date(2026, 9, 10), "paid")]
    assert sum(1 for m in at_once["messages"] if m[1] == "receipt") == 6


def test_one_line_over_the_credit_limit_applies_nothing(admin):
    with time_machine.travel(local(2026, 9, 10, 12, 0), tick=False):
        data = _world(admin)
        dani = Client.objects.get(name="Dani")
        Client.objects.filter(pk=dani.pk).update(credit=CREDIT_LIMIT - Decimal("1.00"))
        before = _seen()
        with pytest.raises(ValidationError):
            bank_statement_import(actor=admin, data=data.encode(), fmt="generic")
        assert _seen() == before
        assert not Payment.objects.exists()


def test_a_statement_marks_each_router_once(admin, django_capture_on_commit_callbacks):
    """Beto comes back and Dani's notice ends, on the same router: it is marked and pushed
    once, not once for the reactivation and again for the notice."""
    with time_machine.travel(local(2026, 9, 10, 12, 0), tick=False):
        data = _world(admin).encode()
        Router.objects.update(enforcement=Enforcement.MIKROTIK)
        with django_capture_on_commit_callbacks() as callbacks:
            bank_statement_import(actor=admin, data=data, fmt="generic")
    pushes = [c for c in callbacks if c.__qualname__ == "routers_changed.<locals>.enqueue"]
    assert len(pushes) == 1
    assert Client.objects.get(name="Beto").state == "active"
    assert not Client.objects.get(name="Dani").notice_active
