"""The clients list, as the panel and the API serve it: server time per request."""

from django.test import Client as Browser

from wispbill.clients.models import Client
from wispbill.devtools.benchmarks.common import median_of
from wispbill.network.models import Zone
from wispbill.staff.services import api_key_create


def time_lists(admin, repeat: int) -> dict:
    browser = Browser(SERVER_NAME="localhost")
    browser.force_login(admin)
    zone = Zone.objects.earliest("id")
    last_page = max(1, (Client.objects.count() + 49) // 50)

    def get(url, **params):
        response = browser.get(url, params)
        assert response.status_code == 200, response.status_code

    _key, plain = api_key_create(user=admin)
    api = Browser(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Api-Key {plain}")

    def api_get(**params):
        response = api.get("/api/v1/clients/", params)
        assert response.status_code == 200, response.status_code

    get("/clients/")  # warm the session and the caches a running server has
    return {
        "clients_page_first_s": median_of(lambda: get("/clients/"), repeat),
        "clients_page_last_s": median_of(lambda: get("/clients/", page=last_page), repeat),
        "clients_page_search_name_s": median_of(lambda: get("/clients/", q="cliente 0999"), repeat),
        "clients_page_search_ip_part_s": median_of(lambda: get("/clients/", q="3.17"), repeat),
        "clients_page_zone_filter_s": median_of(lambda: get("/clients/", zone=zone.pk), repeat),
        "api_clients_page_first_s": median_of(lambda: api_get(limit=50), repeat),
        "api_clients_page_last_s": median_of(
            lambda: api_get(limit=50, offset=(last_page - 1) * 50), repeat
        ),
        "api_clients_search_s": median_of(lambda: api_get(limit=50, q="cliente 0999"), repeat),
    }
