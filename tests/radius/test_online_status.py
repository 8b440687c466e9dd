"""Whether a client is online, as its RADIUS router's accounting says: on the client's page in
the panel and on its own portal page (since when, at which address, through which router);
nothing on either for a client of a router in API mode, whose sessions wispbill never hears."""

from datetime import timedelta

from django.test import Client as Browser
from django.utils import timezone

from tests.factories import ClientFactory, ZoneFactory
from tests.radius.test_freeradius import _pppoe, _radius_router
from wispbill.messaging.links import portal_token
from wispbill.network.services import router_create
from wispbill.radius.models import Session


def _portal(client, lang: str) -> str:
    token, _expires = portal_token(client.pk, revision=client.portal_links_revision)
    return Browser().get(f"/portal/{token}/?lang={lang}").content.decode()


def _panel(admin, client, lang: str) -> str:
    web = Browser()
    web.force_login(admin)
    return web.get(f"/clients/{client.pk}/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()


def test_the_client_and_the_operator_see_the_open_session(db, admin):
    router = _radius_router(name="Torre Norte")
    ana = _pppoe(ZoneFactory(router=router), "ana", "pw-ana", ip="10.20.0.5")
    now = timezone.now()
    Session.objects.create(
        client=ana,
        router=router,
        username="ana",
        session_id="old",
        started_at=now - timedelta(days=2),
        updated_at=now - timedelta(days=1),
        stopped_at=now - timedelta(days=1),
    )
    live = Session.objects.create(
        client=ana,
        router=router,
        username="ana",
        ip="10.20.0.5",
        session_id="live",
        started_at=now - timedelta(hours=3),
        updated_at=now - timedelta(minutes=2),
    )

    portal = _portal(ana, "es")
    assert 'data-testid="connection"' in portal
    assert "Conectado desde el" in portal and "10.20.0.5" in portal and "Torre Norte" in portal
    assert "Connected since" in _portal(ana, "en")
    panel = _panel(admin, ana, "es")
    assert "En línea" in panel and "por Torre Norte" in panel and "hace 3" in panel

    Session.objects.filter(pk=live.pk).update(stopped_at=now)
    assert "Sin conexión en este momento." in _portal(ana, "es")
    assert "Not connected now." in _portal(ana, "en")
    assert "Desconectado" in _panel(admin, ana, "es")


def test_a_client_of_an_api_router_is_told_nothing_about_its_connection(db, admin):
    router = router_create(actor=None, name="Torre API", host="192.0.2.9")
    client = ClientFactory(zone=ZoneFactory(router=router))
    assert 'data-testid="connection"' not in _portal(client, "es")
    assert 'data-testid="client-radius"' not in _panel(admin, client, "es")
