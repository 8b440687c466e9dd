"""Bad input is refused with a clear message in the user's language and changes nothing
(issue 8): impossible days, scopes that name no row, addresses no client can have, id 0."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client as Browser

from tests.dump import database_dump
from tests.factories import ClientFactory, OwnClientFactory, PlanFactory, ZoneFactory
from tests.integration.test_panel import _client_post
from wispbill.billing.models import Invoice
from wispbill.clients.services.file_import import clients_file_import
from wispbill.core.models import CompanySettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def panel(admin) -> Browser:
    browser = Browser()
    browser.force_login(admin)
    return browser


@pytest.fixture
def client():
    zone = ZoneFactory(name="Zona día 1")
    OwnClientFactory(zone=zone, name="Propia")
    CompanySettings.load()  # made on the first page load: not the request's doing
    return ClientFactory(zone=zone, plan=PlanFactory(name="Hogar"), name="Ana")


def _messages(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


IMPOSSIBLE_DAYS = ["2027-02-30", "30/02/2027", "31/04/2026", "abc", "31/13/2026"]
OUT_OF_RANGE_DAYS = ["01/01/0001", "31/12/9999", "31/12/1999", "2099-01-01"]


def test_panel_create_invoice_refuses_a_day_that_does_not_exist(panel, client):
    before = database_dump()
    url = f"/clients/{client.pk}/actions/create-invoice/"
    for day in IMPOSSIBLE_DAYS:
        said = _messages(panel.post(url, {"date": day}))
        assert f"«{day}» no es una fecha válida." in said, day
        assert "Escriba la fecha como dd/mm/aaaa" in said
    for day in OUT_OF_RANGE_DAYS:
        said = _messages(panel.post(url, {"date": day}))
        assert "El día debe estar entre el 1 de enero de 2000 y el" in said, day
    assert database_dump() == before
    panel.post(url, {"date": ""})  # no day: the current cycle, as before
    assert Invoice.objects.count() == 1


@pytest.mark.parametrize("value", ["abc", "-1", "0", "424242", "99999999999999999999", "1.5"])
def test_run_now_refuses_a_zone_that_names_none(panel, client, value):
    before = database_dump()
    for send in (panel.get, panel.post):
        for data in ({"zone": value}, {"zone": value, "confirm": "yes"}):
            response = send("/periodic-tasks/run/", data)
            assert response.status_code == 302 and response["Location"] == "/periodic-tasks/"
            said = _messages(response)
            assert f"No existe la zona «{value}»; no se ejecutó nada." in said
    response = panel.post("/periodic-tasks/run/", {"client": value, "confirm": "yes"})
    assert f"No existe un cliente con facturación propia «{value}»" in _messages(response)
    assert database_dump() == before


def test_run_now_refuses_a_client_billed_by_its_zone(panel, client):
    before = database_dump()
    response = panel.post("/periodic-tasks/run/", {"client": client.pk, "confirm": "yes"})
    assert "No existe un cliente con facturación propia" in _messages(response)
    assert database_dump() == before


def test_api_create_invoice_refuses_bad_days_with_a_400(admin_api, client):
    before = database_dump()
    url = f"/api/v1/clients/{client.pk}/create-invoice/"
    for day in ["0001-01-01", "9999-12-31", "1999-12-31", "2099-01-01"]:
        response = admin_api.post(url, {"date": day}, format="json", HTTP_ACCEPT_LANGUAGE="es")
        assert response.status_code == 400, day
        [message] = response.json()["date"]
        assert message.startswith("El día debe estar entre el 1 de enero de 2000 y el")
    for day in ["2027-02-30", "abc", None, 20270101, [1], {"a": 1}, True]:
        response = admin_api.post(url, {"date": day}, format="json", HTTP_ACCEPT_LANGUAGE="es")
        assert response.status_code == 400, day
        assert response.json()["date"], day
    assert database_dump() == before


NOT_CLIENT_IPS = {
    "127.0.0.1": "loopback",
    "127.31.4.1": "loopback",
    "0.0.0.0": "esta red",
    "0.1.2.3": "esta red",
    "255.255.255.255": "difusión",
    "224.0.0.1": "multidifusión",
    "239.255.255.250": "multidifusión",
    "169.254.10.1": "enlace local",
    "240.0.0.1": "reservada",
}


def test_addresses_no_client_can_have_are_refused_everywhere(admin, admin_api, panel, client):
    before = database_dump()
    for ip, why in NOT_CLIENT_IPS.items():
        body = {"name": "Nuevo", "ip": ip, "zone": client.zone_id, "plan": client.plan_id}
        response = admin_api.post(
            "/api/v1/clients/", body, format="json", HTTP_ACCEPT_LANGUAGE="es"
        )
        assert response.status_code == 400
        [message] = response.json()["ip"]
        assert (
            message.startswith(f"{ip} no puede ser la dirección de un cliente: ") and why in message
        )
        response = admin_api.patch(f"/api/v1/clients/{client.pk}/", {"ip": ip}, format="json")
        assert response.status_code == 400 and "ip" in response.json()

        page = panel.post("/clients/new/", _client_post(client, name="Nuevo", ip=ip))
        assert page.status_code == 400
        assert f"{ip} no puede ser la dirección de un cliente" in page.content.decode()
        page = panel.post(f"/clients/{client.pk}/", _client_post(client, ip=ip))
        assert page.status_code == 400

        csv = f"name,ip,zone,plan\nNuevo,{ip},{client.zone_id},{client.plan_id}\n".encode()
        with pytest.raises(Exception, match=f"{ip} no puede ser la dirección de un cliente"):
            clients_file_import(actor=admin, data=csv, filename="c.csv")
    for ip in ("::1", "fe80::1", "2001:db8::1"):  # the field takes IPv4 only
        body = {"name": "Nuevo", "ip": ip, "zone": client.zone_id, "plan": client.plan_id}
        assert admin_api.post("/api/v1/clients/", body, format="json").status_code == 400
    assert database_dump() == before


PANEL_OBJECT_PAGES = [
    "/clients/0/",
    "/clients/00/",
    "/clients/0/actions/cut/",
    "/clients/0/payments/",
    "/plans/0/",
    "/routers/0/",
    "/routers/0/zones/new/",
    "/zones/0/",
    "/invoices/0/",
    "/payments/0/",
    "/staff/0/",
    "/periodic-tasks/runs/0/",
    "/mass-actions/history/0/",
]


def test_id_zero_in_a_panel_address_is_a_404_that_creates_nothing(panel, client):
    before = database_dump()
    data = _client_post(client, name="Nuevo", ip="10.99.0.1")
    for path in PANEL_OBJECT_PAGES:
        assert panel.get(path).status_code == 404, path
        assert panel.post(path, {**data, "price": "1.00", "username": "x"}).status_code == 404
    assert database_dump() == before


def test_lists_take_any_page_and_filter_without_failing(panel, admin_api, client):
    before = database_dump()
    for path in ["/clients/", "/invoices/", "/payments/", "/messages/", "/audit/"]:
        for query in ["page=-1", "page=abc", "page=99999999999", "zone=abc", "router=-1"]:
            assert panel.get(f"{path}?{query}").status_code == 200, (path, query)
    listed = panel.get("/clients/?zone=abc&router=abc&page=-1").content.decode()
    assert "Ana" in listed  # a malformed filter is left out: the full list
    for path in ["/payments/", "/payments/cash-report/"]:
        for query in ["from=31/02/2026", "to=2026-02-30", "from=abc&to=01/01/0001"]:
            response = panel.get(f"{path}?{query}")
            assert response.status_code == 200, (path, query)
            assert "no es una fecha (escríbala como dd/mm/aaaa); se omitió" in _messages(response)
        assert panel.get(f"{path}?from=01/01/0001&to=31/12/9999").status_code == 200
    for path, name in [
        ("/api/v1/clients/", "zone"),
        ("/api/v1/clients/", "router"),
        ("/api/v1/invoices/", "zone"),
        ("/api/v1/invoices/", "client"),
        ("/api/v1/periodic-tasks/", "zone"),
    ]:
        for value in ["abc", "-1", "99999999999999999999"]:
            response = admin_api.get(path, {name: value}, HTTP_ACCEPT_LANGUAGE="es")
            assert response.status_code == 400 and response.json() == {
                name: ["Debe ser un número entero."]
            }, (path, name, value)
    assert database_dump() == before


def test_days_before_2000_are_refused_for_runs_payments_and_service_starts(
    admin, admin_api, panel, client
):
    before = database_dump()
    too_early = "El día no puede ser anterior al 1 de enero de 2000."
    for day in ["0001-01-01", "1999-12-31"]:
        for url, body, field in [
            ("/api/v1/periodic-tasks/run/", {"date": day}, "date"),
            (
                "/api/v1/payments/",
                {"client": client.pk, "amount": "1.00", "method": "cash", "paid_on": day},
                "paid_on",
            ),  # fmt: skip
            (
                "/api/v1/clients/",
                {
                    "name": "Nuevo",
                    "ip": "10.99.0.2",
                    "zone": client.zone_id,
                    "plan": client.plan_id,
                    "start_date": day,
                },
                "start_date",
            ),  # fmt: skip
        ]:
            response = admin_api.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="es")
            assert (response.status_code, response.json()) == (400, {field: [too_early]}), url
        page = panel.post(
            f"/clients/{client.pk}/payments/", {"amount": "1.00", "method": "cash", "paid_on": day}
        )
        assert too_early in page.content.decode() + _messages(page)
    assert database_dump() == before
