"""Bank transfers (SPEI): each client's payment reference, the company's CLABE, and bank
statements imported through the API, the panel and the CLI — looked at first, applied once
through the counter's payment rule, the rest kept for a person to assign."""

import importlib
import io
import json
import os
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
from wispbill.billing.models import Payment
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


# --- statements through the API ----------------------------------------------------------------


def test_preview_writes_nothing_and_says_what_each_line_would_do(isp, staff_api):
    before = database_dump()
    answer = _post(staff_api, _statement(isp))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["lines"] == 3 and body["duplicates"] == 0
    assert [(m["line"], m["client"], m["amount"]) for m in body["matched"]] == [
        (2, isp["ana"].pk, "400.00"),
        (3, isp["beto"].pk, "250.50"),
    ]
    assert [(u["line"], u["amount"], u["reference"]) for u in body["unmatched"]] == [
        (4, "99.00", "sin referencia")
    ]
    assert database_dump() == before


def test_confirm_applies_once_through_the_counters_rule(isp, staff_api):
    ana, beto, invoice = isp["ana"], isp["beto"], isp["invoice"]
    answer = _post(staff_api, _statement(isp), confirm=True)
    assert answer.status_code == 200, answer.content
    assert answer.json()["applied"] == 2
    paid = Payment.objects.get(client=ana)
    assert (paid.method, paid.amount, paid.reference) == (
        "transfer",
        Decimal("400.00"),
        "RASTREO0001",
    )
    assert paid.paid_on == today() - timedelta(days=1)
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    # The suspended client who pays gets the service back (auto_activate_on_payment).
    beto.refresh_from_db()
    assert beto.state == "active" and beto.credit == Decimal("250.50")
    assert Payment.objects.get(client=beto).paid_on == today() - timedelta(days=2)
    listed = staff_api.get("/api/v1/payments/", {"client": ana.pk}).json()["results"]
    assert [(p["method"], p["reference"]) for p in listed] == [("transfer", "RASTREO0001")]
    assert BankLine.objects.filter(status="unmatched").count() == 1

    again = _post(staff_api, _statement(isp), confirm=True).json()
    assert (again["applied"], again["duplicates"], again["matched"]) == (0, 3, [])
    assert Payment.objects.count() == 2 and BankLine.objects.count() == 3
    preview = _post(staff_api, _statement(isp)).json()
    assert (preview["duplicates"], preview["matched"], preview["unmatched"]) == (3, [], [])


def test_the_same_transfer_twice_in_one_file_is_applied_once(isp, staff_api):
    line = f"{_day(0)},400.00,{_ref(isp['ana'])},Pago,RASTREO0009\n"
    body = _post(staff_api, HEADER + line + line, confirm=True).json()
    assert (body["applied"], body["duplicates"]) == (1, 1)
    assert Payment.objects.filter(client=isp["ana"]).count() == 1


def test_unmatched_lines_are_kept_and_assigned_by_a_person(isp, staff_api, nobody_api):
    _post(staff_api, _statement(isp), confirm=True)
    waiting = staff_api.get("/api/v1/bank-lines/", {"status": "unmatched"}).json()
    assert waiting["count"] == 1
    line = waiting["results"][0]
    assert (line["amount"], line["reason"]) == ("99.00", "no_reference")
    ana = isp["ana"]
    url = f"/api/v1/bank-lines/{line['id']}/assign/"
    before = database_dump()
    assert nobody_api.post(url, {"client": ana.pk}, format="json").status_code == 403
    assert staff_api.post(url, {"client": 10**9}, format="json").status_code == 400
    assert database_dump() == before
    assigned = staff_api.post(url, {"client": ana.pk}, format="json")
    assert assigned.status_code == 200, assigned.content
    assert (assigned.json()["status"], assigned.json()["client"]) == ("applied", ana.pk)
    payment = Payment.objects.get(pk=assigned.json()["payment"])
    assert (payment.client, payment.amount, payment.method) == (ana, Decimal("99.00"), "transfer")
    twice = staff_api.post(url, {"client": isp["beto"].pk}, format="json")
    assert (
        twice.status_code == 400
        and "already applied" in str(twice.json()).lower()
        or ("ya se aplic" in str(twice.json()).lower())
    )
    assert Payment.objects.filter(amount=Decimal("99.00")).count() == 1
    applied = staff_api.get("/api/v1/bank-lines/", {"status": "applied"}).json()
    assert applied["count"] == 3
    assert staff_api.get("/api/v1/bank-lines/", {"status": "nada"}).status_code == 400


def test_a_line_with_two_clients_references_pays_neither(isp, staff_api):
    ana, beto = _ref(isp["ana"]), _ref(isp["beto"])
    text = HEADER + f"{_day(3)},800.00,{ana},y también {beto},RASTREO0100\n"
    body = _post(staff_api, text, confirm=True).json()
    assert body["matched"] == [] and body["unmatched"][0]["reason"] == "ambiguous"
    assert not Payment.objects.exists()
    assert BankLine.objects.get().reason == "ambiguous"


def test_a_reference_with_a_wrong_check_digit_matches_nobody(isp, staff_api):
    good = _ref(isp["ana"])
    typo = good[:-1] + str((int(good[-1]) + 1) % 10)
    body = _post(staff_api, HEADER + f"{_day(0)},400.00,{typo},,R1\n").json()
    assert body["matched"] == [] and body["unmatched"][0]["reason"] == "wrong_check_digit"


def _bad_files(isp):
    ana = _ref(isp["ana"])
    return [
        ("bad row", HEADER + f"{_day(1)},400.00,{ana},Pago\n", "Línea 2", "Line 2"),
        ("wrong columns", "fecha,monto,referencia\n2026-01-01,1.00,x\n", "columnas", "columns"),
        ("no date", HEADER + f"{_day(1)},1.00,{ana},,K\n31/02/2025,1.00,{ana},,K\n",
         "Línea 3", "does not exist"),
        ("comma", HEADER + f"{_day(1)},\"1,500.00\",{ana},,K\n", "coma", "comma"),
        ("negative", HEADER + f"{_day(1)},-400.00,{ana},,K\n", "negativ", "negative"),
        ("future", HEADER + f"{(today() + timedelta(days=1)).isoformat()},1.00,{ana},,K\n",
         "Línea 2", "has not come yet"),
        ("bad date text", HEADER + f"ayer,1.00,{ana},,K\n", "Línea 2", "YYYY-MM-DD"),
    ]  # fmt: skip


def test_each_bad_statement_is_refused_whole_with_its_line_named(isp, staff_api):
    before = database_dump()
    for case, text, spanish, english in _bad_files(isp):
        for confirm in (False, True):
            answer = _post(staff_api, text, confirm=confirm)
            assert answer.status_code == 400, (case, answer.content)
            assert spanish.lower() in str(answer.json()).lower(), (case, answer.json())
        answer = _post(staff_api, text, confirm=True, HTTP_ACCEPT_LANGUAGE="en")
        assert english.lower() in str(answer.json()).lower(), (case, answer.json())
    assert database_dump() == before


def test_a_file_too_large_is_refused_before_it_is_read(isp, staff_api):
    big = HEADER.encode() + b"x" * (20 * 1024 * 1024)
    before = database_dump()
    answer = _post(staff_api, big, confirm=True)
    assert answer.status_code == 400 and "MB" in str(answer.json())
    too_long = HEADER + f"{_day(1)},1.00,x,,K\n" * 50_001
    assert len(too_long) < MAX_BYTES
    answer = _post(staff_api, too_long, confirm=True, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400 and "50000 lines" in str(answer.json())
    assert _post(staff_api, "", confirm=True).status_code == 400
    assert _post(staff_api, HEADER, fmt="banamex").status_code == 400
    assert database_dump() == before


def test_only_who_registers_payments_imports(isp, nobody_api):
    before = database_dump()
    assert _post(nobody_api, _statement(isp), confirm=True).status_code == 403
    assert database_dump() == before


BBVA = """Cuenta:,0123456789
Periodo:,{start} al {end}

Fecha,Descripción,Cargo,Abono,Saldo
{d1},"SPEI RECIBIDO BANORTE / {ref} CVE RASTREO 8846APR1",,"1,400.00","21,012.26"
{d2},PAGO CUENTA DE TERCERO / 0041782016 BNET 0113831760,"-2,500.00",,"19,612.26"
{d2},DEPOSITO EN EFECTIVO,,350.00,"22,112.26"
Total de movimientos,,,,
"""


def test_bbva_mexico_export(isp, staff_api):
    ana = isp["ana"]
    text = BBVA.format(start=_dmy(5), end=_dmy(0), d1=_dmy(1), d2=_dmy(2), ref=_ref(ana))
    preview = _post(staff_api, text, fmt="bbva").json()
    assert preview["lines"] == 2 and preview["skipped"] == 1
    assert [(m["line"], m["client"], m["amount"]) for m in preview["matched"]] == [
        (5, ana.pk, "1400.00")
    ]
    assert preview["unmatched"][0]["amount"] == "350.00"
    done = _post(staff_api, text, fmt="bbva", confirm=True).json()
    assert done["applied"] == 1
    assert Payment.objects.get(client=ana).reference == "8846APR1"
    assert _post(staff_api, text, fmt="bbva", confirm=True).json()["duplicates"] == 2
    generic = _post(staff_api, text, fmt="generic", HTTP_ACCEPT_LANGUAGE="en")
    assert generic.status_code == 400 and "header" in str(generic.json())
    wrong = _post(staff_api, HEADER, fmt="bbva", HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == 400 and "BBVA" in str(wrong.json())


# --- the panel: Conciliación bancaria ------------------------------------------------------


def _login(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


def test_panel_import_preview_confirm_then_assign(isp, staff, nobody):
    browser = _login(staff)
    page = browser.get(reverse("panel:bank-lines")).content.decode()
    assert "Conciliación bancaria" in page and reverse("panel:bank-statement") in page
    upload = io.BytesIO(_statement(isp).encode())
    upload.name = "estado.csv"
    before = database_dump()
    preview = browser.post(reverse("panel:bank-statement"), {"file": upload, "format": "generic"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Ana Gómez" in html and "Beto Ruiz" in html and "No lleva ninguna referencia" in html
    assert database_dump() == before
    confirm = {
        "encoded": preview.context["encoded"],
        "filename": "estado.csv",
        "format": "generic",
        "confirm": "yes",
    }
    done = browser.post(reverse("panel:bank-statement"), confirm, follow=True)
    assert "2 transferencias aplicadas como pagos" in done.content.decode()
    assert Payment.objects.filter(method="transfer").count() == 2
    again = browser.post(reverse("panel:bank-statement"), confirm, follow=True).content.decode()
    assert "3 líneas ya se habían importado" in again
    assert Payment.objects.count() == 2

    line = BankLine.objects.get(status="unmatched")
    assign = reverse("panel:bank-line-assign", kwargs={"pk": line.pk})
    found = browser.get(assign, {"q": "gomez"}).content.decode()
    assert "Ana Gómez" in found and "Beto Ruiz" not in found
    by_reference = browser.get(assign, {"q": _ref(isp["beto"])}).content.decode()
    assert "Beto Ruiz" in by_reference
    question = browser.get(assign, {"client": isp["ana"].pk}).content.decode()
    assert "¿Aplicar $99.00 a Ana Gómez" in question
    assert not Payment.objects.filter(amount=Decimal("99.00")).exists()
    refused = _login(nobody).post(assign, {"client": isp["ana"].pk, "confirm": "yes"})
    assert refused.status_code == 403 and not Payment.objects.filter(amount=99).exists()
    browser.post(assign, {"client": isp["ana"].pk, "confirm": "yes"})
    line.refresh_from_db()
    assert line.status == "applied" and line.payment.client == isp["ana"]
    applied = browser.get(reverse("panel:bank-lines"), {"status": "applied"}).content.decode()
    assert applied.count('class="bank-line"') == 3


def test_panel_refuses_a_bad_statement_naming_the_line(isp, staff):
    browser = _login(staff)
    upload = io.BytesIO((HEADER + f"31/02/2025,1.00,{_ref(isp['ana'])},,K\n").encode())
    upload.name = "malo.csv"
    before = database_dump()
    answer = browser.post(reverse("panel:bank-statement"), {"file": upload, "confirm": "yes"})
    assert answer.status_code == 400
    assert "Línea 2: la fecha 31/02/2025 no existe." in answer.content.decode()
    assert browser.post(reverse("panel:bank-statement"), {}).status_code == 400
    assert database_dump() == before


# --- the command --------------------------------------------------------------------------


def _wispbill(data_dir, *args, check=True):
    env = {**os.environ, "WISPBILL_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "wispbill.cli", *args],
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=180,
        check=check,
    )


def _count(data_dir, expression: str) -> object:
    out = _wispbill(
        data_dir, "shell", "--no-imports", "-c",
        "import json; from wispbill.billing.models import Payment; "
        "from wispbill.payments.models import BankLine; "
        f"print(json.dumps({expression}))",
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.embedded
def test_import_bank_command(tmp_path):
    _wispbill(tmp_path, "migrate", "--verbosity", "0")
    made = _wispbill(
        tmp_path, "shell", "--no-imports", "-c",
        "from decimal import Decimal; from wispbill.network.models import Router, Zone; "
        "from wispbill.clients.models import Client, Plan; "
        "z = Zone.objects.create(router=Router.objects.create(name='R'), name='Z', "
        "billing_mode='prepaid', pay_day=1, invoice_lead_days=7, notice_offset_days=2, "
        "grace_days=4); p = Plan.objects.create(name='P', price=Decimal('300'), "
        "download_kbps=1, upload_kbps=1); "
        "c = Client.objects.create(name='Ana', ip='10.0.0.2', zone=z, plan=p); "
        "c.refresh_from_db(); print(c.payment_reference)",
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    assert reference_is_valid(made)
    statement = tmp_path / "estado.csv"
    statement.write_text(
        HEADER + f"{_day(1)},300.00,{made},Pago,RASTREO77\n{_day(1)},5.00,nada,,RASTREO78\n"
    )
    preview = _wispbill(tmp_path, "import-bank", str(statement))
    assert "1 matched, 1 unmatched" in preview.stdout and "Nothing was written" in preview.stdout
    assert _count(tmp_path, "[Payment.objects.count(), BankLine.objects.count()]") == [0, 0]
    done = _wispbill(tmp_path, "import-bank", str(statement), "--format", "generic", "--yes")
    assert "1 payments registered" in done.stdout
    assert _count(
        tmp_path,
        "[(m, r, str(a)) for m, r, a in "
        "Payment.objects.values_list('method', 'reference', 'amount')]",
    ) == [["transfer", "RASTREO77", "300.00"]]
    again = _wispbill(tmp_path, "import-bank", str(statement), "--yes")
    assert "2 imported before" in again.stdout and "0 payments registered" in again.stdout
    bad = tmp_path / "malo.csv"
    bad.write_text(HEADER + f"{_day(1)},-300.00,{made},,K\n")
    refused = _wispbill(tmp_path, "import-bank", str(bad), "--yes", check=False)
    assert refused.returncode != 0 and "Line 2" in refused.stderr or "Línea 2" in refused.stderr
    assert _count(tmp_path, "Payment.objects.count()") == 1


def test_the_migration_gives_existing_clients_their_reference(isp):
    from django.apps import apps

    migration = importlib.import_module("wispbill.clients.migrations.0017_client_payment_reference")
    Client.objects.update(payment_reference=None)
    migration.assign(apps, None)
    assert {c.pk: c.payment_reference for c in Client.objects.all()} == {
        c.pk: payment_reference_of(c.pk) for c in (isp["ana"], isp["beto"])
    }
