"""Fair charges (issue 18, part B): the first cycle of a client who starts mid-cycle, one-off
charges and discounts on the next invoice (API and panel), an invoice of the pending charges
alone, the panel's confirmation before it creates an invoice, and the reconnection fee after
a cut but not after a promise."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client as Browser

from tests.factories import ClientFactory, PlanFactory, UserFactory, ZoneFactory, grant
from wispbill.audit.models import AuditEvent
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.debt import client_promise, client_reactivate
from wispbill.billing.models import Charge, Invoice
from wispbill.billing.selectors import client_next_charge
from wispbill.billing.services.payments import payment_register
from wispbill.clients.models import Client
from wispbill.core.models import CompanySettings
from wispbill.staff.permissions import MANAGE_INVOICES

pytestmark = pytest.mark.django_db
SEPT_6 = "2026-09-06 10:00"


def _company(**values) -> CompanySettings:
    CompanySettings.objects.update_or_create(pk=1, defaults=values)
    return CompanySettings.load()


def _login(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


@pytest.fixture
def zone():
    # Pay day 1, invoice 7 days before, notice +2, grace 4, prepaid: September is 1-30.
    return ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)


@pytest.fixture
def newcomer(zone):
    """A client whose service starts on 6 September, in the middle of September's cycle."""
    return ClientFactory(
        zone=zone,
        name="Nueva",
        start_date=date(2026, 9, 6),
        plan=PlanFactory(name="Internet 10 Mbps", price=Decimal("399.00")),
    )


# --- the first invoice ------------------------------------------------------------------------


@pytest.mark.instant(SEPT_6)
@pytest.mark.parametrize(
    "mode, total, line",
    [
        (
            "prorated",
            Decimal("332.50"),  # 399.00 × 25 / 30
            "Servicio de internet Internet 10 Mbps, del 06/09/2026 al 30/09/2026 (25 de 30 días)",
        ),
        (
            "full",
            Decimal("399.00"),
            "Servicio de internet Internet 10 Mbps, del 01/09/2026 al 30/09/2026",
        ),
        ("next_cycle", None, None),
    ],
)
def test_a_client_who_starts_mid_cycle_is_billed_by_the_company_rule(
    newcomer, admin_api, mode, total, line
):
    assert (
        admin_api.patch("/api/v1/company/", {"first_invoice": mode}, format="json").json()[
            "first_invoice"
        ]
        == mode
    )
    preview = client_next_charge(Client.objects.get(pk=newcomer.pk))
    periodic_tasks_run(actor=None, day=date(2026, 9, 6))
    september = Invoice.objects.filter(client=newcomer, period_start=date(2026, 9, 1)).first()
    assert (september.total if september else None) == total
    assert (preview.charge.total if preview.charge else None) == total  # preview == run
    if line:
        assert [li.description for li in september.lines.all()] == [line]
        assert (september.period_start, september.period_end) == (
            date(2026, 9, 1),
            date(2026, 9, 30),
        )
    # Every mode bills October in full, once, on its invoice date.
    periodic_tasks_run(actor=None, day=date(2026, 9, 24), force=True)
    october = Invoice.objects.get(client=newcomer, period_start=date(2026, 10, 1))
    assert october.total == Decimal("399.00")


@pytest.mark.instant(SEPT_6)
def test_clients_invoiced_before_are_not_billed_again_for_their_first_cycle(zone):
    """Switching to "prorated" touches only cycles the engine has not invoiced yet."""
    _company(first_invoice="next_cycle")
    old = ClientFactory(zone=zone, start_date=date(2026, 7, 10))
    periodic_tasks_run(actor=None, day=date(2026, 9, 6))
    _company(first_invoice="prorated")
    periodic_tasks_run(actor=None, day=date(2026, 9, 6))
    assert list(Invoice.objects.filter(client=old).values_list("period_start", flat=True)) == [
        date(2026, 9, 1)
    ]


# --- one-off charges ---------------------------------------------------------------------------


@pytest.mark.instant(SEPT_6)
def test_charges_and_a_discount_become_lines_of_the_next_invoice(newcomer, admin_api):
    made = admin_api.post(
        "/api/v1/charges/",
        {"client": newcomer.pk, "description": "Instalación", "amount": "500.00"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["status"] == "pending" and made.json()["invoice"] is None
    discount = admin_api.post(
        "/api/v1/charges/",
        {"client": newcomer.pk, "description": "Descuento de bienvenida", "amount": "-100.00"},
        format="json",
    )
    assert discount.status_code == 201
    periodic_tasks_run(actor=None, day=date(2026, 9, 6))
    invoice = Invoice.objects.get(client=newcomer)
    assert [(li.description, li.amount) for li in invoice.lines.all()][1:] == [
        ("Instalación", Decimal("500.00")),
        ("Descuento de bienvenida", Decimal("-100.00")),
    ]
    assert invoice.total == Decimal("732.50")  # 332.50 + 500.00 - 100.00
    listed = admin_api.get(f"/api/v1/charges/?client={newcomer.pk}").json()["results"]
    assert {(c["status"], c["invoice"]) for c in listed} == {("invoiced", invoice.pk)}
    # An invoiced charge stays: it is on an invoice.
    refused = admin_api.delete(f"/api/v1/charges/{made.json()['id']}/")
    assert refused.status_code == 400
    assert Charge.objects.count() == 2
    added = AuditEvent.objects.filter(action="charge.added", object_id=newcomer.pk)
    assert added.count() == 2


@pytest.mark.instant(SEPT_6)
def test_a_discount_never_makes_an_invoice_negative(newcomer, admin_api):
    refused = admin_api.post(
        "/api/v1/charges/",
        {"client": newcomer.pk, "description": "Descuento", "amount": "-399.01"},
        format="json",
    )
    assert refused.status_code == 400
    assert "no puede dejar una factura en negativo" in refused.json()["amount"][0]
    assert not Charge.objects.exists()
    zero = admin_api.post(
        "/api/v1/charges/",
        {"client": newcomer.pk, "description": "Nada", "amount": "0.00"},
        format="json",
    )
    assert zero.status_code == 400 and "amount" in zero.json()
    # A discount alone cannot be invoiced at once: it waits for the next cycle's invoice.
    periodic_tasks_run(actor=None, day=date(2026, 9, 6))
    ok = admin_api.post(
        "/api/v1/charges/",
        {"client": newcomer.pk, "description": "Descuento", "amount": "-50.00"},
        format="json",
    )
    assert ok.status_code == 201
    alone = admin_api.post(
        f"/api/v1/clients/{newcomer.pk}/create-invoice/", {"charges": True}, format="json"
    )
    assert alone.status_code == 400
    assert "no puede ser negativa" in str(alone.json())
    assert Invoice.objects.count() == 1


@pytest.mark.instant(SEPT_6)
def test_only_a_pending_charge_can_be_deleted_and_only_with_the_permission(
    newcomer, admin_api, nobody_api
):
    charge = admin_api.post(
        "/api/v1/charges/",
        {"client": newcomer.pk, "description": "Antena", "amount": "800.00"},
        format="json",
    ).json()
    assert nobody_api.get("/api/v1/charges/").json()["count"] == 1  # everyone reads
    denied = nobody_api.post(
        "/api/v1/charges/",
        {"client": newcomer.pk, "description": "Antena", "amount": "800.00"},
        format="json",
    )
    assert denied.status_code == 403
    assert nobody_api.delete(f"/api/v1/charges/{charge['id']}/").status_code == 403
    assert admin_api.delete(f"/api/v1/charges/{charge['id']}/").status_code == 204
    assert not Charge.objects.exists()
    assert AuditEvent.objects.filter(action="charge.deleted", object_id=newcomer.pk).exists()


@pytest.mark.instant(SEPT_6)
def test_create_invoice_with_charges_invoices_them_alone_when_the_cycle_is_billed(
    newcomer, admin_api
):
    periodic_tasks_run(actor=None, day=date(2026, 9, 6))
    cycle = Invoice.objects.get(client=newcomer)
    admin_api.post(
        "/api/v1/charges/",
        {"client": newcomer.pk, "description": "Cambio de domicilio", "amount": "250.00"},
        format="json",
    )
    plain = admin_api.post(f"/api/v1/clients/{newcomer.pk}/create-invoice/", {}, format="json")
    assert plain.status_code == 400  # the cycle has its invoice
    made = admin_api.post(
        f"/api/v1/clients/{newcomer.pk}/create-invoice/", {"charges": True}, format="json"
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["total"] == "250.00"
    assert body["lines"] == [{"description": "Cambio de domicilio", "amount": "250.00"}]
    assert body["period_start"] == body["period_end"] == "2026-09-06"
    assert Charge.objects.get().invoice_id == body["id"]
    # The charges' invoice takes no cycle's place: October is billed as usual.
    periodic_tasks_run(actor=None, day=date(2026, 9, 24), force=True)
    periods = Invoice.objects.filter(client=newcomer).values_list("period_start", "total")
    assert sorted(periods) == [
        (cycle.period_start, Decimal("332.50")),
        (date(2026, 9, 6), Decimal("250.00")),
        (date(2026, 10, 1), Decimal("399.00")),
    ]
    nothing = admin_api.post(
        f"/api/v1/clients/{newcomer.pk}/create-invoice/", {"charges": True}, format="json"
    )
    assert nothing.status_code == 400


# --- the panel ---------------------------------------------------------------------------------


@pytest.mark.instant(SEPT_6)
def test_the_panel_charges_card_adds_deletes_and_invoices_now(newcomer):
    clerk = grant(UserFactory(username="cajera"), MANAGE_INVOICES)
    browser = _login(clerk)
    base = f"/clients/{newcomer.pk}/actions"
    browser.post(
        f"{base}/add-charge/", {"description": "Router", "amount": "650.00", "when": "next"}
    )
    page = browser.get(f"/clients/{newcomer.pk}/").content.decode()
    assert "Cargos" in page and "Router" in page and "$650.00" in page
    charge = Charge.objects.get()
    browser.post(f"{base}/delete-charge/", {"charge": charge.pk})
    assert not Charge.objects.exists()
    refused = browser.post(
        f"{base}/add-charge/",
        {"description": "Descuento", "amount": "-500.00", "when": "next"},
        follow=True,
    ).content.decode()
    assert "no puede dejar una factura en negativo" in refused
    assert not Charge.objects.exists()
    done = browser.post(
        f"{base}/add-charge/", {"description": "Visita técnica", "amount": "150.00", "when": "now"},
        follow=True,
    ).content.decode()  # fmt: skip
    invoice = Invoice.objects.get()
    # Nothing billed September yet: "invoice now" bills the cycle with the charge.
    assert [li.amount for li in invoice.lines.all()] == [Decimal("332.50"), Decimal("150.00")]
    assert "Factura" in done and "$482.50" in done
    # Someone without the permission sees the card but cannot add.
    nobody = _login(UserFactory(username="mirona"))
    nobody.post(f"{base}/add-charge/", {"description": "X", "amount": "1.00", "when": "next"})
    assert Charge.objects.count() == 1


@pytest.mark.instant(SEPT_6)
def test_the_panel_shows_what_an_invoice_bills_and_asks_before_creating_it(newcomer, admin):
    browser = _login(admin)
    Charge.objects.create(
        client=newcomer, description="Instalación", amount=Decimal("300.00"), actor_name="boss"
    )
    preview = browser.get(f"/clients/{newcomer.pk}/invoice/", {"date": "06/09/2026"})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "del 06/09/2026 al 30/09/2026 (25 de 30 días)" in html
    assert "Instalación" in html and "$332.50" in html and "$632.50" in html
    assert not Invoice.objects.exists()  # only shown
    bad = browser.get(f"/clients/{newcomer.pk}/invoice/", {"date": "31/02/2026"}, follow=True)
    assert "no es una fecha válida" in bad.content.decode()
    browser.post(
        f"/clients/{newcomer.pk}/actions/create-invoice/", {"date": "06/09/2026"}, follow=True
    )
    invoice = Invoice.objects.get()
    assert invoice.total == Decimal("632.50") and not invoice.automatic


# --- the reconnection fee ----------------------------------------------------------------------


@pytest.fixture
def cut_client(zone):
    """A client cut on 5 September for September's unpaid invoice."""
    client = ClientFactory(zone=zone, start_date=date(2026, 1, 1))
    periodic_tasks_run(actor=None, day=date(2026, 8, 25), force=True)
    periodic_tasks_run(actor=None, day=date(2026, 9, 5), force=True)
    client.refresh_from_db()
    assert client.state == "suspended"
    return client


@pytest.mark.instant("2026-09-07 11:00")
def test_a_reconnection_after_a_cut_adds_the_fee_once(cut_client, admin):
    _company(reconnection_fee=Decimal("150.00"))
    payment_register(actor=admin, client=cut_client, amount=Decimal("399.00"))
    cut_client.refresh_from_db()
    assert cut_client.state == "active"
    fee = Charge.objects.get(client=cut_client)
    assert (fee.description, fee.amount, fee.status) == ("Reconexión", Decimal("150.00"), "pending")
    assert AuditEvent.objects.filter(action="charge.added", object_id=cut_client.pk).count() == 1
    # Running the day again, or paying again, adds nothing: one fee per reactivation.
    periodic_tasks_run(actor=None, day=date(2026, 9, 7))
    payment_register(actor=admin, client=cut_client, amount=Decimal("10.00"))
    assert Charge.objects.filter(client=cut_client).count() == 1
    # It is on October's invoice.
    periodic_tasks_run(actor=None, day=date(2026, 9, 24), force=True)
    october = Invoice.objects.get(client=cut_client, period_start=date(2026, 10, 1))
    assert "Reconexión" in [li.description for li in october.lines.all()]


@pytest.mark.instant("2026-09-07 11:00")
def test_a_reactivation_by_hand_adds_the_fee_but_a_promise_does_not(cut_client, admin, zone):
    _company(reconnection_fee=Decimal("80.00"))
    other = ClientFactory(zone=zone, start_date=date(2026, 1, 1))
    Client.objects.filter(pk=other.pk).update(state="suspended", suspended_on=date(2026, 9, 5))
    client_promise(actor=admin, client=other, until=date(2026, 9, 7) + timedelta(days=3))
    other.refresh_from_db()
    assert other.state == "active"
    assert not Charge.objects.filter(client=other).exists()
    client_reactivate(actor=admin, client=cut_client)
    assert Charge.objects.filter(client=cut_client).values_list("amount", flat=True).get() == (
        Decimal("80.00")
    )


@pytest.mark.instant("2026-09-07 11:00")
def test_no_fee_when_the_company_charges_none(cut_client, admin):
    client_reactivate(actor=admin, client=cut_client)
    assert not Charge.objects.exists()
