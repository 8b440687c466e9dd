"""Find anyone: search ignores case and accents and matches any part of an IP, in the panel
and the API; the filters narrow to switched-off tasks, notices, overdue and owing clients."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.test import Client as Browser

from tests.factories import ClientFactory, OwnClientFactory, ZoneFactory
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.services.payments import payment_register
from wispbill.clients import search

pytestmark = pytest.mark.django_db
AUG = date(2026, 8, 15)  # billed from September on


@pytest.fixture
def people(db):
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    return {
        "gomez": ClientFactory(
            name="Ana Gómez Ñúñez", ip="172.16.0.163", zone=zone, start_date=AUG
        ),
        "perez": ClientFactory(
            name="JOSÉ PÉREZ", email="Jose@Correo.MX", ip="172.16.1.5", zone=zone, start_date=AUG
        ),
        "other": ClientFactory(
            name="Luis Díaz", address="Calle Álamo 12", ip="10.9.0.16", start_date=date(2026, 11, 2)
        ),
    }


def _api_names(admin_api, **params) -> set[str]:
    response = admin_api.get("/api/v1/clients/", params)
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def _panel_names(user, **params) -> set[str]:
    browser = Browser()
    browser.force_login(user)
    html = browser.get("/clients/", params).content.decode()
    return {name for name in ("Ana Gómez Ñúñez", "JOSÉ PÉREZ", "Luis Díaz") if name in html}


@pytest.mark.parametrize(
    "q, expected",
    [
        ("gomez", {"Ana Gómez Ñúñez"}),
        ("GÓMEZ", {"Ana Gómez Ñúñez"}),
        ("nunez ana", {"Ana Gómez Ñúñez"}),
        ("0.163", {"Ana Gómez Ñúñez"}),
        ("172.16", {"Ana Gómez Ñúñez", "JOSÉ PÉREZ"}),
        ("jose@correo", {"JOSÉ PÉREZ"}),
        ("perez", {"JOSÉ PÉREZ"}),
        ("alamo", {"Luis Díaz"}),
        ("0.16", {"Ana Gómez Ñúñez", "Luis Díaz"}),
        ("nadie", set()),
    ],
)
@pytest.mark.parametrize("broad", [False, True], ids=["rare", "broad"])
def test_search_ignores_case_and_accents_and_matches_any_part_of_an_ip(
    admin, admin_api, people, q, expected, broad, monkeypatch
):
    # A search that matches many clients reads the column instead of the index (SQLite):
    # both ways find the same clients.
    monkeypatch.setattr(search, "BROAD", 0 if broad else search.BROAD)
    assert _api_names(admin_api, q=q) == expected
    assert _panel_names(admin, q=q) == expected


def test_a_renamed_client_is_found_by_its_new_name(admin_api, people):
    client = people["other"]
    client.name = "Lucía Ramírez"
    client.save()
    assert _api_names(admin_api, q="ramirez") == {"Lucía Ramírez"}


@pytest.mark.skipif(
    "os.environ.get('DATABASE_URL', '').startswith('postgres')",
    reason="SQLite's trigram index; PostgreSQL's needs no tidying",
)
def test_a_bulk_import_leaves_the_search_index_in_one_piece(admin, admin_api):
    from django.db import connection

    from wispbill.clients.services.bulk import TIDY_AFTER, clients_create_many

    def pieces() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {search.INDEX}_data")
            return cursor.fetchone()[0]

    zone, plan = ZoneFactory(), ClientFactory().plan
    for n in range(40):  # forty small writes: the index in pieces, as edits leave it
        ClientFactory(name=f"Antes {n}", zone=zone, plan=plan, ip=f"10.60.{n}.200")
    fragmented = pieces()
    search.search_index_tidy()
    assert pieces() < fragmented
    assert _api_names(admin_api, q="antes 39") == {"Antes 39"}
    rows = [
        {
            "name": f"Importado {n}",
            "ip": f"10.61.{n // 250}.{n % 250 + 1}",
            "zone": zone,
            "plan": plan,
            "start_date": AUG,
        }
        for n in range(TIDY_AFTER + 1)
    ]
    clients_create_many(actor=admin, rows=rows, push=False)
    after_import = pieces()
    search.search_index_tidy()
    assert pieces() == after_import  # the import tidied it already
    assert _api_names(admin_api, q="importado 1000") == {"Importado 1000"}


@pytest.mark.instant("2026-09-03 12:00")  # the story below runs from 25 August on
def test_filters_by_switched_off_task_notice_overdue_and_owing(admin, admin_api, people):
    own_off = OwnClientFactory(name="Propia sin cortes", task_cuts=False, start_date=AUG)
    for day in (date(2026, 8, 25), date(2026, 9, 3)):
        with time_machine.travel(day, tick=False):
            periodic_tasks_run(actor=None, day=day, force=True)
    gomez = people["gomez"]
    with time_machine.travel(date(2026, 9, 3), tick=False):
        payment_register(actor=admin, client=gomez, amount=Decimal("399.00"))
    warned = {"JOSÉ PÉREZ"}
    assert _api_names(admin_api, task_off="cuts") == {own_off.name}
    assert _api_names(admin_api, notice="1") == warned
    assert _api_names(admin_api, owing="true") == warned
    assert _api_names(admin_api, overdue="1") == set()
    with time_machine.travel(date(2026, 9, 5), tick=False):
        periodic_tasks_run(actor=None, day=date(2026, 9, 5), force=True)
    assert _api_names(admin_api, overdue="1") == warned
    assert _api_names(admin_api, state="suspended") == warned
    assert _panel_names(admin, overdue="1", owing="1") == warned


def test_bad_filters_are_a_400_in_the_api(admin_api):
    for params in ({"state": "sleeping"}, {"task_off": "naps"}, {"overdue": "maybe"}):
        response = admin_api.get("/api/v1/clients/", params)
        assert response.status_code == 400, params
        assert list(response.json()) == list(params)


def test_deep_pages_read_from_the_other_end_give_the_same_rows(admin, admin_api):
    from wispbill.clients.models import Client
    from wispbill.core.db import rows_between

    ClientFactory.create_batch(11)
    qs = Client.objects.order_by("name", "id")
    expected = list(qs)
    for start in range(0, 12):
        for size in (1, 3, 5):
            assert rows_between(qs, start, start + size, 11) == expected[start : start + size]
    pages = [
        [
            row["id"]
            for row in admin_api.get("/api/v1/clients/", {"limit": 4, "offset": o}).json()[
                "results"
            ]
        ]
        for o in (0, 4, 8)
    ]
    assert sum(pages, []) == sorted(c.pk for c in expected)
    browser = Browser()
    browser.force_login(admin)
    last = browser.get("/clients/", {"page": 1}).content.decode()
    assert all(c.name in last for c in expected)
