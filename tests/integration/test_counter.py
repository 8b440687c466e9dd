"""At the counter and for the owner: the payment date and reference, the amount prefilled with
the balance, what the next run will bill (exactly what the run then bills), the payments
list, the cash report with its CSV, and the money on the dashboard."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client as Browser

from tests.factories import (
    ClientFactory,
    OwnClientFactory,
    PlanFactory,
    UserFactory,
    ZoneFactory,
    first_invoice_next_cycle,
    grant,
)
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.models import Invoice, Payment
from wispbill.billing.selectors import ChargeKind, client_next_charge
from wispbill.billing.services.payments import payment_register
from wispbill.clients.models import Client
from wispbill.core.models import CompanySettings
from wispbill.staff.permissions import REGISTER_PAYMENTS

pytestmark = pytest.mark.django_db
MX = ZoneInfo(settings.TIME_ZONE)


def on(day: date):
    return time_machine.travel(datetime(day.year, day.month, day.day, 12, tzinfo=MX), tick=False)


def _login(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


# --- payment date and reference ---------------------------------------------------------------


def test_the_api_takes_the_payment_date_and_reference(admin_api):
    client = ClientFactory()
    with on(date(2026, 9, 10)):
        made = admin_api.post(
            "/api/v1/payments/",
            {
                "client": client.pk,
                "amount": "250.00",
                "paid_on": "2026-09-08",
                "reference": "SPEI 77",
            },
            format="json",
        )
        assert made.status_code == 201, made.json()
        assert (made.json()["paid_on"], made.json()["reference"]) == ("2026-09-08", "SPEI 77")
        default = admin_api.post(
            "/api/v1/payments/", {"client": client.pk, "amount": "1.00"}, format="json"
        )
        assert default.json()["paid_on"] == "2026-09-10"
        future = admin_api.post(
            "/api/v1/payments/",
            {"client": client.pk, "amount": "1.00", "paid_on": "2026-09-11"},
            format="json",
        )
    assert future.status_code == 400 and "paid_on" in future.json()
    assert Payment.objects.count() == 2


@pytest.mark.instant("2026-08-25 10:00")  # logged in on the run's day, not weeks before
def test_the_payment_form_starts_with_the_balance_and_takes_dd_mm_yyyy(admin):
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    client = ClientFactory(
        zone=zone, start_date=date(2026, 1, 1), plan=PlanFactory(price=Decimal("1234.50"))
    )
    periodic_tasks_run(actor=None, day=date(2026, 8, 25), force=True)
    browser = _login(admin)
    with on(date(2026, 9, 2)):
        html = browser.get(f"/clients/{client.pk}/").content.decode()
        assert 'name="amount" value="1234.50"' in html
        assert 'name="paid_on" value="02/09/2026"' in html
        done = browser.post(
            f"/clients/{client.pk}/payments/",
            {"amount": "1234.50", "method": "transfer", "paid_on": "01/09/2026",
             "reference": "BBVA 4411", "activate": "1"},
            follow=True,
        )  # fmt: skip
    payment = Payment.objects.get()
    assert (payment.paid_on, payment.reference) == (date(2026, 9, 1), "BBVA 4411")
    assert "Pago de $1,234.50 registrado" in done.content.decode()


# --- what the next run will bill -------------------------------------------------------------


@pytest.mark.parametrize(
    "policy, kind, total",
    [
        ("full", ChargeKind.FULL_AFTER_CUT, Decimal("310.00")),
        ("prorated", ChargeKind.PRORATED, Decimal("220.00")),  # 22 of October's 31 days
        ("skip", ChargeKind.SKIPPED, None),
    ],
)
def test_the_payment_screen_says_what_the_next_run_bills_and_the_run_bills_it(
    admin, policy, kind, total
):
    company = CompanySettings.load()
    company.reactivation_billing = policy
    company.save()
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    client = ClientFactory(
        zone=zone, start_date=date(2026, 1, 1), plan=PlanFactory(price=Decimal("310.00"))
    )
    # Cut on 5 September; October's invoice date (24 September) comes while it is cut.
    for day in (date(2026, 8, 25), date(2026, 9, 5), date(2026, 9, 24)):
        periodic_tasks_run(actor=None, day=day, force=True)
    with on(date(2026, 10, 10)):
        periodic_tasks_run(actor=None, day=date(2026, 10, 10))
        client.refresh_from_db()
        assert client.state == "suspended"
        before = client_next_charge(client)  # "if it pays now"
        html = _login(admin).get(f"/clients/{client.pk}/").content.decode()
        payment_register(actor=admin, client=client, amount=Decimal("310.00"))
        client.refresh_from_db()
        after = client_next_charge(client)
    assert before == after and after.kind == kind
    assert (after.charge.total if after.charge else None) == total
    assert f'data-kind="{kind}"' in html
    if total:
        assert f"${total:,.2f}" in html
    with on(date(2026, 10, 11)):
        periodic_tasks_run(actor=None, day=date(2026, 10, 11))
    october = Invoice.objects.filter(client=client, period_start=date(2026, 10, 1)).first()
    assert (october.total if october else None) == total


def test_the_next_charge_of_an_active_client_is_its_whole_next_cycle(admin):
    client = OwnClientFactory(
        plan=PlanFactory(price=Decimal("499.00")), start_date=date(2026, 1, 1)
    )
    with on(date(2026, 9, 2)):
        next_charge = client_next_charge(client)
    assert next_charge.kind == ChargeKind.FULL and next_charge.charge.total == Decimal("499.00")
    assert next_charge.cycle.invoice_date <= date(2026, 9, 2)


# --- the payments list and the cash report -----------------------------------------------------


@pytest.fixture
def day_of_payments(admin):
    cashier = grant(UserFactory(username="caja1"), REGISTER_PAYMENTS)
    ana = ClientFactory(name="Ana Pérez")
    beto = ClientFactory(name="Beto Ruiz")
    with on(date(2026, 9, 10)):
        payment_register(actor=admin, client=ana, amount=Decimal("100.00"), method="cash")
        payment_register(actor=cashier, client=ana, amount=Decimal("250.50"), method="cash")
        payment_register(
            actor=cashier, client=beto, amount=Decimal("1000.00"), method="transfer",
            reference="SPEI 9", paid_on=date(2026, 9, 9), confirm_large=True,
        )  # fmt: skip
        payment_register(actor=cashier, client=beto, amount=Decimal("20.00"), method="card")
    return cashier


def test_the_cash_report_adds_up_each_day_per_person_and_method(admin, staff, day_of_payments):
    with on(date(2026, 9, 10)):
        html = _login(staff).get("/payments/cash-report/").content.decode()
        exported = _login(staff).get(
            "/payments/cash-report/?from=09/09/2026&to=10/09/2026&export=csv"
        )
    assert "10 de septiembre de 2026" in html
    assert 'data-testid="cash-total">$370.50<' in html  # the transfer was received on the 9th
    assert "caja1 · 2" in html and "boss · 1" in html
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["Fecha de pago", "Registró", "Forma de pago", "Pagos", "Total", "IVA"]
    # The IVA each amount holds at 16 %, prices including it: 1000.00 / 1.16 = 862.07.
    assert ["2026-09-09", "caja1", "Transferencia", "1", "1000.00", "137.93"] in rows
    assert ["2026-09-10", "caja1", "Efectivo", "1", "250.50", "34.55"] in rows
    assert rows[-1] == ["", "", "Total", "4", "1370.50", "189.03"]


def test_the_payments_list_filters_and_exports(admin, day_of_payments):
    browser = _login(admin)
    html = browser.get("/payments/?method=cash&from=10/09/2026&to=10/09/2026").content.decode()
    assert html.count('class="payment-row"') == 2
    assert 'data-testid="payments-total">$350.50<' in html
    exported = browser.get("/payments/?who=caja1&export=csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))
    assert len(rows) == 4 and rows[1][:5] == ["2026-09-10", "Beto Ruiz", "20.00", "Tarjeta", ""]
    assert any(row[4] == "SPEI 9" for row in rows)


# --- the dashboard ---------------------------------------------------------------------------


@pytest.mark.instant("2026-08-25 10:00")  # logged in on the run's day, not weeks before
def test_the_dashboard_shows_the_money_and_who_the_tasks_leave_out(admin, staff):
    first_invoice_next_cycle()  # this story bills from the first whole cycle
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    ClientFactory.create_batch(2, zone=zone, start_date=date(2026, 1, 1))
    off = ZoneFactory(task_cuts=False)
    later = date(2026, 10, 1)  # counted among those a task leaves out, billed nothing yet
    ClientFactory.create_batch(3, zone=off, start_date=later)
    OwnClientFactory(task_notices=False, start_date=later)
    periodic_tasks_run(actor=None, day=date(2026, 8, 25), force=True)
    paying = Client.objects.filter(zone=zone).first()
    with on(date(2026, 9, 6)):
        periodic_tasks_run(actor=None, day=date(2026, 9, 6))
        payment_register(
            actor=admin, client=paying, amount=Decimal("399.00"), paid_on=date(2026, 9, 1)
        )
        payment_register(actor=admin, client=paying, amount=Decimal("50.00"))
        html = _login(staff).get("/").content.decode()
    assert 'data-testid="collected-today"><b>$50.00<' in html
    assert 'data-testid="collected-month"><b>$449.00<' in html
    assert 'data-testid="overdue"><b>$399.00<' in html and "de 1 cliente" in html
    assert "/clients/?task_off=cuts" in html and "3 clientes la tienen desactivada" in html
    assert "/clients/?task_off=notices" in html and "1 cliente la tiene desactivada" in html
    listed = _login(staff).get("/clients/?task_off=cuts").content.decode()
    assert listed.count('class="client-row"') == 3  # the link shows the clients it counted
