"""A router's RADIUS settings (docs/contract.md, "RADIUS routers"): through the API and the panel,
the secret kept encrypted and never shown, bad values refused with a message, changing
nothing; and the configuration `wispbill radius-config` writes for them."""

import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client as WebClient

from tests.factories import ClientFactory, ZoneFactory
from wispbill.clients.models import Access
from wispbill.network.models import Router
from wispbill.radius.credentials import sql_escape
from wispbill.radius.freeradius import RadiusError, quoted, radiusd_conf
from wispbill.radius.models import Credential

GOOD = "Secret-de-torre 'uno' \"2\" ${x} %{y}"


def _create(api, **fields):
    return api.post(
        "/api/v1/routers/",
        {"name": "Torre", "host": "192.0.2.20", **fields},
        format="json",
    )


def test_a_router_answers_logins_itself_unless_told_radius(admin_api):
    body = _create(admin_api).json()
    assert (body["aaa"], body["coa_port"], body["radius_cut"]) == ("api", 3799, "address_list")
    assert "radius_secret" not in body


def test_a_radius_router_keeps_its_secret_encrypted_and_never_shows_it(admin_api):
    response = _create(
        admin_api, aaa="radius", radius_secret=GOOD, coa_port=1700, radius_cut="reject"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["aaa"], body["coa_port"], body["radius_cut"]) == ("radius", 1700, "reject")
    assert "radius_secret" not in body and GOOD not in response.content.decode()
    router = Router.objects.get(pk=body["id"])
    assert GOOD not in router.radius_secret_encrypted
    assert router.radius_secret == GOOD
    # Left out, the secret is kept.
    response = admin_api.patch(f"/api/v1/routers/{router.pk}/", {"coa_port": 3799}, format="json")
    assert response.status_code == 200, response.json()
    router.refresh_from_db()
    assert router.radius_secret == GOOD and router.coa_port == 3799


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"aaa": "radius"}, "radius_secret"),
        ({"aaa": "radius", "radius_secret": "short"}, "radius_secret"),
        ({"aaa": "radius", "radius_secret": "x" * 129}, "radius_secret"),
        ({"aaa": "radius", "radius_secret": "line\nbreak-here"}, "radius_secret"),
        ({"aaa": "radius", "radius_secret": "tab\there-too"}, "radius_secret"),
        ({"aaa": "radius", "radius_secret": "back\\slash-secret"}, "radius_secret"),
        ({"aaa": "radius", "radius_secret": "contraseña-larga"}, "radius_secret"),
        ({"aaa": "radius", "radius_secret": GOOD, "host": ""}, "host"),
        ({"aaa": "diameter", "radius_secret": GOOD}, "aaa"),
        ({"coa_port": 0}, "coa_port"),
        ({"coa_port": 70000}, "coa_port"),
        ({"radius_cut": "drop"}, "radius_cut"),
        # A CoA would reach this server's services, FreeRADIUS's own login port among them.
        ({"aaa": "radius", "radius_secret": GOOD, "coa_port": 1812}, "coa_port"),
        ({"aaa": "radius", "radius_secret": GOOD, "coa_port": 6379}, "coa_port"),
        ({"aaa": "radius", "radius_secret": GOOD, "coa_port": 53}, "coa_port"),
    ],
)
def test_bad_radius_settings_are_400_on_their_field_and_create_nothing(admin_api, fields, field):
    response = _create(admin_api, **fields)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Router.objects.exists()


def test_a_coa_port_on_a_service_is_refused_only_in_radius_mode_and_until_an_admin_allows(
    admin_api,
):
    router_id = _create(admin_api, coa_port=1812).json()["id"]  # unused in API mode
    response = admin_api.patch(
        f"/api/v1/routers/{router_id}/",
        {"aaa": "radius", "radius_secret": GOOD},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 400
    assert "no el puerto CoA de un router" in str(response.json()["coa_port"])
    assert Router.objects.get(pk=router_id).aaa == "api"
    response = admin_api.patch(
        f"/api/v1/routers/{router_id}/",
        {"aaa": "radius", "radius_secret": GOOD, "coa_port": 3799},
        format="json",
    )
    assert response.status_code == 200, response.json()


def test_a_coa_never_leaves_for_a_host_or_port_that_is_not_allowed():
    from wispbill.network.hosts import resolve_for_router

    assert resolve_for_router("192.0.2.20", 3799, allow_local=False, coa=True) == "192.0.2.20"
    for host, port in (("127.0.0.1", 3799), ("192.0.2.20", 1813), ("169.254.169.254", 3799)):
        with pytest.raises(ValueError):
            resolve_for_router(host, port, allow_local=False, coa=True)
    assert resolve_for_router("127.0.0.1", 3799, allow_local=True, coa=True) == "127.0.0.1"


def test_bad_secret_on_an_existing_router_changes_nothing(admin_api):
    router_id = _create(admin_api, aaa="radius", radius_secret=GOOD).json()["id"]
    response = admin_api.patch(
        f"/api/v1/routers/{router_id}/",
        {"radius_secret": "bad\x00secret!", "radius_cut": "reject"},
        format="json",
    )
    assert response.status_code == 400
    router = Router.objects.get(pk=router_id)
    assert (router.radius_secret, router.radius_cut) == (GOOD, "address_list")


def test_the_panel_form_sets_radius_and_says_what_is_wrong_in_spanish(admin):
    web = WebClient()
    web.force_login(admin)
    form = {
        "name": "Torre",
        "host": "192.0.2.30",
        "api_port": 8728,
        "enforcement": "none",
        "cut_list": "Moroso",
        "notice_list": "Aviso",
        "throttle_list": "Reducido",
        "pppoe_cut": "address_list",
        "aaa": "radius",
        "coa_port": 3799,
        "radius_cut": "address_list",
        "radius_secret": "corto",
    }
    response = web.post("/routers/new/", form, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "Entre 8 y 128 caracteres." in response.content.decode()
    assert not Router.objects.exists()
    response = web.post("/routers/new/", {**form, "radius_secret": GOOD})
    assert response.status_code == 302
    router = Router.objects.get()
    assert (router.aaa, router.radius_secret) == ("radius", GOOD)
    assert GOOD not in web.get(f"/routers/{router.pk}/").content.decode()


def test_sql_escape_is_rlm_sqls():
    assert sql_escape("ana.b-c_d@isp:1 /x") == "ana.b-c_d@isp:1 /x"
    assert sql_escape("o'brien%") == "o=27brien=25"
    assert sql_escape("a=b") == "a=3Db"  # so no escaped name is another's
    assert sql_escape("josé") == "josé"
    assert sql_escape("\\\"';") == "=5C=22=27=3B"


def test_configuration_strings_are_literal_or_refused():
    assert quoted('it\'s ${x} %{y} "q"') == "'it\\'s ${x} %{y} \"q\"'"
    with pytest.raises(RadiusError):
        quoted("a\\")


def test_radius_config_writes_the_routers_for_the_owner_only(db, tmp_path):
    router = Router(name="Torre", host="192.0.2.40", aaa="radius")
    router.radius_secret = GOOD
    router.save()
    Router.objects.create(name="Otra", host="192.0.2.41")  # its logins are its own
    zone = ZoneFactory(router=router)
    client = ClientFactory.build(zone=zone, access=Access.PPPOE, pppoe_username="ana")
    client.plan.save()
    client.pppoe_password = "pw-ana"
    client.save()
    Credential.objects.all().delete()  # as a bulk import leaves it: written by the command
    target = tmp_path / "freeradius"
    call_command("radius-config", str(target), "--auth-port", "11812")
    clients_conf = (target / "clients.conf").read_text()
    assert "192.0.2.40" in clients_conf and "192.0.2.41" not in clients_conf
    assert quoted(GOOD) in clients_conf
    assert "port = 11812" in (target / "radiusd.conf").read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    for name in ("clients.conf", "radiusd.conf"):
        assert stat.S_IMODE((target / name).stat().st_mode) == 0o600
    assert Credential.objects.get().password == "pw-ana"


def test_passwords_are_kept_in_clear_only_for_the_logins_radius_answers(admin_api):
    router_id = _create(admin_api).json()["id"]
    zone = ZoneFactory(router_id=router_id)
    client = ClientFactory.build(zone=zone, access=Access.PPPOE, pppoe_username="ana")
    client.plan.save()
    client.pppoe_password = "pw-ana"
    client.save()
    assert not Credential.objects.exists()  # the router keeps its own secrets

    response = admin_api.patch(
        f"/api/v1/routers/{router_id}/", {"aaa": "radius", "radius_secret": GOOD}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert Credential.objects.get(client=client).password == "pw-ana"

    client.access, client.pppoe_username = Access.STATIC, ""
    client.pppoe_password = ""
    client.save()
    assert not Credential.objects.exists()
    client.access, client.pppoe_username = Access.PPPOE, "ana2"
    client.pppoe_password = "pw-2"
    client.save()
    assert Credential.objects.get(client=client).username == "ana2"

    response = admin_api.patch(f"/api/v1/routers/{router_id}/", {"aaa": "api"}, format="json")
    assert response.status_code == 200
    assert not Credential.objects.exists()


def test_rejects_are_delayed_by_default_and_the_delay_is_bounded(db, tmp_path):
    """A reject waits a second by default (password guessing slows down); `wispbill radius
    --reject-delay` sets it from 0 to 5 and refuses anything else before starting."""
    conf = radiusd_conf(tmp_path, address="127.0.0.1", auth_port=1812, acct_port=1813)
    assert "reject_delay = 1\n" in conf
    conf = radiusd_conf(
        tmp_path, address="127.0.0.1", auth_port=1812, acct_port=1813, reject_delay=0
    )
    assert "reject_delay = 0\n" in conf
    for bad in ("6", "-1"):
        with pytest.raises(CommandError, match="from 0 to 5"):
            call_command("radius", "--reject-delay", bad)
