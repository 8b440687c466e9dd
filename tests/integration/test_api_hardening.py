"""The API refuses bad bodies with a JSON 400 in the user's language, caps its pages, and keeps
API keys' last use; the page that shows a new key is never cached."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client as Browser
from django.utils import timezone

from tests.factories import PlanFactory
from wispbill.api.pagination import MAX_LIMIT
from wispbill.clients.models import Plan
from wispbill.staff.models import ApiKey
from wispbill.staff.services import api_key_create

pytestmark = pytest.mark.django_db


def _post(api, body, **extra):
    return api.generic("POST", "/api/v1/plans/", body, content_type="application/json", **extra)


def test_deeply_nested_json_is_a_400_not_a_500(admin_api):
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 500 + "1" + "}" * 500):
        response = _post(admin_api, body, HTTP_ACCEPT_LANGUAGE="es")
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": ["El JSON tiene demasiados niveles anidados (máximo 32)."]
        }
    assert not Plan.objects.exists()


def test_json_nested_a_few_levels_is_still_read(admin_api):
    body = '{"name": "Básico", "price": "199.00", "download_kbps": 5000, "upload_kbps": 1000}'
    assert _post(admin_api, body).status_code == 201


def test_a_20_mb_body_gets_a_json_400(admin_api):
    body = b'{"name": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    response = _post(admin_api, body, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "non_field_errors": ["The request body is too large (at most 2.5 MB)."]
    }


def test_broken_json_is_a_400_in_the_users_language(admin_api):
    spanish = _post(admin_api, '{"name": ', HTTP_ACCEPT_LANGUAGE="es")
    assert spanish.status_code == 400
    assert spanish.json() == {
        "non_field_errors": ["El cuerpo no es JSON válido (línea 1, columna 10)."]
    }
    english = _post(admin_api, "[NaN]", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json() == {"non_field_errors": ["The body is not valid JSON."]}


def test_list_pages_are_capped(admin_api):
    PlanFactory.create_batch(MAX_LIMIT + 3)
    page = admin_api.get("/api/v1/plans/?limit=100000").json()
    assert page["count"] == MAX_LIMIT + 3
    assert len(page["results"]) == MAX_LIMIT
    assert f"limit={MAX_LIMIT}" in page["next"] and f"offset={MAX_LIMIT}" in page["next"]
    rest = admin_api.get(page["next"]).json()
    assert len(rest["results"]) == 3


def test_an_offset_past_any_integer_is_an_empty_page(admin_api):
    PlanFactory()
    response = admin_api.get("/api/v1/plans/?offset=99999999999999999999999999&limit=5")
    assert response.status_code == 200 and response.json()["results"] == []


def test_api_key_last_use_is_kept_to_the_minute(staff):
    key, plain = api_key_create(user=staff)
    browser = Browser(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        assert browser.get("/api/v1/plans/").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=50), tick=False):
        browser.get("/api/v1/plans/")
    key.refresh_from_db()
    assert key.last_used_at == start, "written at most once a minute"
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        browser.get("/api/v1/plans/")
    key.refresh_from_db()
    assert key.last_used_at == start + timedelta(seconds=61)


def test_a_wrong_key_changes_no_last_use(staff):
    key, plain = api_key_create(user=staff)
    wrong = Browser(HTTP_AUTHORIZATION=f"Api-Key {plain[:-2]}xx")
    assert wrong.get("/api/v1/plans/").status_code == 401
    assert ApiKey.objects.get(pk=key.pk).last_used_at is None


def test_the_page_that_shows_a_new_key_is_never_cached(admin, staff):
    browser = Browser()
    browser.force_login(admin)
    response = browser.post(f"/staff/{staff.pk}/api-keys/", {"name": "cobranza"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "wb_" in response.content.decode()
