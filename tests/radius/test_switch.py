"""A router's guided switch to RADIUS and back (issue 21): it says what changes, and the PPPoE
secrets wispbill put on the router leave it only once FreeRADIUS, asked as that router,
accepts its clients; back in API mode they are pushed again. The router is the RouterOS
emulator, FreeRADIUS the real one run by `wispbill radius`."""

import html

import pytest
from django.conf import settings

from tests.factories import PlanFactory, ZoneFactory
from tests.radius.conftest import SECRET, needs_freeradius
from wispbill.clients.enforcement import router_reconcile
from wispbill.clients.services.clients import client_create
from wispbill.network.models import Router
from wispbill.network.services import router_create
from wispbill.radius.models import Credential

pytestmark = [pytest.mark.slow, needs_freeradius]


def _router(emulator) -> Router:
    router = router_create(
        actor=None,
        name="Torre",
        host="127.0.0.1",
        api_port=emulator.port,
        username="wispbill",
        password="s3cret",
        enforcement="mikrotik",
        allow_local_host=True,
        provisioning=True,
        coa_port=3799,
    )
    zone = ZoneFactory(router=router)
    plan = PlanFactory(upload_kbps=2_000, download_kbps=10_000)
    for n, name in enumerate(("ana", "beto")):
        client_create(
            actor=None,
            name=name.title(),
            ip=f"10.50.0.{n + 5}",
            zone=zone,
            plan=plan,
            access="pppoe",
            pppoe_username=name,
            pppoe_password=f"pw-{name}",
        )
    router_reconcile(router)
    return router


def test_secrets_leave_the_router_only_after_freeradius_accepts_its_clients(
    start_radius, radius_db, settings, admin_api, emulator
):
    settings.DATA_DIR = radius_db  # where `wispbill radius` tells how to reach its probe
    router = _router(emulator)
    assert set(emulator.secrets()) == {"ana", "beto"}
    url = f"/api/v1/routers/{router.pk}/"

    preview = admin_api.get(url + "radius-switch/", {"to": "radius"}).json()
    assert (preview["pppoe_clients"], preview["secrets_removed"]) == (2, 2)
    assert any("port=3799" in command for command in preview["commands"])
    assert admin_api.get(url + "radius-switch/", {"to": "diameter"}).status_code == 400

    response = admin_api.patch(url, {"aaa": "radius", "radius_secret": SECRET}, format="json")
    assert response.json()["radius_secrets_kept"] is True
    router_reconcile(router)
    # Turned to RADIUS, its clients still log in as before: the secrets stay.
    assert set(emulator.secrets()) == {"ana", "beto"}

    # FreeRADIUS is not running: nothing can be checked, nothing is removed.
    refused = admin_api.post(url + "radius-confirm/", HTTP_ACCEPT_LANGUAGE="es")
    assert refused.status_code == 400
    assert "FreeRADIUS" in str(refused.json()["aaa"])
    router_reconcile(router)
    assert set(emulator.secrets()) == {"ana", "beto"}

    start_radius()
    confirmed = admin_api.post(url + "radius-confirm/")
    assert confirmed.status_code == 200, confirmed.json()
    assert (confirmed.json()["tried"], confirmed.json()["refused"]) == (["Ana", "Beto"], [])
    router_reconcile(router)
    assert emulator.secrets() == {}
    assert admin_api.get(url).json()["radius_secrets_kept"] is False
    # Done once: there is nothing left to confirm.
    assert admin_api.post(url + "radius-confirm/").status_code == 400

    back = admin_api.get(url + "radius-switch/", {"to": "api"}).json()
    assert back["secrets_added"] == 2
    assert admin_api.patch(url, {"aaa": "api"}, format="json").status_code == 200
    router_reconcile(router)
    assert set(emulator.secrets()) == {"ana", "beto"}


def test_a_router_freeradius_refuses_keeps_its_secrets(
    start_radius, radius_db, settings, admin_api, emulator
):
    settings.DATA_DIR = radius_db
    router = _router(emulator)
    url = f"/api/v1/routers/{router.pk}/"
    admin_api.patch(url, {"aaa": "radius", "radius_secret": SECRET}, format="json")
    start_radius()
    # FreeRADIUS holds a password for beto that is not his: it refuses him.
    Credential.objects.filter(login="beto").update(password="not-his-password")
    response = admin_api.post(url + "radius-confirm/")
    assert response.status_code == 400
    assert "Beto" in str(response.json()["aaa"])
    router_reconcile(router)
    assert set(emulator.secrets()) == {"ana", "beto"}


def test_the_panel_page_says_what_a_switch_changes_in_spanish(admin, db):
    from django.test import Client as WebClient

    router = router_create(actor=None, name="Torre", host="192.0.2.9", provisioning=True)
    web = WebClient()
    web.force_login(admin)
    page = web.get(f"/routers/{router.pk}/radius/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    page = html.unescape(page)
    assert "/ppp aaa set use-radius=yes" in page
    assert "Cambiar a RADIUS cambia esto" in page and "0 clientes en línea" in page
    # What the operator fills in is named in Spanish and explained; no English placeholder.
    assert 'address=DIRECCION-DEL-SERVIDOR secret="SECRETO-COMPARTIDO"' in page
    assert "el secreto compartido escrito en el formulario de este router" in page
    assert "RADIUS-SERVER" not in page and "SERVER-ADDRESS" not in page
    # Nothing to finish on a router in API mode: a clear message, nothing changed.
    response = web.post(f"/routers/{router.pk}/radius/", HTTP_ACCEPT_LANGUAGE="es", follow=True)
    assert "no está esperando terminar un cambio a RADIUS" in response.content.decode()
    web.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the panel's language menu
    english = html.unescape(web.get(f"/routers/{router.pk}/radius/").content.decode())
    assert 'address=SERVER-ADDRESS secret="SHARED-SECRET"' in english


def test_staff_who_may_not_manage_routers_see_the_switch_but_not_its_last_step(db, nobody):
    from django.test import Client as WebClient

    from tests.radius.test_freeradius import _radius_router

    router = _radius_router()
    Router.objects.filter(pk=router.pk).update(radius_secrets_kept=True)
    web = WebClient()
    web.force_login(nobody)
    page = web.get(f"/routers/{router.pk}/radius/").content.decode()
    assert "Cambiar a RADIUS cambia esto" in page
    assert 'data-testid="radius-confirm"' not in page
    assert "Solo el personal que puede gestionar routers puede terminar el cambio." in page
    # Nothing a router could keep: said in words, not as "0 secrets".
    assert "no puso ningún secret PPPoE en este router" in page
