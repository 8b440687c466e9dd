"""What the operator reads: refusals that name who and what, dates as dd/mm/yyyy, a router
screen that does not pretend, the notice address as a company setting, the panel's own
404 and 500 pages, and a settings page with every setting."""

from datetime import date

import pytest
from django.db import connection
from django.test import Client as Browser
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tests.factories import ClientFactory, PlanFactory, RouterFactory, ZoneFactory
from wispbill.automation.services.company import COMPANY_FIELDS
from wispbill.clients.models import Client
from wispbill.core.models import CompanySettings
from wispbill.devtools.emulator import RouterOSEmulator
from wispbill.network.baseline import baseline_plan
from wispbill.panel.forms.automation import COMPANY_GROUPS
from wispbill.panel.views.errors import server_error

pytestmark = pytest.mark.django_db


def _login(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


def test_an_ip_already_taken_names_who_holds_it_in_the_api_and_the_panel(admin, admin_api):
    ClientFactory(name="Ana Pérez", ip="172.16.0.9")
    zone, plan = ZoneFactory(), PlanFactory()
    body = {"name": "Beto", "ip": "172.16.0.9", "zone": zone.pk, "plan": plan.pk}
    refused = admin_api.post("/api/v1/clients/", body, format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert refused.status_code == 400
    assert refused.json()["ip"] == ["Otro cliente (Ana Pérez) ya tiene la IP 172.16.0.9."]
    page = _login(admin).post(
        "/clients/new/",
        {"name": "Beto", "ip": "172.16.0.9", "zone": zone.pk, "plan": plan.pk,
         "start_date": "25/12/2026", "state": "active", "billing_type": "zone", "language": "es",
         "access": "static"},
    )  # fmt: skip
    assert page.status_code == 400
    assert "Otro cliente (Ana Pérez) ya tiene la IP 172.16.0.9." in page.content.decode()
    assert Client.objects.count() == 1


def test_dates_are_typed_and_shown_as_dd_mm_yyyy(admin):
    client = ClientFactory(start_date=date(2026, 1, 5))
    browser = _login(admin)
    assert (
        'name="start_date" value="05/01/2026"'
        in browser.get(f"/clients/{client.pk}/").content.decode()
    )
    data = {
        "name": client.name, "ip": client.ip, "zone": client.zone_id, "plan": client.plan_id,
        "state": "active", "billing_type": "zone", "language": "es", "access": "static",
        "auto_activate_on_payment": "on",
    }  # fmt: skip
    for typed, stored in (("25/12/2026", date(2026, 12, 25)), ("2027-01-02", date(2027, 1, 2))):
        assert (
            browser.post(f"/clients/{client.pk}/", {**data, "start_date": typed}).status_code == 302
        )
        client.refresh_from_db()
        assert client.start_date == stored
    wrong = browser.post(f"/clients/{client.pk}/", {**data, "start_date": "12/25/2026"})
    assert "Escriba la fecha como dd/mm/aaaa" in wrong.content.decode()


def test_the_settings_page_has_every_setting_once_and_takes_holidays_as_dd_mm_yyyy(admin):
    grouped = [name for _anchor, _title, _help, names in COMPANY_GROUPS for name in names]
    assert sorted(grouped) == sorted(COMPANY_FIELDS)
    browser = _login(admin)
    form = browser.get("/settings/").context["form"]
    data = {
        f.html_name: f.value() for f in form if f.value() is not None and f.value() is not False
    }
    data.update(holidays="25/12/2026\n01/01/2027", notice_host="10.0.0.5", no_cut_weekdays=[6])
    assert browser.post("/settings/", data).status_code == 302
    company = CompanySettings.load()
    assert company.holidays == ["2026-12-25", "2027-01-01"] and company.notice_host == "10.0.0.5"
    assert "25/12/2026" in browser.get("/settings/").content.decode()
    bad = browser.post("/settings/", {**data, "notice_host": "pagos.mi-isp.mx"})
    assert bad.status_code == 400 and "dirección IPv4" in bad.content.decode()


def test_the_firewall_rules_use_the_company_notice_address_unless_the_server_overrides_it():
    emulator = RouterOSEmulator(username="wispbill", password="s3cret").start()
    try:
        router = RouterFactory(
            host="127.0.0.1", api_port=emulator.port, username="wispbill", enforcement="mikrotik"
        )
        router.password = "s3cret"
        router.save()
        company = CompanySettings.load()
        company.notice_host = "10.0.0.5"
        company.save()
        with override_settings(NOTICE_HOST=""):
            rules = dict(baseline_plan(router).add[-1].fields)
        assert rules["to-addresses"] == "10.0.0.5"
        with override_settings(NOTICE_HOST="10.9.9.9"):
            rules = dict(baseline_plan(router).add[-1].fields)
        assert rules["to-addresses"] == "10.9.9.9"
    finally:
        emulator.stop()


def test_a_router_without_enforcement_says_it_is_not_managed(admin):
    router = RouterFactory(name="Cerro Azul", enforcement="none")
    client = ClientFactory(zone=ZoneFactory(router=router))
    browser = _login(admin)
    tested = browser.post(f"/routers/{router.pk}/test/", follow=True)
    assert tested.status_code == 200
    assert "«Cerro Azul» no está gestionado" in tested.content.decode()
    synced = browser.post(f"/routers/{router.pk}/sync/", follow=True).content.decode()
    assert "no está gestionado" in synced and "está sincronizado" not in synced
    for url in ("/routers/", f"/routers/{router.pk}/", f"/clients/{client.pk}/"):
        html = browser.get(url).content.decode()
        assert "No gestionado" in html and ">Sincronizado<" not in html
    page = browser.get(f"/routers/{router.pk}/").content.decode()
    assert "Control en el router" in page and "Ninguno (solo base de datos)" in page


def test_the_panels_own_404_and_500_pages(admin):
    missing = _login(admin).get("/clients/999999/")
    assert missing.status_code == 404
    assert "Página no encontrada" in missing.content.decode()
    assert 'href="/"' in missing.content.decode()
    assert Browser().get("/api/v1/nothing-here/").json() == {"detail": "No encontrado."}
    request = RequestFactory().get("/clients/")
    with translation.override("es"), CaptureQueriesContext(connection) as queries:
        failed = server_error(request)  # no session, no user: the failure may be the database
    assert len(queries) == 0 and failed.status_code == 500
    assert "Algo falló de nuestro lado" in failed.content.decode()
    assert 'href="/"' in failed.content.decode()


def test_a_name_already_taken_is_refused_by_its_name(admin_api):
    PlanFactory(name="10 Mb")
    RouterFactory(name="Torre Norte")
    plan = admin_api.post(
        "/api/v1/plans/",
        {"name": "10 Mb", "price": "1.00", "download_kbps": 1, "upload_kbps": 1},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert plan.status_code == 400
    assert plan.json()["name"] == ["Ya existe un plan llamado «10 Mb»."]
    router = admin_api.post(
        "/api/v1/routers/", {"name": "Torre Norte"}, format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert router.json()["name"] == ["Ya existe un router llamado «Torre Norte»."]
