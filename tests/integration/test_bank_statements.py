"""Bank transfers (SPEI): each client's payment reference, the company's CLABE, and bank
statements imported through the API, the panel and the CLI — looked at first, applied once
through the counter's payment rule, the rest kept for a person to assign."""

import io
import json
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client as Browser
from django.urls import reverse

from tests.clock import child_env
from tests.dump import database_dump
from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from wispbill.billing.models import Invoice, Payment
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.clients.models import Client
from wispbill.core.bank import (
    clabe_check_digit,
    clabe_is_valid,
    payment_reference_of,
    reference_candidates,
    reference_is_valid,
)
from wispbill.core.clock import today
from wispbill.core.models import CompanySettings
from wispbill.payments.models import BankLine
from wispbill.payments.statements import MAX_BYTES

pytestmark = pytest.mark.django_db
HEADER = "date,amount,reference,description,tracking_key\n"
CLABE = "032180000118359719"  # Banco de México's example: its last digit checks


@pytest.fixture
def isp(db):
    zone = ZoneFactory()
    plan = PlanFactory(price=Decimal("400.00"))
    ana = ClientFactory(zone=zone, plan=plan, name="Ana Gómez")
    beto = ClientFactory(zone=zone, plan=plan, name="Beto Ruiz", state="suspended")
    invoice = invoice_create_for_cycle(actor=None, client=ana)
    return {"ana": ana, "beto": beto, "invoice": invoice}


def _day(days_ago: int) -> str:
    return (today() - timedelta(days=days_ago)).isoformat()


def _dmy(days_ago: int) -> str:
    return (today() - timedelta(days=days_ago)).strftime("%d/%m/%Y")


def _ref(client) -> str:
    client.refresh_from_db()
    return client.payment_reference


def _statement(isp) -> str:
    ana, beto = _ref(isp["ana"]), _ref(isp["beto"])
    return (
        HEADER
        + f"{_day(1)},400.00,{ana},Pago internet,RASTREO0001\n"
        + f"{_dmy(2)},250.50,SPEI,Renta ref {beto},RASTREO0002\n"
        + f"{_day(1)},99.00,sin referencia,Depósito,RASTREO0003\n"
    )


def _post(api, text: str, *, confirm=False, fmt="generic", name="estado.csv", **extra):
    upload = io.BytesIO(text.encode() if isinstance(text, str) else text)
    upload.name = name
    body = {"file": upload, "format": fmt}
    if confirm:
        body["confirm"] = "true"
    return api.post("/api/v1/bank-statements/", body, format="multipart", **extra)


# --- the reference and the CLABE -------------------------------------------------------------


def test_each_client_has_a_stable_unique_reference_with_a_check_digit(isp, staff_api):
    ana = isp["ana"]
    answer = staff_api.get(f"/api/v1/clients/{ana.pk}/").json()
    reference = answer["payment_reference"]
    assert len(reference) == 7 and reference.isdigit() and reference_is_valid(reference)
    assert reference == payment_reference_of(ana.pk) != _ref(isp["beto"])
    # Read-only: a client cannot be given another's reference.
    staff_api.patch(f"/api/v1/clients/{ana.pk}/", {"payment_reference": "1234567"}, format="json")
    assert _ref(ana) == reference
    # Every single wrong digit is caught by the check digit.
    for position in range(7):
        for digit in "0123456789":
            typo = reference[:position] + digit + reference[position + 1 :]
            assert reference_is_valid(typo) == (typo == reference)


def test_references_are_distinct_over_the_whole_range():
    references = {payment_reference_of(n) for n in range(1, 900_000)}
    assert len(references) == 899_999
    assert all(not r.startswith("0") for r in list(references)[:1000])


def test_a_reference_is_read_as_a_whole_number_never_inside_a_longer_one():
    assert reference_candidates("REF 0001234567 / 1234567") == ["1234567"]
    assert reference_candidates("CLABE 032180000118359719") == []


def test_clabe_check_digit():
    assert clabe_is_valid(CLABE)
    assert clabe_check_digit(CLABE[:17]) == 9
    assert not clabe_is_valid(CLABE[:17] + "0")
    assert not clabe_is_valid(CLABE[:16])


def test_company_bank_account_is_checked_and_shown(admin_api, staff_api):
    wrong = CLABE[:17] + "3"
    answer = admin_api.patch("/api/v1/company/", {"bank_account": wrong}, format="json")
    assert answer.status_code == 400 and "CLABE" in str(answer.json()["bank_account"])
    short = admin_api.patch("/api/v1/company/", {"bank_account": "12345"}, format="json")
    assert short.status_code == 400 and "18" in str(short.json()["bank_account"])
    assert CompanySettings.load().bank_account == ""
    grouped = f"{CLABE[:3]} {CLABE[3:6]} {CLABE[6:17]} {CLABE[17]}"
    ok = admin_api.patch(
        "/api/v1/company/", {"bank_account": grouped, "bank_name": "BBVA México"}, format="json"
    )
    assert ok.status_code == 200, ok.content
    company = staff_api.get("/api/v1/company/").json()
    assert (company["bank_name"], company["bank_account"]) == ("BBVA México", CLABE)
    english = admin_api.patch(
        "/api/v1/company/", {"bank_account": wrong}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "last digit does not match" in str(english.json())


def test_company_settings_page_saves_a_checked_clabe(admin):
    browser = Browser()
    browser.force_login(admin)
    page = browser.get(reverse("panel:company-settings"))
    assert 'name="bank_account"' in page.content.decode()
    form = page.context["form"]
    data = {
        field.html_name: "on" if field.value() is True else field.value()
        for field in form
        if field.value() is not None and field.value() is not False
    }
    data["bank_account"] = CLABE[:17] + "3"
    refused = browser.post(reverse("panel:company-settings"), data)
    assert refused.status_code == 400 and "CLABE" in refused.content.decode()
    data["bank_account"] = f"{CLABE[:6]}-{CLABE[6:]}"
    saved = browser.post(reverse("panel:company-settings"), data)
    assert saved.status_code == 302
    assert CompanySettings.load().bank_account == CLABE


def test_reference_and_clabe_on_the_invoice_the_client_page_and_the_notice_page(isp, admin_api):
    company = CompanySettings.load()
    company.bank_name, company.bank_account = "BBVA México", CLABE
    company.save()
    ana, invoice = isp["ana"], isp["invoice"]
    reference = _ref(ana)
    staff = Browser()
    from django.contrib.auth import get_user_model

    staff.force_login(get_user_model().objects.get(username="boss"))
    document = staff.get(reverse("panel:invoice-page", kwargs={"pk": invoice.pk})).content.decode()
    assert reference in document and CLABE in document and "BBVA México" in document
    link = admin_api.post(f"/api/v1/clients/{ana.pk}/portal-link/").json()["url"]
    portal = Browser().get(link[link.index("/portal/") :]).content.decode()
    assert reference in portal and CLABE in portal
    from django.conf import settings

    Client.objects.filter(pk=ana.pk).update(notice_active=True)
    notice = (
        Browser()
        .get("/", SERVER_PORT=str(settings.NOTICE_PORT), REMOTE_ADDR=ana.ip)
        .content.decode()
    )
    assert reference in notice and CLABE in notice
