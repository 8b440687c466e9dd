"""The pages that were slow on the demo: the forecast is made once while its data stays the
same (an audited write makes it again), and the API's schema once per language. Their speed
is measured by `wispbill benchmark --only pages`; here, what a user would see."""

from datetime import date

import pytest
from django.test import Client as Browser

from tests.factories import ClientFactory, ZoneFactory, first_invoice_next_cycle
from wispbill.clients.services.zones import zone_update

pytestmark = pytest.mark.django_db


@pytest.mark.instant("2026-08-24 12:00")
def test_the_forecast_is_made_again_after_a_write_and_only_then(
    admin, django_assert_max_num_queries
):
    first_invoice_next_cycle()
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    ClientFactory(zone=zone, name="Raúl Torres", start_date=date(2026, 8, 15))
    browser = Browser()
    browser.force_login(admin)
    first = browser.get("/periodic-tasks/forecast/").content.decode()
    assert "Raúl Torres" in first  # invoiced on the 25th
    # Opened again on the same data: the week is not run again (a run takes hundreds of
    # queries), and the page says the same.
    with django_assert_max_num_queries(25):
        again = browser.get("/periodic-tasks/forecast/").content.decode()
    assert again.count("Raúl Torres") == first.count("Raúl Torres") == 1
    # The zone's invoices are switched off: the next opening knows it.
    zone_update(actor=admin, zone=zone, switches={"invoices": False})
    assert "Raúl Torres" not in browser.get("/periodic-tasks/forecast/").content.decode()


def test_the_api_schema_is_the_same_when_asked_again_in_each_language(admin):
    browser = Browser()
    spanish = browser.get("/api/schema/", {"format": "json"}).json()
    english = browser.get("/api/schema/", {"format": "json", "lang": "en"}).json()
    assert browser.get("/api/schema/", {"format": "json"}).json() == spanish
    assert browser.get("/api/schema/", {"format": "json", "lang": "en"}).json() == english
    assert "/api/v1/clients/" in spanish["paths"]
    assert spanish != english
    # Its rendering is kept per language and format too: each answer is the one it names.
    yaml_es, yaml_en = (browser.get("/api/schema/", {"lang": lang}) for lang in ("es", "en"))
    assert yaml_es["Content-Type"].startswith("application/vnd.oai.openapi;")
    assert yaml_es.content != yaml_en.content
    assert browser.get("/api/schema/", {"lang": "es"}).content == yaml_es.content
    assert browser.get("/api/schema/", {"format": "json"}).json() == spanish
    assert b"/api/v1/clients/:" in yaml_es.content
