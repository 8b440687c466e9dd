"""Import from a file (docs/contract.md): CSV and XLSX, zone and plan by name or id, a preview with
an error per bad row in the reader's language, then all rows or none."""

import io
from datetime import date

import pytest
import tablib
from django.core.management import CommandError, call_command
from django.test import Client as Browser
from django.utils import translation

from tests.factories import ClientFactory, PlanFactory, RouterFactory, ZoneFactory
from wispbill.clients.models import Client
from wispbill.clients.services.file_import import clients_file_import, clients_file_preview

pytestmark = pytest.mark.django_db

HEADERS = "name,ip,zone,plan,email,phone,address,access,pppoe_username,pppoe_password,"
HEADERS += "billing_type,start_date\n"


@pytest.fixture
def setting():
    router = RouterFactory(name="Torre Norte")
    zone = ZoneFactory(router=router, name="Zona día 1")
    plan = PlanFactory(name="Hogar 10 Mbps")
    return zone, plan


def _good_csv(zone, plan) -> bytes:
    return (
        HEADERS
        + f"Ana Díaz,172.16.0.10,Zona día 1,Hogar 10 Mbps,ana@example.com,5512345678,,pppoe,"
        f"ana,pw,zone,01/09/2025\n"
        f"Casa Pérez,172.16.0.11,{zone.pk},{plan.pk},,,,static,,,own,2025-09-15\n"
    ).encode()


def test_a_good_csv_imports_every_row(admin, setting):
    zone, plan = setting
    clients = clients_file_import(actor=admin, data=_good_csv(zone, plan), filename="c.csv")
    assert len(clients) == 2
    ana = Client.objects.get(ip="172.16.0.10")
    assert (ana.access, ana.pppoe_username, ana.pppoe_password) == ("pppoe", "ana", "pw")
    assert (ana.zone, ana.plan, ana.start_date) == (zone, plan, date(2025, 9, 1))
    casa = Client.objects.get(ip="172.16.0.11")
    # Own billing starts from its zone's schedule.
    assert casa.billing_type == "own" and casa.schedule == zone.schedule
    assert casa.start_date == date(2025, 9, 15)


def test_an_xlsx_with_spanish_headings_and_semicolons_in_csv_both_read(admin, setting):
    zone, _plan = setting
    sheet = tablib.Dataset(headers=["Nombre", "IP", "Zona", "Plan", "Teléfono", "Fecha_inicio"])
    sheet.append(["Rosa Flores", "172.16.0.20", "Torre Norte · Zona día 1", "hogar 10 mbps",
                  5512345678, date(2025, 3, 2)])  # fmt: skip
    clients_file_import(actor=admin, data=sheet.export("xlsx"), filename="clientes.xlsx")
    rosa = Client.objects.get(ip="172.16.0.20")
    assert (rosa.phone, rosa.start_date, rosa.zone) == ("5512345678", date(2025, 3, 2), zone)
    text = "nombre;ip;plan\nLuis Cruz;172.16.0.21;Hogar 10 Mbps\n".encode("cp1252")
    clients_file_import(actor=admin, data=text, filename="c.csv", zone=zone)
    assert Client.objects.filter(ip="172.16.0.21", zone=zone).exists()


def _bad_csv() -> bytes:
    ClientFactory(ip="172.16.0.99", name="Ya Existe")
    return (
        HEADERS
        + "Bueno,172.16.0.30,Zona día 1,Hogar 10 Mbps,,,,static,,,zone,\n"
        + "Sin plan,172.16.0.31,Zona día 1,Plan Fantasma,,,,static,,,zone,\n"
        + "IP repetida,172.16.0.99,Zona día 1,Hogar 10 Mbps,,,,static,,,zone,\n"
        + "Sin usuario,172.16.0.32,Zona día 1,Hogar 10 Mbps,,,,pppoe,,,zone,\n"
        + "Fecha mala,172.16.0.33,Zona día 1,Hogar 10 Mbps,,,,static,,,zone,31/02/2025\n"
        + "Doble,172.16.0.30,Zona día 1,Hogar 10 Mbps,,,,static,,,zone,\n"
    ).encode()


@pytest.mark.parametrize(
    "language, words",
    [
        ("es", ["No existe el plan", "ya tiene esta dirección IP", "usuario PPPoE", "dd/mm/aaaa"]),
        ("en", ["There is no plan", "already has this IP address", "PPPoE username", "dd/mm/yyyy"]),
    ],
)
def test_a_file_with_bad_rows_is_refused_whole_with_an_error_per_row(
    admin, setting, language, words
):
    data = _bad_csv()
    with translation.override(language):
        preview = clients_file_preview(actor=admin, data=data, filename="c.csv")
        assert not preview.ok
        assert [row.line for row in preview.bad_rows] == [3, 4, 5, 6, 7]
        text = " ".join(m for row in preview.bad_rows for ms in row.errors.values() for m in ms)
        for word in words:
            assert word in text
        with pytest.raises(Exception):  # noqa: B017 - the whole file is refused
            clients_file_import(actor=admin, data=data, filename="c.csv")
    assert Client.objects.count() == 1  # the client that existed; none of the file's


def test_unknown_and_missing_columns_refuse_the_file(admin, setting):
    preview = clients_file_preview(
        actor=admin, data=b"nombre,ip,plann\nA,172.16.0.1,X\n", filename="c.csv"
    )
    assert not preview.ok and preview.rows == []
    assert any("plann" in e for e in preview.errors)


def test_the_cli_checks_then_imports_with_yes(admin, setting, tmp_path, capsys):
    zone, plan = setting
    path = tmp_path / "clientes.csv"
    path.write_bytes(_good_csv(zone, plan))
    call_command("import-clients", str(path))
    assert Client.objects.count() == 0 and "2 rows are ready" in capsys.readouterr().out
    call_command("import-clients", str(path), yes=True)
    assert Client.objects.count() == 2
    path.write_bytes(_bad_csv())
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import-clients", str(path), "--yes")
    assert Client.objects.count() == 3


def test_the_panel_previews_then_imports_the_same_file(admin, setting):
    zone, plan = setting
    browser = Browser()
    browser.force_login(admin)
    upload = io.BytesIO(_good_csv(zone, plan))
    upload.name = "clientes.csv"
    page = browser.post("/clients/import/", {"file": upload})
    assert page.status_code == 200 and b'data-testid="file-bad-rows">0<' in page.content
    assert Client.objects.count() == 0
    token = page.context["token"]
    done = browser.post(
        "/clients/import/",
        {"token": token, "confirm": "yes"},
        follow=True,
    )
    assert "2 clientes importados" in done.content.decode()
    assert Client.objects.count() == 2


def test_the_panel_shows_each_bad_row_and_imports_nothing(admin, setting):
    browser = Browser()
    browser.force_login(admin)
    upload = io.BytesIO(_bad_csv())
    upload.name = "clientes.csv"
    page = browser.post("/clients/import/", {"file": upload})
    assert page.status_code == 400
    assert page.content.count(b'class="file-row bad"') == 5
    assert b"Yes, import" not in page.content and "Sí, importarlos" not in page.content.decode()


def test_the_template_downloads_as_xlsx_and_csv(admin, setting):
    browser = Browser()
    browser.force_login(admin)
    xlsx = browser.get("/clients/import/template.xlsx")
    sheet = tablib.Dataset().load(io.BytesIO(xlsx.content), format="xlsx")
    assert sheet.headers[:4] == ["name", "ip", "zone", "plan"] and len(sheet) == 2
    csv = browser.get("/clients/import/template.csv")
    assert csv.content.decode("utf-8-sig").startswith("name,ip,zone,plan")
    assert browser.get("/clients/import/template.exe").status_code == 404


def test_importing_clients_needs_manage_clients(nobody, setting):
    staff = nobody
    zone, plan = setting
    with pytest.raises(Exception) as refused:
        clients_file_import(actor=staff, data=_good_csv(zone, plan), filename="c.csv")
    assert "Manage clients" in str(refused.value) or "Administrar clientes" in str(refused.value)
    browser = Browser()
    browser.force_login(staff)
    assert browser.get("/clients/import/").status_code == 403
    assert Client.objects.count() == 0


@pytest.mark.parametrize(
    "language, words",
    [
        ("es", "Un cliente PPPoE necesita su contraseña: escríbala en la columna pppoe_password."),
        ("en", "A PPPoE client needs its password: write it in the pppoe_password column."),
    ],
)
def test_a_pppoe_row_without_a_password_is_refused_by_the_panels_rule(
    admin, setting, language, words
):
    """The rule of a client added by hand (client_new): a PPPoE client without a password is
    a secret its router refuses. A file has nowhere to show a generated password, so
    "generate" is refused as well."""
    data = (
        HEADERS
        + "Con clave,172.16.0.40,Zona día 1,Hogar 10 Mbps,,,,pppoe,con.clave,pw,zone,\n"
        + "Sin clave,172.16.0.41,Zona día 1,Hogar 10 Mbps,,,,pppoe,sin.clave,,zone,\n"
        + "Generada,172.16.0.42,Zona día 1,Hogar 10 Mbps,,,,pppoe,generada,generate,zone,\n"
    ).encode()
    with translation.override(language):
        preview = clients_file_preview(actor=admin, data=data, filename="c.csv")
        assert [row.line for row in preview.bad_rows] == [3, 4]
        assert [row.errors for row in preview.bad_rows] == [{"pppoe_password": [words]}] * 2
        with pytest.raises(Exception, match="Row 3|Fila 3"):
            clients_file_import(actor=admin, data=data, filename="c.csv")
    assert not Client.objects.exists()
