"""The staff panel through Django's test client: permission, read-only switches, languages."""

import re

import pytest
from django.test import Client as Browser

from tests.factories import ClientFactory, OwnClientFactory, ZoneFactory
from wispbill.audit.models import AuditEvent
from wispbill.automation.models import MassUpdate

pytestmark = pytest.mark.django_db


def _login(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


def _client_post(client, **overrides) -> dict:
    data = {
        "name": client.name,
        "ip": client.ip,
        "access": client.access,
        "pppoe_username": client.pppoe_username,
        "email": "",
        "phone": "",
        "address": "",
        "zone": client.zone_id,
        "plan": client.plan_id,
        "start_date": client.start_date,
        "state": client.state,
        "billing_type": client.billing_type,
        "auto_activate_on_payment": "on",
        "language": "es",
        "billing_mode": client.billing_mode or "",
        "pay_day": client.pay_day or "",
        "invoice_lead_days": client.invoice_lead_days or "",
        "notice_offset_days": ""
        if client.notice_offset_days is None
        else client.notice_offset_days,
        "grace_days": "" if client.grace_days is None else client.grace_days,
    }
    data.update(overrides)
    return data


def test_panel_speaks_spanish_by_default_and_english_on_request(admin):
    browser = _login(admin)
    client = OwnClientFactory()
    page = browser.get(f"/clients/{client.pk}/").content.decode()
    assert "Tareas periódicas" in page and "Facturación" in page and "Editar cliente" in page
    browser.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = browser.get(f"/clients/{client.pk}/").content.decode()
    assert "Periodic tasks" in page and "Edit client" in page


def test_switches_are_read_only_without_the_permission(staff, admin):
    client = OwnClientFactory()
    page = _login(staff).get(f"/clients/{client.pk}/").content.decode()
    assert re.search(r'type="checkbox" name="task_cuts" value="1" disabled', page)
    assert "Solo lectura" in page
    admin_page = _login(admin).get(f"/clients/{client.pk}/").content.decode()
    assert "Solo lectura" not in admin_page
    assert re.search(r'type="checkbox" name="task_cuts" value="1"[^>]* checked', admin_page)


def test_crafted_post_without_the_permission_is_refused_whole(staff):
    client = OwnClientFactory(name="Original")
    response = _login(staff).post(
        f"/clients/{client.pk}/",
        _client_post(client, name="Cambiado", task_invoices="1", task_notices="1", task_cuts="0"),
    )
    assert response.status_code == 403
    assert "no se cambió nada" in response.content.decode()
    client.refresh_from_db()
    assert (client.name, client.task_cuts) == ("Original", True)


def test_staff_edit_without_switches_saves_the_other_fields(staff):
    client = OwnClientFactory(name="Original", task_cuts=False)
    response = _login(staff).post(f"/clients/{client.pk}/", _client_post(client, name="Nuevo"))
    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.name, client.task_cuts) == ("Nuevo", False)


def test_admin_turns_off_own_billing_cuts_from_the_facturacion_tab(admin):
    client = OwnClientFactory()
    response = _login(admin).post(
        f"/clients/{client.pk}/",
        _client_post(client, task_invoices=["0", "1"], task_notices=["0", "1"], task_cuts="0"),
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.task_invoices, client.task_notices, client.task_cuts) == (True, True, False)
    assert AuditEvent.objects.filter(
        object_id=client.pk, action="periodic_tasks.changed", changes={"cuts": [True, False]}
    ).exists()


def test_zone_form_on_router_page_saves_switches_without_touching_own_clients(admin):
    zone = ZoneFactory()
    own = OwnClientFactory(zone=zone)
    prefix = f"zone-{zone.pk}"
    response = _login(admin).post(
        f"/zones/{zone.pk}/",
        {
            f"{prefix}-name": zone.name,
            f"{prefix}-billing_mode": "prepaid",
            f"{prefix}-pay_day": 1,
            f"{prefix}-invoice_lead_days": 7,
            f"{prefix}-notice_offset_days": 2,
            f"{prefix}-grace_days": 4,
            f"{prefix}-task_invoices": "0",
            f"{prefix}-task_notices": "1",
            f"{prefix}-task_cuts": "1",
        },
    )
    assert response.status_code == 302
    zone.refresh_from_db()
    own.refresh_from_db()
    assert zone.task_invoices is False and own.task_invoices is True


def test_zone_form_reports_a_bad_schedule_on_its_field(admin):
    zone = ZoneFactory()
    prefix = f"zone-{zone.pk}"
    response = _login(admin).post(
        f"/zones/{zone.pk}/",
        {
            f"{prefix}-name": zone.name,
            f"{prefix}-billing_mode": "prepaid",
            f"{prefix}-pay_day": 1,
            f"{prefix}-invoice_lead_days": 7,
            f"{prefix}-notice_offset_days": 9,
            f"{prefix}-grace_days": 4,
        },
    )
    assert response.status_code == 400
    assert "fecha de corte" in response.content.decode()


def test_mass_update_page_is_403_without_the_permission(staff):
    zone = ZoneFactory()
    browser = _login(staff)
    assert browser.get("/mass-actions/periodic-tasks/").status_code == 403
    response = browser.post(
        "/mass-actions/periodic-tasks/",
        {"zone": zone.pk, "invoices": "keep", "notices": "keep", "cuts": "off", "confirm": "yes"},
    )
    assert response.status_code == 403
    assert not MassUpdate.objects.exists()


def test_mass_update_asks_for_confirmation_with_counts_then_applies(admin):
    zone = ZoneFactory()
    OwnClientFactory(zone=zone)
    OwnClientFactory(zone=zone)
    ClientFactory(zone=zone)
    browser = _login(admin)
    form = {"zone": zone.pk, "invoices": "keep", "notices": "off", "cuts": "off"}
    confirm = browser.post("/mass-actions/periodic-tasks/", form)
    page = confirm.content.decode()
    assert "Sí, estoy seguro" in page
    assert 'data-testid="preview-clients">2<' in page
    assert not MassUpdate.objects.exists()
    done = browser.post("/mass-actions/periodic-tasks/", {**form, "confirm": "yes"}, follow=True)
    assert "Cambios aplicados" in done.content.decode()
    mass_update = MassUpdate.objects.get()
    assert (mass_update.zones_changed, mass_update.clients_changed) == (1, 2)


def test_staff_pages_are_for_admins(staff, admin):
    assert _login(staff).get("/staff/").status_code == 403
    page = _login(admin).get("/staff/new/").content.decode()
    assert "Activar y desactivar tareas periódicas" in page


def test_client_list_filters(admin):
    zone = ZoneFactory()
    ClientFactory(zone=zone, name="Rosa Flores")
    ClientFactory(name="Juan Pérez", state="suspended")
    browser = _login(admin)
    page = browser.get("/clients/", {"q": "rosa"}).content.decode()
    assert "Rosa Flores" in page and "Juan Pérez" not in page
    page = browser.get("/clients/", {"state": "suspended"}).content.decode()
    assert "Juan Pérez" in page and "Rosa Flores" not in page
    page = browser.get("/clients/", {"router": zone.router_id}).content.decode()
    assert "Rosa Flores" in page and "Juan Pérez" not in page


def test_history_tab_shows_switch_changes(admin):
    zone = ZoneFactory()
    browser = _login(admin)
    browser.post(
        f"/zones/{zone.pk}/",
        {
            f"zone-{zone.pk}-name": zone.name,
            f"zone-{zone.pk}-billing_mode": "prepaid",
            f"zone-{zone.pk}-pay_day": 1,
            f"zone-{zone.pk}-invoice_lead_days": 7,
            f"zone-{zone.pk}-notice_offset_days": 2,
            f"zone-{zone.pk}-grace_days": 4,
            f"zone-{zone.pk}-task_invoices": "1",
            f"zone-{zone.pk}-task_notices": "1",
            f"zone-{zone.pk}-task_cuts": "0",
        },
    )
    page = browser.get(f"/routers/{zone.router_id}/").content.decode()
    assert "Tareas periódicas modificadas" in page


def test_login_required():
    assert Browser().get("/clients/").status_code == 302


def test_an_english_browser_still_gets_the_spanish_panel_until_the_user_chooses(admin):
    browser = _login(admin)
    page = browser.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Acciones masivas" in page
    browser.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = browser.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Mass actions" in page


def test_admin_makes_and_revokes_an_api_key_from_the_staff_page(admin, staff):
    from rest_framework.test import APIClient

    browser = _login(admin)
    page = browser.post(f"/staff/{staff.pk}/api-keys/", {"name": "facturación"}).content.decode()
    key = re.search(r'data-testid="api-key"[^>]*>(wb_[^<]+)<', page).group(1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert api.get("/api/v1/zones/").status_code == 200
    # The key carries the staff member's permissions, not the admin's who made it.
    assert api.get("/api/v1/staff/").status_code == 403
    listed = browser.get(f"/staff/{staff.pk}/").content.decode()
    assert "facturación" in listed and key not in listed
    key_id = staff.api_keys.get().pk
    browser.post(f"/staff/{staff.pk}/api-keys/{key_id}/revoke/")
    assert api.get("/api/v1/zones/").status_code == 401
    assert _login(staff).post(f"/staff/{staff.pk}/api-keys/").status_code == 403


def test_the_seed_articles_addresses_lead_to_the_same_pages(admin):
    browser = _login(admin)
    for alias, target in [
        ("/clientes/", "/clients/"),
        ("/router/", "/routers/"),
        ("/acciones-masivas/activar-tareas-periodicas/", "/mass-actions/periodic-tasks/"),
    ]:
        response = browser.get(alias)
        assert (response.status_code, response["Location"]) == (302, target)
    ClientFactory(name="Ana Ruiz")
    assert "Editar cliente" in browser.get("/clients/").content.decode()


def test_the_zone_select_names_every_zone_escaped_and_marks_the_clients(admin):
    client = ClientFactory(zone=ZoneFactory(name="Norte <b>"))
    other = ZoneFactory(name="Sur & Centro")
    page = _login(admin).get(f"/clients/{client.pk}/").content.decode()
    select = re.search(r'<select name="zone".*?</select>', page, re.S).group(0)
    assert f'<option value="{client.zone_id}" selected>' in select
    assert "Norte &lt;b&gt;" in select and "Sur &amp; Centro" in select
    assert f'<option value="{other.pk}">' in select


def test_mass_update_that_changes_nothing_offers_no_confirmation(admin):
    zone = ZoneFactory(task_cuts=False)
    browser = _login(admin)
    form = {"zone": zone.pk, "invoices": "keep", "notices": "keep", "cuts": "off"}
    page = browser.post("/mass-actions/periodic-tasks/", form).content.decode()
    assert "No cambiaría nada" in page
    assert "Sí, estoy seguro" not in page
    changing = browser.post("/mass-actions/periodic-tasks/", {**form, "cuts": "on"})
    assert "Sí, estoy seguro" in changing.content.decode()


def test_a_client_page_says_it_is_read_only_to_who_may_not_change_it(nobody, staff):
    """Staff without «Administrar clientes» (nor the switches) read a client's page: it says
    so where the save button would be, and its title does not offer to edit."""
    client = ClientFactory(name="Rosa Díaz")
    page = _login(nobody).get(f"/clients/{client.pk}/").content.decode()
    assert "Cliente: Rosa Díaz" in page and "Editar cliente" not in page
    assert 'data-testid="read-only"' in page and "Administrar clientes" in page
    assert "Guardar cambios" not in page
    page = _login(staff).get(f"/clients/{client.pk}/").content.decode()
    assert "Editar cliente: Rosa Díaz" in page and 'data-testid="read-only"' not in page
