"""The seed article's three flows and the grant of the permission, in Debian's Chromium."""

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import ClientFactory, OwnClientFactory, UserFactory, ZoneFactory
from wispbill.automation.models import MassUpdate
from wispbill.clients.models import Client
from wispbill.network.models import Zone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _nav(page, name: str):
    page.locator("nav").get_by_role("link", name=name, exact=True).click()


def _toggle(page, field_id: str):
    page.locator(f"label.toggle:has(#{field_id})").first.click()


def test_own_billing_client_switch_from_editar_cliente(page):
    UserFactory(username="jefe", is_superuser=True)
    own = OwnClientFactory(name="Rosa Flores")
    login(page, "jefe")
    _nav(page, "Clientes")
    page.get_by_role("link", name="Rosa Flores").click()
    expect(page.get_by_role("heading", name="Editar cliente: Rosa Flores")).to_be_visible()
    page.get_by_role("link", name="Facturación", exact=True).click()
    expect(page.get_by_role("heading", name="Tareas periódicas")).to_be_visible()
    _toggle(page, "id_task_cuts")
    page.get_by_role("button", name="Guardar cambios").click()
    expect(page.locator(".messages .success")).to_contain_text("guardado")
    own.refresh_from_db()
    assert (own.task_invoices, own.task_notices, own.task_cuts) == (True, True, False)


def test_zone_switch_from_editar_router_leaves_own_billing_clients(page):
    UserFactory(username="jefe", is_superuser=True)
    zone = ZoneFactory(name="Zona día 15", router__name="Torre Norte")
    own = OwnClientFactory(zone=zone)
    ClientFactory(zone=zone)
    login(page, "jefe")
    _nav(page, "Routers")
    page.get_by_role("link", name="Editar router").click()
    page.get_by_role("link", name="Facturación - Zona").click()
    card = page.locator(f"#zone-{zone.pk}")
    expect(card.get_by_text("Tareas periódicas")).to_be_visible()
    _toggle(card, f"id_zone-{zone.pk}-task_invoices")
    card.get_by_role("button", name="Guardar cambios").click()
    expect(page.locator(".messages .success")).to_contain_text("no se modificaron")
    zone.refresh_from_db()
    own.refresh_from_db()
    assert zone.task_invoices is False
    assert own.task_invoices is True


def test_mass_update_over_all_zones_with_confirmation_then_undo(page):
    UserFactory(username="jefe", is_superuser=True)
    zones = [ZoneFactory(), ZoneFactory()]
    owns = [OwnClientFactory(zone=zones[0]), OwnClientFactory(zone=zones[1])]
    login(page, "jefe")
    _nav(page, "Activar/desactivar tareas periódicas")
    page.select_option("#id_zone", label="Aplicar en todas las zonas")
    page.locator("label[for=id_cuts_1]").click()  # Desactivar
    page.get_by_role("button", name="Aplicar").click()
    expect(page.get_by_test_id("preview-zones")).to_have_text("2")
    expect(page.get_by_test_id("preview-clients")).to_have_text("2")
    assert Zone.objects.filter(task_cuts=False).count() == 0
    page.get_by_role("button", name="Sí, estoy seguro").click()
    expect(page.locator(".messages .success")).to_contain_text("Cambios aplicados")
    assert Zone.objects.filter(task_cuts=False).count() == 2
    assert Client.objects.filter(pk__in=[c.pk for c in owns], task_cuts=False).count() == 2

    page.get_by_role("link", name="Revertir").click()
    page.get_by_role("button", name="Sí, revertirla").click()
    expect(page.locator(".messages .success")).to_contain_text("recuperaron")
    assert Zone.objects.filter(task_cuts=False).count() == 0
    assert MassUpdate.objects.get().undone_at is not None


def test_granting_the_permission_unlocks_the_switches(page, chromium, live_server):
    UserFactory(username="jefe", is_superuser=True)
    UserFactory(username="soporte")
    own = OwnClientFactory()

    login(page, "soporte")
    page.goto(f"/clients/{own.pk}/#billing")
    expect(page.locator("#id_task_cuts")).to_be_disabled()
    expect(page.locator("#tab-billing").get_by_text("Solo lectura")).to_be_visible()
    response = page.goto("/mass-actions/periodic-tasks/")
    assert response.status == 403

    admin_context = chromium.new_context(base_url=live_server.url, locale="en-US")
    admin_page = admin_context.new_page()
    login(admin_page, "jefe")
    _nav(admin_page, "Personal")
    admin_page.locator("tr", has_text="soporte").get_by_role("link", name="Editar usuario").click()
    admin_page.get_by_label("Activar y desactivar tareas periódicas").check()
    admin_page.get_by_role("button", name="Guardar cambios").click()
    expect(admin_page.locator(".messages .success")).to_be_visible()
    admin_context.close()
    assert (
        Permission.objects.get(codename="toggle_periodic_tasks")
        .user_set.filter(username="soporte")
        .exists()
    )

    page.goto(f"/clients/{own.pk}/#billing")
    expect(page.locator("#id_task_cuts")).to_be_enabled()
    _toggle(page, "id_task_cuts")
    page.get_by_role("button", name="Guardar cambios").click()
    expect(page.locator(".messages .success")).to_be_visible()
    own.refresh_from_db()
    assert own.task_cuts is False
