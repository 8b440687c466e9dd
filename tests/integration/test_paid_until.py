"""Imports that bill nothing twice (issue 18, part C): a client imported with `paid_until` (a
column of the file, or the import's default; the router import's option) is never invoiced
automatically for a cycle that ends by then; the preview states each client's next invoice
(period, amount, day), and the daily run then bills exactly that, never before."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client as Browser
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import PlanFactory, RouterFactory, ZoneFactory
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.charges import billing_start, cycle_charge
from wispbill.billing.imports import file_preview_next_invoices
from wispbill.billing.models import Invoice
from wispbill.billing.selectors import billed_since, client_next_charge, next_invoice_ahead
from wispbill.clients.models import Client
from wispbill.clients.services.file_import import clients_file_import, clients_file_preview
from wispbill.core.models import CompanySettings
from wispbill.core.schedule import BillingSchedule, current_cycle

# 20 October 2026: October's cycle (1-31 Oct) is the current one; November's is invoiced on
# 25 October (pay day 1, invoice 7 days before, prepaid).
OCT_20 = "2026-10-20 10:00"
HEADERS = "name,ip,zone,plan,start_date,paid_until\n"


@pytest.fixture
def zone():
    return ZoneFactory(
        router=RouterFactory(name="Torre Norte"),
        name="Zona día 1",
        pay_day=1,
        invoice_lead_days=7,
        notice_offset_days=2,
        grace_days=4,
    )


@pytest.fixture
def plan():
    return PlanFactory(name="Hogar 10 Mbps", price=Decimal("399.00"))


def _csv(*rows: str) -> bytes:
    return (HEADERS + "".join(f"{row}\n" for row in rows)).encode()


def _first_invoices() -> dict[str, tuple]:
    """Each client's first invoice: (period start, period end, total, issued on)."""
    first = {}
    for invoice in Invoice.objects.select_related("client").order_by("period_start"):
        first.setdefault(
            invoice.client.name,
            (invoice.period_start, invoice.period_end, invoice.total, invoice.issued_on),
        )
    return first


def _run_october():
    """The daily runs of 20 October (October's cycle) and 25 October (November's)."""
    periodic_tasks_run(actor=None, day=date(2026, 10, 20))
    periodic_tasks_run(actor=None, day=date(2026, 10, 25), force=True)


@given(
    schedule=st.builds(
        lambda mode, pay_day, lead, grace: BillingSchedule(mode, pay_day, lead, 0, grace),
        st.sampled_from(["prepaid", "postpaid"]),
        st.integers(1, 31),
        st.integers(1, 28),
        st.integers(0, 28),
    ),
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31)),
    started=st.integers(-400, 60),
    paid=st.one_of(st.none(), st.integers(-400, 400)),
    rule=st.sampled_from(["prorated", "full", "next_cycle"]),
)
def test_the_stated_next_invoice_is_the_first_the_daily_runs_would_issue(
    schedule, day, started, paid, rule
):
    """Pure date math: run the invoice rule day after day from `day` on; the first cycle it
    bills, its charge and its day are the ones stated, and it ends after `paid_until`."""
    company = CompanySettings(first_invoice=rule)
    start_date = day + timedelta(days=started)
    paid_until = None if paid is None else day + timedelta(days=paid)
    start = billing_start(start_date, paid_until)
    stated = next_invoice_ahead(
        schedule=schedule,
        price=Decimal("399.00"),
        start_date=start_date,
        paid_until=paid_until,
        company=company,
        day=day,
    )
    run_day = day
    while True:
        cycle = current_cycle(schedule, run_day)
        charge = (
            cycle_charge(
                price=Decimal("399.00"),
                cycle=cycle,
                start_date=start,
                first_invoice=rule,
                suspended_on=None,
                reactivated_on=None,
                policy=company.reactivation_billing,
                invoice_suspended=False,
            )
            if start <= billed_since(cycle, company)
            else None
        )
        if charge is not None:
            break
        run_day += timedelta(days=1)
    assert (stated.cycle, stated.charge, stated.on) == (cycle, charge, run_day)
    assert paid_until is None or cycle.period_end > paid_until
    if rule != "full":  # nothing from before the billing start, unless billed in full
        assert charge.start == max(start, cycle.period_start)


@pytest.mark.django_db
@pytest.mark.instant(OCT_20)
def test_the_file_column_skips_paid_cycles_and_the_run_bills_what_the_preview_said(
    admin, zone, plan
):
    data = _csv(
        "Ana Díaz,172.16.0.10,Zona día 1,Hogar 10 Mbps,01/10/2026,31/10/2026",  # paid October
        "Beto Ruiz,172.16.0.11,Zona día 1,Hogar 10 Mbps,,",  # not paid: from the import day
        "Caro Gil,172.16.0.12,Zona día 1,Hogar 10 Mbps,2026-09-01,2026-11-14",  # mid-cycle
    )
    preview = file_preview_next_invoices(
        clients_file_preview(actor=admin, data=data, filename="c.csv")
    )
    assert preview.ok
    said = {
        row.values["name"]: row.next_invoice.as_dict()
        for row in preview.rows
        if row.next_invoice is not None
    }
    assert said == {
        "Ana Díaz": {
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
            "amount": "399.00",
            "date": "2026-10-25",
            "prorated_from": None,
        },
        "Beto Ruiz": {  # 399.00 × 12 / 31, from the import day: nothing before it
            "period_start": "2026-10-01",
            "period_end": "2026-10-31",
            "amount": "154.45",
            "date": "2026-10-20",
            "prorated_from": "2026-10-20",
        },
        "Caro Gil": {  # 399.00 × 16 / 30, from the day after what it paid for
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
            "amount": "212.80",
            "date": "2026-10-25",
            "prorated_from": "2026-11-15",
        },
    }
    clients_file_import(actor=admin, data=data, filename="c.csv")
    assert Client.objects.get(name="Ana Díaz").paid_until == date(2026, 10, 31)
    assert Client.objects.get(name="Beto Ruiz").paid_until is None
    _run_october()
    billed = _first_invoices()
    assert {
        name: (start.isoformat(), end.isoformat(), f"{total:.2f}", day.isoformat())
        for name, (start, end, total, day) in billed.items()
    } == {
        name: (s["period_start"], s["period_end"], s["amount"], s["date"])
        for name, s in said.items()
    }
    # Never before: no October invoice for the clients who paid October elsewhere.
    assert not Invoice.objects.filter(
        client__name__in=["Ana Díaz", "Caro Gil"], period_start=date(2026, 10, 1)
    ).exists()


@pytest.mark.django_db
@pytest.mark.instant(OCT_20)
def test_the_panel_preview_states_each_next_invoice_and_the_default_fills_empty_cells(
    admin, zone, plan
):
    browser = Browser()
    browser.force_login(admin)
    upload = io.BytesIO(
        _csv(
            "Ana Díaz,172.16.0.10,Zona día 1,Hogar 10 Mbps,,",
            "Beto Ruiz,172.16.0.11,Zona día 1,Hogar 10 Mbps,,30/11/2026",
        )
    )
    upload.name = "clientes.csv"
    page = browser.post("/clients/import/", {"file": upload, "paid_until": "31/10/2026"})
    text = page.content.decode()
    assert page.status_code == 200, text
    assert "Próxima factura: 01/11/2026–30/11/2026, $399.00, el 25/10/2026" in text
    assert "Próxima factura: 01/12/2026–31/12/2026, $399.00, el 24/11/2026" in text
    assert "nada de antes de la importación se factura" in text.lower()
    assert Client.objects.count() == 0
    done = browser.post(
        "/clients/import/",
        {"token": page.context["token"], "confirm": "yes", "paid_until": "2026-10-31"},
        follow=True,
    )
    assert "2 clientes importados" in done.content.decode()
    assert dict(Client.objects.values_list("name", "paid_until")) == {
        "Ana Díaz": date(2026, 10, 31),
        "Beto Ruiz": date(2026, 11, 30),
    }
    # The client page's "next run" agrees: nothing now, the next invoice named.
    ana = Client.objects.get(name="Ana Díaz")
    assert client_next_charge(ana).kind == "paid_before"
    assert client_next_charge(ana).ahead.cycle.period_start == date(2026, 11, 1)
    client_page = browser.get(f"/clients/{ana.pk}/").content.decode()
    assert "Próxima factura: 01/11/2026–30/11/2026, $399.00, el 25/10/2026" in client_page


@pytest.mark.django_db
@pytest.mark.instant(OCT_20)
def test_the_command_takes_a_default_and_a_row_keeps_its_own(admin, zone, plan, tmp_path, capsys):
    path = tmp_path / "clientes.csv"
    path.write_bytes(
        _csv(
            "Ana Díaz,172.16.0.10,Zona día 1,Hogar 10 Mbps,,",
            "Beto Ruiz,172.16.0.11,Zona día 1,Hogar 10 Mbps,,30/11/2026",
        )
    )
    call_command("import-clients", str(path), "--paid-until", "31/10/2026")
    out = capsys.readouterr().out
    assert "01/11/2026–30/11/2026, $399.00" in out and "01/12/2026–31/12/2026" in out
    assert Client.objects.count() == 0
    call_command("import-clients", str(path), "--paid-until", "2026-10-31", "--yes")
    assert dict(Client.objects.values_list("name", "paid_until")) == {
        "Ana Díaz": date(2026, 10, 31),
        "Beto Ruiz": date(2026, 11, 30),
    }
    _run_october()
    assert Invoice.objects.filter(client__name="Ana Díaz").count() == 1
    assert not Invoice.objects.filter(client__name="Beto Ruiz").exists()


@pytest.mark.django_db
@pytest.mark.instant(OCT_20)
@pytest.mark.parametrize("bad", ["31/02/2026", "mañana", "1999-12-31"])
def test_a_bad_paid_until_is_named_and_nothing_is_written(admin, zone, plan, tmp_path, bad):
    data = _csv(
        "Ana Díaz,172.16.0.10,Zona día 1,Hogar 10 Mbps,,",
        f"Beto Ruiz,172.16.0.11,Zona día 1,Hogar 10 Mbps,,{bad}",
    )
    preview = clients_file_preview(actor=admin, data=data, filename="c.csv")
    assert [row.line for row in preview.bad_rows] == [3]
    assert list(preview.bad_rows[0].errors) == ["paid_until"]
    with pytest.raises(ValidationError):
        clients_file_import(actor=admin, data=data, filename="c.csv")
    path = tmp_path / "c.csv"
    path.write_bytes(_csv("Ana Díaz,172.16.0.10,Zona día 1,Hogar 10 Mbps,,"))
    with pytest.raises(CommandError, match="--paid-until"):
        call_command("import-clients", str(path), "--paid-until", bad, "--yes")
    browser = Browser()
    browser.force_login(admin)
    upload = io.BytesIO(data)
    upload.name = "clientes.csv"
    page = browser.post("/clients/import/", {"file": upload})
    assert page.status_code == 400
    assert any(
        words in page.content.decode()
        for words in ("Escriba la fecha como dd/mm/aaaa", "no puede ser anterior")
    )
    assert Client.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.instant(OCT_20)
def test_the_client_api_reads_and_writes_paid_until_checked(admin_api, zone, plan):
    made = admin_api.post(
        "/api/v1/clients/",
        {"name": "Ana", "ip": "172.16.0.10", "zone": zone.pk, "plan": plan.pk},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["paid_until"] is None
    url = f"/api/v1/clients/{made.json()['id']}/"
    for bad in ("1999-12-31", "2026-02-30", "soon"):
        refused = admin_api.patch(url, {"paid_until": bad}, format="json")
        assert refused.status_code == 400 and "paid_until" in refused.json()
    assert Client.objects.get().paid_until is None
    changed = admin_api.patch(url, {"paid_until": "2026-10-31"}, format="json")
    assert changed.status_code == 200 and changed.json()["paid_until"] == "2026-10-31"
    periodic_tasks_run(actor=None, day=date(2026, 10, 20))
    assert not Invoice.objects.exists()


# --- the router import, against the RouterOS emulator -----------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.instant(OCT_20)
def test_the_router_import_takes_paid_until_and_the_run_bills_what_the_preview_said(
    admin_api, mikrotik, emulator
):
    zone = ZoneFactory(
        router=mikrotik, pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4
    )
    PlanFactory(name="Hogar 10 Mbps", price=Decimal("399.00"), upload_kbps=2_000,
                download_kbps=10_000)  # fmt: skip
    emulator.add_secret("ana", "pw-ana", remote_address="172.16.0.2", comment="Ana Díaz")
    emulator.add_queue("Ana Díaz", "172.16.0.2/32", "2M/10M")
    url = f"/api/v1/routers/{mikrotik.pk}/import/"
    refused = admin_api.post(url, {"zone": zone.pk, "paid_until": "1999-12-31"}, format="json")
    assert refused.status_code == 400 and "paid_until" in refused.json()
    refused = admin_api.post(
        url, {"zone": zone.pk, "paid_until": "31/13/2026", "confirm": True}, format="json"
    )
    assert refused.status_code == 400 and not Client.objects.exists()
    preview = admin_api.post(url, {"zone": zone.pk, "paid_until": "31/10/2026"}, format="json")
    assert preview.status_code == 200, preview.json()
    said = preview.json()["clients"][0]["next_invoice"]
    assert said == {
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
        "amount": "399.00",
        "date": "2026-10-25",
        "prorated_from": None,
    }
    done = admin_api.post(
        url, {"zone": zone.pk, "paid_until": "2026-10-31", "confirm": True}, format="json"
    )
    assert done.status_code == 200 and done.json()["clients_created"] == 1
    assert Client.objects.get().paid_until == date(2026, 10, 31)
    _run_october()
    assert _first_invoices() == {
        "Ana Díaz": (date(2026, 11, 1), date(2026, 11, 30), Decimal("399.00"), date(2026, 10, 25))
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.instant(OCT_20)
def test_the_panel_router_import_previews_and_confirms_with_paid_until(admin, mikrotik, emulator):
    zone = ZoneFactory(
        router=mikrotik, pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4
    )
    emulator.add_secret("ana", "pw-ana", remote_address="172.16.0.2", comment="Ana Díaz")
    emulator.add_queue("Ana Díaz", "172.16.0.2/32", "2M/10M")
    browser = Browser()
    browser.force_login(admin)
    url = f"/routers/{mikrotik.pk}/import/"
    bad = browser.get(url, {"zone": zone.pk, "paid_until": "31/02/2026"})
    assert bad.status_code == 400 and "no es una fecha" in bad.content.decode()
    page = browser.get(url, {"zone": zone.pk, "paid_until": "31/10/2026"})
    # A new plan's price is 0.00 until the operator sets it: the preview says so.
    assert "Próxima factura: 01/11/2026–30/11/2026, $0.00, el 25/10/2026" in page.content.decode()
    browser.post(url, {"zone": zone.pk, "paid_until": "2026-10-31", "confirm": "yes"})
    assert Client.objects.get().paid_until == date(2026, 10, 31)
