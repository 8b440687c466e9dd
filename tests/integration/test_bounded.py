"""Issue 16, part 3: bounded work for every upload and page. A spreadsheet that unpacks to
hundreds of MB is refused from its zip directory; rows are read up to the limit and no
further; requests are bounded before anything reads them; the panel confirms a checked file
by a token; the forecast leaves the live database's write lock free; CSV exports do not
carry formulas; a NUL character is a clear 400, never a 500 (PostgreSQL refuses it)."""

import csv
import fcntl
import io
import json
import os
import sqlite3
import subprocess
import sys
import tracemalloc
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.conf import settings
from django.test import Client as Browser
from django.urls import URLPattern

from tests.factories import ClientFactory, PlanFactory, RouterFactory, UserFactory, ZoneFactory
from wispbill.api.urls import router as api_router
from wispbill.billing.services.payments import payment_register
from wispbill.clients.models import Client
from wispbill.clients.services import file_import, router_import
from wispbill.clients.services.file_import import clients_file_preview
from wispbill.core.formatting import spreadsheet_cell
from wispbill.panel import urls as panel_urls

pytestmark = pytest.mark.django_db
MEXICO = ZoneInfo("America/Mexico_City")

HEADERS = "name,ip,zone,plan\n"
XLSX_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
    b"</Types>"
)


@pytest.fixture
def setting():
    zone = ZoneFactory(router=RouterFactory(name="Torre Norte"), name="Zona día 1")
    plan = PlanFactory(name="Hogar 10 Mbps")
    return zone, plan


def _csv(rows: int, *, address: str = "") -> bytes:
    head = "name,ip,zone,plan,address\n"
    body = "".join(
        f"Cliente {n},10.9.{n // 250}.{n % 250 + 1},Zona día 1,Hogar 10 Mbps,{address}\n"
        for n in range(rows)
    )
    return (head + body).encode()


def _workbook(rows: list[list], *, at_row: int | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "ip", "zone", "plan"])
    for row in rows:
        sheet.append(row)
    if at_row:
        sheet.cell(row=at_row, column=1, value="far away")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bomb(unpacked_mb: int = 200) -> bytes:
    """A workbook whose sheet is the same row over and over: a few hundred KB that unpack to
    `unpacked_mb` MB, and that openpyxl would read row after row."""
    row = b'<row><c t="inlineStr"><is><t>Cliente</t></is></c></row>'
    chunk = row * (2**20 // len(row))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", XLSX_TYPES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/')
            part.write(b'2006/main"><sheetData>')
            for _ in range(unpacked_mb):
                part.write(chunk)
            part.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _upload(data: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


# --- spreadsheets: bounded before they are read ------------------------------------------


def test_a_zip_bomb_workbook_is_refused_from_its_directory_with_little_memory(admin, setting):
    bomb = _bomb()
    assert len(bomb) < 1024 * 1024  # a few hundred KB that unpack to 200 MB
    tracemalloc.start()
    try:
        preview = clients_file_preview(actor=admin, data=bomb, filename="clientes.xlsx")
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert preview.rows == [] and "más de 60 MB" in " ".join(preview.errors)
    # Nothing was unpacked: the peak is the request's own few MB, not the 200 MB payload.
    assert peak < 8 * 1024 * 1024
    browser = Browser()
    browser.force_login(admin)
    page = browser.post("/clients/import/", {"file": _upload(bomb, "clientes.xlsx")})
    assert page.status_code == 400
    assert "se descomprime en más de 60 MB" in page.content.decode()
    assert Client.objects.count() == 0


def test_a_workbook_is_read_only_up_to_the_row_limit(admin, setting, monkeypatch):
    monkeypatch.setattr(file_import, "MAX_ROWS", 30)
    rows = [[f"C{n}", f"10.8.0.{n + 1}", "Zona día 1", "Hogar 10 Mbps"] for n in range(31)]
    preview = clients_file_preview(actor=admin, data=_workbook(rows), filename="c.xlsx")
    assert preview.errors == ["Máximo 30 filas por archivo."] and preview.rows == []
    fits = clients_file_preview(actor=admin, data=_workbook(rows[:30]), filename="c.xlsx")
    assert fits.ok and len(fits.rows) == 30
    wider = clients_file_preview(
        actor=admin, data=_workbook([[*rows[0], "", "sobra"]]), filename="c.xlsx"
    )
    assert wider.rows[0].errors == {"__all__": ["Esta fila tiene más celdas que columnas."]}
    # A sheet whose one cell sits a million rows down is not walked down to it.
    tracemalloc.start()
    try:
        far = clients_file_preview(
            actor=admin, data=_workbook(rows[:2], at_row=1_000_000), filename="c.xlsx"
        )
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert far.errors == ["Máximo 30 filas por archivo."]
    assert peak < 16 * 1024 * 1024


def test_a_csv_is_read_only_up_to_the_row_and_cell_limits(admin, setting, monkeypatch):
    monkeypatch.setattr(file_import, "MAX_ROWS", 30)
    preview = clients_file_preview(actor=admin, data=_csv(31), filename="c.csv")
    assert preview.errors == ["Máximo 30 filas por archivo."]
    assert clients_file_preview(actor=admin, data=_csv(30), filename="c.csv").ok
    # One line of a million empty cells would be a million strings once read.
    commas = HEADERS.encode() + b"," * 1_000_000
    wide = clients_file_preview(actor=admin, data=commas, filename="c.csv")
    assert wide.rows == [] and "más celdas" in wide.errors[0]
    assert Client.objects.count() == 0


def test_the_cli_refuses_a_zip_bomb_and_writes_nothing(setting, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "clientes.xlsx"
    path.write_bytes(_bomb(100))
    with pytest.raises(CommandError):
        call_command("import-clients", str(path), "--yes")
    assert Client.objects.count() == 0


def test_the_cli_reads_no_more_of_a_huge_file_than_the_limit(setting, tmp_path, capsys):
    from django.core.management import CommandError, call_command

    path = tmp_path / "clientes.csv"
    with path.open("wb") as huge:
        huge.write(HEADERS.encode())
        huge.truncate(4 * 1024**3)  # 4 GB, sparse: read whole, it would fill the memory
    with pytest.raises(CommandError):
        call_command("import-clients", str(path), "--yes")
    assert "El archivo pesa más de 10 MB." in capsys.readouterr().err
    assert Client.objects.count() == 0


def test_a_router_import_is_bounded_and_keeps_nul_out(admin_api, emulator, monkeypatch):
    router = RouterFactory(
        host="127.0.0.1", api_port=emulator.port, username="wispbill", enforcement="mikrotik"
    )
    router.password = "s3cret"
    router.save()
    zone = ZoneFactory(router=router)
    emulator.add_secret("ana", "pw\x00", remote_address="172.16.0.2", comment="Ana")
    emulator.add_queue("Ana", "172.16.0.2/32", "1M/5M")
    emulator.add_queue("Casa\x00 Pérez", "192.168.88.20/32", "512k/2M")
    url, body = f"/api/v1/routers/{router.pk}/import/", {"zone": zone.pk, "confirm": False}
    answer = admin_api.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [c["name"] for c in answer["clients"]] == ["Casa Pérez"]
    assert [c["code"] for c in answer["conflicts"]] == ["nul"]
    monkeypatch.setattr(router_import, "MAX_OBJECTS", 1)
    refused = admin_api.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "more than 1 objects" in refused.json()["router"][0]
    assert Client.objects.count() == 0


# --- requests bounded before they are read ---------------------------------------------------


def test_a_request_larger_than_any_upload_is_refused_before_it_is_read(admin, admin_api, setting):
    browser = Browser()
    browser.force_login(admin)
    big = b"x" * (settings.WISPBILL_MAX_REQUEST_BYTES + 1)
    page = browser.post("/clients/import/", {"file": _upload(big, "clientes.csv")})
    assert page.status_code == 400 and "más de 11 MB" in page.content.decode()
    answer = admin_api.post(
        "/api/v1/clients/",
        {"name": "Ana", "file": _upload(big, "big.bin")},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert "larger than 11 MB" in answer.json()["non_field_errors"][0]
    assert Client.objects.count() == 0


# --- the panel confirms by token ---------------------------------------------------------------


@pytest.mark.slow
def test_the_panel_confirms_a_large_file_by_token_without_sending_it_again(admin, setting):
    # 2 MB: carried back in a form field (base64) it is more than Django takes in one.
    data = _csv(6000, address="Calle " + "x" * 290)
    assert len(data) * 4 / 3 > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    browser = Browser()
    browser.force_login(admin)
    page = browser.post("/clients/import/", {"file": _upload(data, "clientes.csv")})
    assert page.status_code == 200 and b'data-testid="file-bad-rows">0<' in page.content
    token = page.context["token"]
    assert b'name="token"' in page.content and b'name="encoded"' not in page.content
    # Someone else cannot confirm it.
    other = Browser()
    other.force_login(UserFactory(username="otro", is_superuser=True))
    refused = other.post("/clients/import/", {"token": token, "confirm": "yes"})
    assert refused.status_code == 400 and "súbalo de nuevo" in refused.content.decode()
    assert Client.objects.count() == 0
    done = browser.post("/clients/import/", {"token": token, "confirm": "yes"}, follow=True)
    assert "6000 clientes importados" in done.content.decode()
    assert Client.objects.count() == 6000
    # Once imported the file is gone: the same confirmation cannot import it twice.
    again = browser.post("/clients/import/", {"token": token, "confirm": "yes"})
    assert again.status_code == 400 and Client.objects.count() == 6000


def test_a_kept_file_expires_after_an_hour(admin, setting):
    browser = Browser()
    with time_machine.travel(datetime(2031, 2, 28, 23, 30, tzinfo=MEXICO), tick=True) as clock:
        browser.force_login(admin)
        page = browser.post("/clients/import/", {"file": _upload(_csv(2), "c.csv")})
        token = page.context["token"]
        kept = Path(settings.DATA_DIR) / "imports" / f"{admin.pk}-{token}"
        assert kept.stat().st_mode & 0o077 == 0  # the owner's alone, like every file there
        clock.shift(timedelta(minutes=61))
        late = browser.post("/clients/import/", {"token": token, "confirm": "yes"})
    assert late.status_code == 400 and "súbalo de nuevo" in late.content.decode()
    assert Client.objects.count() == 0


# --- NUL characters ----------------------------------------------------------------------


def _api_lists() -> list[str]:
    return [f"/api/v1/{prefix}/" for prefix, _view, _name in api_router.registry] + [
        "/api/v1/periodic-tasks/"
    ]


def _panel_pages() -> list[str]:
    return [
        f"/{p.pattern}"
        for p in panel_urls.urlpatterns
        if isinstance(p, URLPattern) and "<" not in str(p.pattern) and p.name
    ]


@pytest.mark.parametrize("param", ["q", "search", "status", "client", "zone", "action", "from"])
def test_a_nul_in_any_filter_of_any_api_list_is_a_clear_400(admin_api, setting, param):
    ClientFactory(name="Gómez")
    for url in _api_lists():
        answer = admin_api.get(url, {param: "gom\x00ez"}, HTTP_ACCEPT_LANGUAGE="en")
        assert answer.status_code == 400, url
        assert "NUL character" in answer.json()[param][0], url
    assert admin_api.get("/api/v1/clients/", {"q": "gomez"}).json()["count"] == 1


def test_a_nul_in_any_panel_page_query_is_a_clear_page_not_a_500(admin, setting):
    browser = Browser()
    browser.force_login(admin)
    pages = _panel_pages()
    assert {"/clients/", "/payments/", "/invoices/", "/audit/"} <= set(pages)
    for url in pages:
        page = browser.get(url, {"q": "a\x00", "zone": "1"})
        assert page.status_code == 400, url
        assert "carácter NUL" in page.content.decode(), url
    assert browser.get("/clients/", {"q": "gomez"}).status_code == 200
    # A client's own page says it plainly, without the staff panel's links.
    portal = Browser().get("/portal/anything/", {"page": "\x00"})
    assert portal.status_code == 400 and portal["Content-Type"].startswith("text/plain")


def test_a_nul_in_a_body_or_an_imported_cell_is_a_field_error(admin, admin_api, setting):
    zone, plan = setting
    answer = admin_api.post(
        "/api/v1/clients/",
        {"name": "Ana\x00", "ip": "10.1.1.1", "zone": zone.pk, "plan": plan.pk},
        format="json",
    )
    assert answer.status_code == 400 and "name" in answer.json()
    data = (HEADERS + "Ana\x00 Díaz,10.1.1.2,Zona día 1,Hogar 10 Mbps\n").encode()
    preview = clients_file_preview(actor=admin, data=data, filename="c.csv")
    assert not preview.ok and "carácter NUL" in preview.rows[0].errors["name"][0]
    browser = Browser()
    browser.force_login(admin)
    page = browser.post("/clients/import/", {"file": _upload(data, "c.csv")})
    assert page.status_code == 400 and "carácter NUL" in page.content.decode()
    assert Client.objects.count() == 0


# --- CSV exports -----------------------------------------------------------------------------


def test_csv_exports_do_not_carry_formulas(admin, setting):
    zone, plan = setting
    client = ClientFactory(name='=HYPERLINK("http://evil","x")', zone=zone, plan=plan)
    payment_register(
        actor=admin,
        client=client,
        amount=Decimal("150.00"),
        note="@SUM(1+1)",
        reference="-2+3",
    )
    browser = Browser()
    browser.force_login(admin)
    body = browser.get("/payments/", {"export": "csv"}).content.decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(body)))[1]
    assert row[1] == '\'=HYPERLINK("http://evil","x")'
    assert row[2] == "150.00" and row[4] == "'-2+3" and row[7] == "'@SUM(1+1)"
    report = browser.get("/payments/cash-report/", {"export": "csv"}).content.decode("utf-8-sig")
    assert "'=" not in report and "150.00" in report


def test_a_spreadsheet_cell_keeps_numbers_and_quotes_formulas():
    assert spreadsheet_cell("-51.00") == "-51.00" and spreadsheet_cell(-51) == -51
    assert spreadsheet_cell("+5255123") == "+5255123"
    for text in ("=1+1", "+cmd|' /C calc'!A0", "-1+1", "@A1", "\tx", "\rx"):
        assert spreadsheet_cell(text) == "'" + text
    assert spreadsheet_cell("Ana") == "Ana"


# --- the forecast ----------------------------------------------------------------------------


def test_one_forecast_at_a_time_per_user(admin, setting):
    other = UserFactory(username="otra", is_superuser=True)
    browser = Browser()
    browser.force_login(admin)
    folder = Path(settings.DATA_DIR) / "forecasts"
    folder.mkdir(mode=0o700, exist_ok=True)
    # The admin's previous forecast is still being computed (another request holds its slot).
    with open(folder / f"user-{admin.pk}.lock", "a") as slot:
        fcntl.flock(slot, fcntl.LOCK_EX)
        busy = browser.get("/periodic-tasks/forecast/")
        assert "todavía se está calculando" in busy.content.decode()
        another = Browser()
        another.force_login(other)
        assert "todavía" not in another.get("/periodic-tasks/forecast/").content.decode()
    assert "todavía" not in browser.get("/periodic-tasks/forecast/").content.decode()


@pytest.mark.embedded  # the demo it reads lives in a scratch data dir, on SQLite
@pytest.mark.slow
def test_the_forecast_leaves_the_live_write_lock_to_other_users(tmp_path):
    env = {**os.environ, "WISPBILL_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    cli = [sys.executable, "-m", "wispbill.cli"]
    subprocess.run([*cli, "demo", "--clients", "40"], env=env, check=True, capture_output=True)
    # The demo lived up to the machine's today; three weeks on, every zone has a cycle to bill.
    script = (
        "import json; from datetime import timedelta; "
        "from wispbill.automation.services.runs import forecast; "
        "from wispbill.core.clock import today; "
        "days = forecast(start=today() + timedelta(days=21), days=7); "
        "print(json.dumps([len(d['acted'].get('invoices', [])) for d in days]))"
    )
    database = tmp_path / "wispbill.sqlite3"
    invoices_before = _count(database, "billing_invoice")
    # Another user's write is under way (it holds the write lock) while the forecast runs:
    # the forecast computes its seven days without waiting for it, so neither stalls the other.
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE automation_companysettings SET name = 'Otro nombre'")
    try:
        done = subprocess.run(
            [*cli, "shell", "-c", script], env=env, capture_output=True, text=True, timeout=600
        )
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert done.returncode == 0, done.stderr
    invoices = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(invoices) == 7 and sum(invoices) > 0
    # The live database kept the other user's write and none of the forecast's.
    assert _count(database, "billing_invoice") == invoices_before
    live = sqlite3.connect(database)
    assert (
        live.execute("SELECT name FROM automation_companysettings").fetchone()[0] == "Otro nombre"
    )
    live.close()
    assert not list((tmp_path / "forecasts").glob("*.sqlite3"))  # the snapshot is gone


def _count(database: Path, table: str) -> int:
    live = sqlite3.connect(database)
    try:
        return live.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    finally:
        live.close()
