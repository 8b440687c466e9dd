"""Correcting payments (issue 18): a payment voided from the API and the panel, by whom and
when it may be, what it undoes, and the money that adds up after each step; amounts typed as
the ISP's operators write them, and a payment far above the debt that asks first."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db.models import Sum
from django.test import Client as Browser

from tests.factories import ClientFactory, PlanFactory, UserFactory, ZoneFactory, grant
from tests.messaging_fixtures import pdf_text
from wispbill.audit.models import AuditEvent
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.models import Invoice, Payment
from wispbill.billing.services.invoices import invoice_cancel, invoice_create_for_cycle
from wispbill.billing.services.payments import payment_register
from wispbill.clients.models import Client, Plan
from wispbill.core.clock import today
from wispbill.staff.permissions import MANAGE_INVOICES, REGISTER_PAYMENTS
from wispbill.staff.services import api_key_create

pytestmark = pytest.mark.django_db
MX = ZoneInfo(settings.TIME_ZONE)
ZERO = Decimal("0.00")


def _api(user, language: str = "es"):
    from rest_framework.test import APIClient

    api = APIClient()
    _key, plain = api_key_create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}", HTTP_ACCEPT_LANGUAGE=language)
    return api


def _browser(user, language: str = "es") -> Browser:
    browser = Browser()
    browser.force_login(user)
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return browser


def at(day: date, hour: int = 12):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=MX), tick=False)


@pytest.fixture
def cashier(db):
    return grant(UserFactory(username="caja"), REGISTER_PAYMENTS)


@pytest.fixture
def other_cashier(db):
    return grant(UserFactory(username="caja2"), REGISTER_PAYMENTS)


@pytest.fixture
def manager(db):
    """May void any payment (`manage_invoices`), but not register one."""
    return grant(UserFactory(username="gerente"), MANAGE_INVOICES)


def _owing_client(price: str = "399.00") -> Client:
    """A client of two months, owing its current cycle in full."""
    client = ClientFactory(
        plan=PlanFactory(price=Decimal(price)), start_date=today() - timedelta(days=62)
    )
    invoice_create_for_cycle(actor=None, client=client)
    return client


def _pay(api, client, amount: str, **extra):
    answer = api.post(
        "/api/v1/payments/", {"client": client.pk, "amount": amount, **extra}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()


def _void(api, payment_id: int, reason: str = "Billete falso"):
    return api.post(f"/api/v1/payments/{payment_id}/void/", {"reason": reason}, format="json")


def _stat(html: str, testid: str) -> Decimal:
    found = re.search(rf'data-testid="{testid}">(-?)\$([\d,]+\.\d\d)<', html)
    assert found, f"{testid} not on the page"
    return Decimal(found[1] + found[2].replace(",", ""))


def assert_money_adds_up(api, browser, client: Client) -> Decimal:
    """Invoices minus payments (voids excluded) is the balance the API shows, and the cash
    report's total over the story's days is the payments list's."""
    invoiced = Invoice.objects.filter(client=client).exclude(status="cancelled")
    billed = invoiced.aggregate(t=Sum("total"))["t"] or ZERO
    kept = Payment.objects.filter(client=client, status="applied").aggregate(t=Sum("amount"))
    balance = Decimal(api.get(f"/api/v1/clients/{client.pk}/").json()["balance"])
    assert billed - (kept["t"] or ZERO) == balance
    days = [p.paid_on for p in Payment.objects.all()] + [today()]
    span = f"from={min(days):%d/%m/%Y}&to={today():%d/%m/%Y}"
    listed = browser.get(f"/payments/?{span}").content.decode()
    cash = browser.get(f"/payments/cash-report/?{span}").content.decode()
    assert _stat(cash, "cash-total") == _stat(listed, "payments-total")
    return balance


# --- the story: payment, partial payment, void, re-payment ------------------------------------


def test_the_money_adds_up_after_each_step_of_a_story(admin):
    api, browser = _api(admin), _browser(admin)
    client = _owing_client()
    first_invoice = Invoice.objects.get(client=client)
    assert assert_money_adds_up(api, browser, client) == Decimal("399.00")

    partial = _pay(api, client, "150.00")
    assert assert_money_adds_up(api, browser, client) == Decimal("249.00")

    # The rest of the invoice and 400.00 of credit, which the next invoice then uses.
    big = _pay(api, client, "649.00")
    assert big["credit_added"] == "400.00"
    second_invoice = invoice_create_for_cycle(
        actor=None, client=client, day=today() + timedelta(days=40)
    )
    second_invoice.refresh_from_db()
    assert second_invoice.status == "paid"
    assert assert_money_adds_up(api, browser, client) == Decimal("-1.00")

    voided = _void(api, big["id"], "Transferencia rechazada por el banco")
    assert voided.status_code == 200, voided.json()
    body = voided.json()
    assert (body["status"], body["void_reason"], body["voided_by"]) == (
        "voided",
        "Transferencia rechazada por el banco",
        "boss",
    )
    assert body["voided_at"]
    first_invoice.refresh_from_db()
    second_invoice.refresh_from_db()
    # Both invoices owe again: the first its part, the second what the spent credit paid.
    assert (first_invoice.status, first_invoice.paid_amount) == ("pending", Decimal("150.00"))
    assert (second_invoice.status, second_invoice.paid_amount) == ("pending", ZERO)
    client.refresh_from_db()
    assert client.credit == ZERO
    assert assert_money_adds_up(api, browser, client) == Decimal("648.00")

    again = _void(api, big["id"])
    assert again.status_code == 400
    assert "anulado" in again.json()["non_field_errors"][0]

    _pay(api, client, "648.00")
    assert assert_money_adds_up(api, browser, client) == ZERO

    # The partial payment voided: its invoice owes exactly that again.
    assert _void(api, partial["id"]).status_code == 200
    first_invoice.refresh_from_db()
    assert (first_invoice.status, first_invoice.outstanding) == ("pending", Decimal("150.00"))
    assert assert_money_adds_up(api, browser, client) == Decimal("150.00")

    listed = api.get(f"/api/v1/payments/?client={client.pk}&status=voided").json()
    assert sorted(p["id"] for p in listed["results"]) == sorted([big["id"], partial["id"]])
    applied = api.get(f"/api/v1/payments/?client={client.pk}&status=applied").json()
    assert [p["amount"] for p in applied["results"]] == ["648.00"]
    assert api.get("/api/v1/payments/?status=lost").status_code == 400
    events = api.get("/api/v1/audit-events/?action=payment.voided").json()["results"]
    assert {e["actor"] for e in events} == {"boss"} and len(events) == 2


def test_a_void_after_its_invoice_was_cancelled_takes_the_money_off_the_credit(admin):
    api = _api(admin)
    client = _owing_client()
    payment = _pay(api, client, "200.00")
    invoice_cancel(actor=None, invoice=Invoice.objects.get(client=client))
    client.refresh_from_db()
    assert client.credit == Decimal("200.00")
    assert _void(api, payment["id"]).status_code == 200
    client.refresh_from_db()
    assert client.credit == ZERO
    assert api.get(f"/api/v1/clients/{client.pk}/").json()["balance"] == "0.00"


# --- who may void ---------------------------------------------------------------------------


def test_a_cashier_voids_its_own_payment_of_today(cashier):
    client = _owing_client()
    payment = _pay(_api(cashier), client, "399.00")
    answer = _void(_api(cashier), payment["id"], "Se cobró dos veces")
    assert answer.status_code == 200 and answer.json()["status"] == "voided"


def test_a_cashier_may_not_void_anothers_payment(cashier, other_cashier):
    client = _owing_client()
    payment = _pay(_api(other_cashier), client, "399.00")
    answer = _void(_api(cashier), payment["id"])
    assert answer.status_code == 403
    assert "Crear y cancelar facturas" in answer.json()["detail"]
    assert Payment.objects.get(pk=payment["id"]).status == "applied"
    assert Invoice.objects.get(client=client).status == "paid"


@pytest.mark.instant("2026-09-05 18:00")
def test_a_cashier_may_not_void_its_own_payment_of_another_day_but_a_manager_may(cashier, manager):
    client = _owing_client()
    payment = _pay(_api(cashier), client, "399.00")
    with at(date(2026, 9, 6), hour=9):
        refused = _void(_api(cashier, "en"), payment["id"])
        assert refused.status_code == 403
        assert 'permission "Create and cancel invoices"' in refused.json()["detail"]
        assert Payment.objects.get(pk=payment["id"]).status == "applied"
        assert _void(_api(manager), payment["id"]).status_code == 200
    assert Payment.objects.get(pk=payment["id"]).voided_by_name == "gerente"


def test_a_void_needs_a_reason_and_changes_nothing_without_one(admin):
    client = _owing_client()
    payment = _pay(_api(admin), client, "399.00")
    spanish = _void(_api(admin), payment["id"], "   ")
    english = _api(admin, "en").post(f"/api/v1/payments/{payment['id']}/void/", {}, format="json")
    assert spanish.status_code == english.status_code == 400
    assert spanish.json() == {"reason": ["Diga por qué se anula el pago."]}
    assert "reason" in english.json()
    assert Payment.objects.get(pk=payment["id"]).status == "applied"
    assert Invoice.objects.get(client=client).status == "paid"
    assert _api(admin).post("/api/v1/payments/999999/void/", {"reason": "x"}).status_code == 404


# --- the void cuts nobody; the next run decides --------------------------------------------


@pytest.mark.instant("2026-09-06 11:00")
def test_a_void_cuts_nobody_and_the_next_run_does(admin):
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    client = ClientFactory(zone=zone, start_date=date(2026, 1, 1))
    periodic_tasks_run(actor=None, day=date(2026, 8, 25), force=True)
    periodic_tasks_run(actor=None, day=date(2026, 9, 5), force=True)
    client.refresh_from_db()
    assert client.state == "suspended"
    payment = payment_register(actor=admin, client=client, amount=Decimal("399.00"))
    client.refresh_from_db()
    assert client.state == "active"
    assert _void(_api(admin), payment.pk).status_code == 200
    client.refresh_from_db()
    assert client.state == "active"  # left owing, but not cut by the void
    assert Invoice.objects.get(client=client, period_start=date(2026, 9, 1)).status == "pending"
    with at(date(2026, 9, 7), hour=10):
        periodic_tasks_run(actor=None, day=date(2026, 9, 7))
    client.refresh_from_db()
    assert client.state == "suspended"


# --- the panel ---------------------------------------------------------------------------------


def test_the_panel_voids_a_payment_after_a_page_that_names_it(admin):
    client = _owing_client()
    client.name = "Rosa Gómez"
    client.save()
    payment = payment_register(actor=admin, client=client, amount=Decimal("399.00"))
    browser = _browser(admin)
    page = browser.get(f"/clients/{client.pk}/").content.decode()
    assert f'href="/payments/{payment.pk}/void/"' in page and "Anular pago" in page
    confirm = browser.get(f"/payments/{payment.pk}/void/").content.decode()
    assert "Rosa Gómez" in confirm and "$399.00" in confirm and "R-" in confirm
    refused = browser.post(f"/payments/{payment.pk}/void/", {"reason": ""})
    assert refused.status_code == 400 and "obligatorio" in refused.content.decode()
    assert Payment.objects.get(pk=payment.pk).status == "applied"
    done = browser.post(f"/payments/{payment.pk}/void/", {"reason": "Cheque sin fondos"})
    assert done.status_code == 302
    assert "anulado" in browser.get(done["Location"]).content.decode()
    assert Invoice.objects.get(client=client).status == "pending"

    receipt = browser.get(f"/payments/{payment.pk}/").content.decode()
    assert 'data-testid="voided"' in receipt and "ANULADO" in receipt
    assert "Cheque sin fondos" in receipt
    assert "ANULADO" in pdf_text(browser.get(f"/payments/{payment.pk}/receipt/").content)
    again = browser.get(f"/payments/{payment.pk}/void/").content.decode()
    assert 'data-testid="void-refused"' in again and 'data-testid="void-submit"' not in again

    history = AuditEvent.objects.get(action="payment.voided")
    assert (history.actor_name, history.reason) == ("boss", "Cheque sin fondos")


def test_the_panel_void_page_in_english(admin):
    client = _owing_client()
    payment = payment_register(actor=admin, client=client, amount=Decimal("399.00"))
    browser = _browser(admin, "en")
    page = browser.get(f"/payments/{payment.pk}/void/").content.decode()
    assert "Void payment" in page and "$399.00 paid invoice" in page
    refused = browser.post(f"/payments/{payment.pk}/void/", {"reason": ""})
    assert "This field is required." in refused.content.decode()
    done = browser.post(f"/payments/{payment.pk}/void/", {"reason": "Wrong client"}, follow=True)
    assert "voided; its money is owed again." in done.content.decode()
    # The receipt speaks the client's language (Spanish here) whoever opens it.
    assert "ANULADO" in browser.get(f"/payments/{payment.pk}/").content.decode()


def test_the_panel_refuses_a_cashier_anothers_payment(cashier, other_cashier):
    client = _owing_client()
    payment = payment_register(actor=other_cashier, client=client, amount=Decimal("399.00"))
    browser = _browser(cashier)
    page = browser.get(f"/payments/{payment.pk}/void/").content.decode()
    assert 'data-testid="void-refused"' in page and "Crear y cancelar facturas" in page
    browser.post(f"/payments/{payment.pk}/void/", {"reason": "No"})
    assert Payment.objects.get(pk=payment.pk).status == "applied"


@pytest.mark.instant("2026-09-10 10:00")
def test_the_cash_report_shows_the_void_on_its_day_and_the_list_filters(admin, cashier):
    client = _owing_client()
    payment = payment_register(actor=cashier, client=client, amount=Decimal("399.00"))
    payment_register(actor=cashier, client=ClientFactory(), amount=Decimal("100.00"))
    browser = _browser(admin)
    with at(date(2026, 9, 11)):
        browser.post(f"/payments/{payment.pk}/void/", {"reason": "Duplicado"})
        day_of_payment = browser.get("/payments/cash-report/?from=10/09/2026&to=10/09/2026")
        day_of_void = browser.get("/payments/cash-report/?from=11/09/2026&to=11/09/2026")
        both = browser.get("/payments/cash-report/?from=10/09/2026&to=11/09/2026").content
        csv_rows = browser.get(
            "/payments/cash-report/?from=10/09/2026&to=11/09/2026&export=csv"
        ).content.decode("utf-8-sig")
        voided = browser.get("/payments/?status=voided").content.decode()
        applied = browser.get("/payments/?status=applied").content.decode()
    assert _stat(day_of_payment.content.decode(), "cash-total") == Decimal("499.00")
    void_day = day_of_void.content.decode()
    assert _stat(void_day, "cash-total") == Decimal("-399.00")
    assert 'data-testid="cash-void"' in void_day and "Anulado: Efectivo" in void_day
    assert _stat(both.decode(), "cash-total") == Decimal("100.00")
    assert "2026-09-11,boss,Anulado: Efectivo,-1,-399.00,-55.03" in csv_rows
    assert csv_rows.strip().splitlines()[-1] == ",,Total,1,100.00,13.79"
    assert voided.count("payment-row voided") == 1 and "Duplicado" in voided
    assert applied.count('class="payment-row"') == 1


# --- amounts as operators type them -----------------------------------------------------------


def test_the_api_reads_amounts_as_typed_in_mexico(admin):
    api = _api(admin)
    client = _owing_client("1234.50")
    assert _pay(api, client, "1,234.50")["amount"] == "1234.50"
    refused = api.post(
        "/api/v1/payments/", {"client": client.pk, "amount": "199,50"}, format="json"
    )
    assert refused.status_code == 400
    assert "199.50" in refused.json()["amount"][0] and "«199,50»" in refused.json()["amount"][0]
    english = _api(admin, "en").post(
        "/api/v1/payments/", {"client": client.pk, "amount": "199,50"}, format="json"
    )
    assert "can be read two ways" in english.json()["amount"][0]
    plan = api.post(
        "/api/v1/plans/",
        {"name": "Fibra", "price": "$1,499.00", "download_kbps": 1, "upload_kbps": 1},
        format="json",
    )
    assert plan.status_code == 201 and plan.json()["price"] == "1499.00"
    company = api.patch("/api/v1/company/", {"min_debt_to_cut": "1,000.00"}, format="json")
    assert company.status_code == 200 and company.json()["min_debt_to_cut"] == "1000.00"
    assert Payment.objects.count() == 1


def test_the_panel_reads_amounts_as_typed_and_refuses_the_ambiguous_one(admin):
    client = _owing_client("1234.50")
    browser = _browser(admin)
    url = f"/clients/{client.pk}/payments/"
    refused = browser.post(url, {"amount": "199,50", "method": "cash"})
    assert not Payment.objects.exists()
    page = refused.content.decode()
    assert "«199,50» se puede leer de dos maneras" in page and "199.50" in page
    assert _value(page, "amount") == "199,50"  # kept as typed, to be corrected
    browser.post(f"/clients/{client.pk}/payments/", {"amount": "1,234.50", "method": "cash"})
    assert Payment.objects.get().amount == Decimal("1234.50")
    new_plan = browser.post(
        "/plans/new/",
        {"name": "Hogar", "price": "1,299.00", "download_kbps": 5000, "upload_kbps": 1000},
    )
    assert new_plan.status_code == 302, new_plan.content.decode()[:2000]
    assert Plan.objects.get(name="Hogar").price == Decimal("1299.00")


# --- a payment far above the debt asks first ---------------------------------------------------


def test_the_api_asks_to_confirm_a_payment_far_above_the_debt(admin):
    api = _api(admin)
    client = _owing_client()
    refused = api.post(
        "/api/v1/payments/", {"client": client.pk, "amount": "3990.00"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["confirm_large"] == [
        "El cliente debe $399.00; va a registrar $3,990.00. ¿Confirmar?"
    ]
    assert not Payment.objects.exists()
    _pay(api, client, "1197.00")  # twice the debt plus a month: no question
    nothing_owed = _api(admin, "en").post(
        "/api/v1/payments/", {"client": client.pk, "amount": "500.00"}, format="json"
    )
    assert nothing_owed.json()["confirm_large"] == [
        "The client owes nothing; you are about to register $500.00. Confirm?"
    ]
    confirmed = _pay(api, client, "500.00", confirm_large=True)
    assert confirmed["credit_added"] == "500.00"


def test_the_panel_asks_to_confirm_a_payment_far_above_the_debt(admin):
    client = _owing_client()
    browser = _browser(admin)
    form = {"amount": "3,990.00", "method": "transfer", "reference": "SPEI 1", "activate": "1"}
    question = browser.post(f"/clients/{client.pk}/payments/", form)
    html = question.content.decode()
    assert question.status_code == 200 and 'data-testid="confirm-large"' in html
    assert "El cliente debe $399.00; va a registrar $3,990.00. ¿Confirmar?" in html
    assert not Payment.objects.exists()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    assert hidden["confirm_large"] == "1" and hidden["amount"] == "3990.00"
    browser.post(f"/clients/{client.pk}/payments/", hidden)
    payment = Payment.objects.get()
    assert (payment.amount, payment.reference, payment.method) == (
        Decimal("3990.00"),
        "SPEI 1",
        "transfer",
    )


def test_the_service_asks_unless_its_caller_says_it_confirmed(admin):
    """`confirm_large` defaults to False: a caller that does not say it confirmed a payment
    far above the debt is refused, naming the amounts; nothing is written."""
    from django.core.exceptions import ValidationError

    client = _owing_client()
    with pytest.raises(ValidationError) as refused:
        payment_register(actor=admin, client=client, amount=Decimal("3990.00"))
    assert "3,990.00" in refused.value.message_dict["confirm_large"][0]
    assert not Payment.objects.exists()
    payment_register(actor=admin, client=client, amount=Decimal("3990.00"), confirm_large=True)
    assert Payment.objects.get().credit_added == Decimal("3591.00")


def _value(html: str, name: str) -> str:
    """What the payment form's field `name` holds, as the page shows it (the charge form
    before it has an amount too)."""
    html = html[html.index('data-testid="payment-form"') :]
    tag = re.search(rf'<(?:input|textarea|select)[^>]*name="{name}"[^>]*>', html).group(0)
    found = re.search(r'value="([^"]*)"', tag)
    return found.group(1) if found else ""


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_refused_payment_comes_back_with_what_was_typed(admin, language):
    client = _owing_client()
    browser = _browser(admin, language)
    typed = {"method": "transfer", "reference": "SPEI 77", "note": "pagó su hija", "activate": "1"}
    # A bad amount, refused by the form.
    bad = browser.post(f"/clients/{client.pk}/payments/", {**typed, "amount": "39x"})
    html = bad.content.decode()
    assert bad.status_code == 400
    assert (_value(html, "amount"), _value(html, "reference"), _value(html, "note")) == (
        "39x",
        "SPEI 77",
        "pagó su hija",
    )
    assert 'value="transfer" selected' in html
    said = {"es": "No se registró el pago", "en": "The payment was not registered"}[language]
    assert said in html and 'class="field has-error"' in html
    # A date to come, refused by the service: the reason on the date, the rest kept.
    later = (today() + timedelta(days=3)).strftime("%d/%m/%Y")
    future = browser.post(
        f"/clients/{client.pk}/payments/", {**typed, "amount": "399.00", "paid_on": later}
    )
    html = future.content.decode()
    assert future.status_code == 400
    assert (_value(html, "amount"), _value(html, "paid_on"), _value(html, "reference")) == (
        "399.00",
        later,
        "SPEI 77",
    )
    why = {"es": "no puede ser futura", "en": "cannot be in the future"}[language]
    assert why in html
    assert not Payment.objects.exists()


def test_no_to_the_large_payment_question_gives_the_form_back_filled(admin):
    client = _owing_client()
    browser = _browser(admin)
    page = browser.get(f"/clients/{client.pk}/").content.decode()
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    form = {"amount": "3,990.00", "method": "transfer", "reference": "SPEI 1", "activate": "1"}
    html = browser.post(f"/clients/{client.pk}/payments/", {**form, "once": once}).content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    assert hidden["once"] == once  # the confirmed form is the same form: a double click pays once
    back = browser.post(f"/clients/{client.pk}/payments/", {**hidden, "back": "1"})
    html = back.content.decode()
    assert back.status_code == 200 and 'data-initial="money"' in html
    assert (_value(html, "amount"), _value(html, "reference")) == ("3990.00", "SPEI 1")
    assert not Payment.objects.exists()
    browser.post(f"/clients/{client.pk}/payments/", hidden)
    browser.post(f"/clients/{client.pk}/payments/", hidden)
    assert Payment.objects.get().amount == Decimal("3990.00")
