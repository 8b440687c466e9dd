"""PPPoE clients, the router import and the spreadsheet import as an operator does them, in
Debian's Chromium (Spanish, the panel's default)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import PlanFactory, RouterFactory, UserFactory, ZoneFactory
from wispbill.clients.models import Client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_client_form_shows_the_pppoe_fields_only_for_pppoe(page):
    UserFactory(username="jefe", is_superuser=True)
    zone = ZoneFactory(router=RouterFactory(name="Torre"), name="Zona día 1")
    PlanFactory(name="Hogar 10")
    login(page, "jefe")
    page.goto("/clients/new/")
    username = page.locator("#id_pppoe_username")
    expect(username).to_be_hidden()
    page.select_option("#id_access", "pppoe")
    expect(username).to_be_visible()
    page.fill("#id_name", "Ana Díaz")
    page.fill("#id_ip", "172.16.9.9")
    page.select_option("#id_zone", str(zone.pk))
    page.select_option("#id_plan", label="Hogar 10")
    username.fill("ana")
    page.fill("#id_pppoe_password", "s3creta")
    page.locator("#tab-general").get_by_role("button", name="Guardar cambios").click()
    expect(page.locator(".messages .success")).to_contain_text("guardado")
    client = Client.objects.get(ip="172.16.9.9")
    assert (client.access, client.pppoe_username, client.pppoe_password) == (
        "pppoe",
        "ana",
        "s3creta",
    )


def test_import_from_the_router_previews_then_takes_over(page, emulator):
    UserFactory(username="jefe", is_superuser=True)
    router = RouterFactory(
        name="Cerro",
        host="127.0.0.1",
        api_port=emulator.port,
        username="wispbill",
        enforcement="mikrotik",
    )
    router.password = "s3cret"
    router.save()
    zone = ZoneFactory(router=router, name="Zona día 1")
    emulator.add_secret("ana", "pw", remote_address="172.16.0.2", comment="Ana Díaz")
    emulator.add_queue("Ana Díaz", "172.16.0.2/32", "2M/10M")
    emulator.add_queue("otra", "172.16.0.2/32", "1M/1M", comment="duplicada")
    emulator.add_queue("Casa Pérez", "172.16.0.3/32", "1M/5M")
    login(page, "jefe")
    page.goto(f"/routers/{router.pk}/#sync")
    page.get_by_role("link", name="Importar clientes de este router").click()
    page.select_option("#zone", str(zone.pk))
    page.get_by_role("button", name="Leer el router").click()
    expect(page.get_by_test_id("import-clients")).to_have_text("1")
    expect(page.get_by_test_id("import-conflicts")).to_have_text("1")
    expect(page.locator(".messages .warning")).to_contain_text("varias colas simples")
    assert emulator.writes == 0 and not Client.objects.exists()
    page.get_by_role("button", name="Sí, importarlos").click()
    expect(page.locator(".messages .success")).to_contain_text("clientes 1")
    client = Client.objects.get()
    assert client.name == "Casa Pérez"
    assert emulator.queues()["Casa Pérez"]["comment"] == f"wispbill:client:{client.pk}"


def test_a_spreadsheet_with_a_bad_row_imports_nothing_then_the_fixed_one_imports(page, tmp_path):
    UserFactory(username="jefe", is_superuser=True)
    ZoneFactory(router=RouterFactory(name="Torre"), name="Zona día 1")
    PlanFactory(name="Hogar 10")
    bad = tmp_path / "clientes.csv"
    bad.write_text(
        "name,ip,zone,plan\nAna,172.16.1.1,Zona día 1,Hogar 10\nBeto,172.16.1.2,Zona día 1,Oro\n"
    )
    login(page, "jefe")
    page.goto("/clients/")
    page.get_by_role("link", name="Importar clientes").click()
    page.set_input_files("#id_file", str(bad))
    page.get_by_role("button", name="Revisar el archivo").click()
    expect(page.get_by_test_id("file-bad-rows")).to_have_text("1")
    expect(page.locator("tr.file-row.bad")).to_contain_text("No existe el plan Oro")
    expect(page.get_by_role("button", name="Sí, importarlos")).to_have_count(0)
    page.get_by_role("link", name="Revisar otro archivo").click()
    bad.write_text("name,ip,zone,plan\nAna,172.16.1.1,Zona día 1,Hogar 10\n")
    page.set_input_files("#id_file", str(bad))
    page.get_by_role("button", name="Revisar el archivo").click()
    page.get_by_role("button", name="Sí, importarlos").click()
    expect(page.locator(".messages .success")).to_contain_text("1 cliente importado")
    assert Client.objects.get().name == "Ana"
