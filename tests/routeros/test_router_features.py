"""Baseline rules, the notice page, and the ways a person pushes and tests a router."""

import json
import subprocess
import sys

import pytest
from django.test import Client as Browser
from django.test import override_settings

from tests.clock import child_env
from tests.factories import ClientFactory, ZoneFactory
from wispbill.billing.models import Invoice
from wispbill.network.baseline import baseline_install, baseline_plan

pytestmark = pytest.mark.django_db


# Forward chain after installing: DNS udp, DNS tcp, the notice page, the drop, then the router's
# own "accept established" (the input chain's rule stays first).
OURS_THEN_THEIRS = ["accept", "accept", "accept", "accept", "drop", "accept"]


def test_baseline_rules_install_once_and_leave_other_rules_alone(mikrotik, emulator):
    emulator.filter.add({"chain": "input", "action": "accept", "comment": "defconf"})
    established = emulator.filter.add(
        {"chain": "forward", "action": "accept", "connection-state": "established,related"}
    )
    plan = baseline_plan(mikrotik, notice_host="10.255.0.1", notice_port=8081)
    assert len(plan.add) == 6 and not plan.remove
    baseline_install(mikrotik, plan)
    rows = list(emulator.filter.rows.values())
    # Ours go ahead of the router's own forward rules, so established traffic of a cut
    # client is dropped too; other chains are left as they were.
    assert [r.get("action") for r in rows] == OURS_THEN_THEIRS
    assert rows[0]["comment"] == "defconf" and rows[-1][".id"] == established
    nat = list(emulator.nat.rows.values())
    assert {r["to-addresses"] for r in nat} == {"10.255.0.1"}
    assert {r["src-address-list"] for r in nat} == {"Moroso", "Aviso"}
    again = baseline_plan(mikrotik, notice_host="10.255.0.1", notice_port=8081)
    assert again.empty and len(again.keep) == 6
    moved = baseline_plan(mikrotik, notice_host="10.255.0.1", notice_port=9000)
    # The port is named in one filter rule and both NAT rules: both tables are rewritten whole,
    # so the accept for the notice page stays ahead of the drop.
    assert len(moved.add) == 6 and len(moved.remove) == 6
    baseline_install(mikrotik, moved)
    rows = list(emulator.filter.rows.values())
    assert [r.get("action") for r in rows] == OURS_THEN_THEIRS
    assert rows[3]["dst-port"] == "9000" and rows[-1][".id"] == established
    assert len(emulator.nat.rows) == 2


def test_install_router_rules_command_shows_then_applies(mikrotik, emulator, tmp_path):
    # The command runs in this process's database through call_command.
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command(
        "install-router-rules",
        router=mikrotik.pk,
        notice_host="10.255.0.1",
        dry_run=True,
        stdout=out,
    )
    assert out.getvalue().count("+ /ip/firewall/") == 6 and not emulator.filter.rows
    call_command(
        "install-router-rules",
        router=mikrotik.pk,
        notice_host="10.255.0.1",
        yes=True,
        stdout=StringIO(),
    )
    assert len(emulator.filter.rows) == 4 and len(emulator.nat.rows) == 2
    out = StringIO()
    call_command(
        "install-router-rules", router=mikrotik.pk, notice_host="10.255.0.1", yes=True, stdout=out
    )
    assert "already has every rule" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("install-router-rules", router=999999, yes=True)


def _notice(ip: str, **headers):
    return Browser().get("/aviso/", REMOTE_ADDR=ip, **headers)


def test_notice_page_tells_a_warned_client_what_it_owes(mikrotik):
    client = ClientFactory(
        zone=ZoneFactory(router=mikrotik), ip="10.5.0.1", name="Ana Díaz", notice_active=True
    )
    Invoice.objects.create(
        client=client,
        period_start="2026-09-01",
        period_end="2026-09-30",
        issued_on="2026-08-25",
        pay_date="2026-09-01",
        notice_date="2026-09-03",
        due_date="2026-09-05",
        total="399.00",
    )
    page = _notice("10.5.0.1")
    body = page.content.decode()
    assert page.status_code == 200 and "Ana Díaz" in body and "$399.00" in body
    assert "5 de septiembre de 2026" in body and "pago" in body
    english = _notice("10.5.0.1", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "you have a payment due" in english


def test_notice_page_tells_a_cut_client_its_service_is_suspended(mikrotik):
    ClientFactory(zone=ZoneFactory(router=mikrotik), ip="10.5.0.2", state="suspended")
    assert "suspendido" in _notice("10.5.0.2").content.decode()


def test_notice_page_shows_nothing_to_an_address_that_is_not_a_clients(mikrotik):
    ClientFactory(zone=ZoneFactory(router=mikrotik), ip="10.5.0.3", name="Secreto Pérez")
    page = _notice("10.5.9.9")
    assert page.status_code == 404 and "Secreto" not in page.content.decode()


@override_settings(NOTICE_PORT=8099)
def test_every_path_on_the_notice_port_is_the_notice_page(mikrotik):
    ClientFactory(zone=ZoneFactory(router=mikrotik), ip="10.5.0.4", state="suspended")
    page = Browser().get("/some/site/index.html", REMOTE_ADDR="10.5.0.4", SERVER_PORT="8099")
    assert page.status_code == 200 and "suspendido" in page.content.decode()
    assert Browser().get("/login/", SERVER_PORT="80").status_code == 200


def test_api_reconcile_and_test_connection(admin_api, mikrotik, emulator):
    ClientFactory(zone=ZoneFactory(router=mikrotik), ip="10.6.0.1", state="suspended")
    body = admin_api.post(f"/api/v1/routers/{mikrotik.pk}/reconcile/").json()
    assert (body["added"], body["removed"], body["sync_status"]) == (1, 0, "ok")
    assert admin_api.post(f"/api/v1/routers/{mikrotik.pk}/test-connection/").json()["ok"]
    emulator.go_down()
    down = admin_api.post(f"/api/v1/routers/{mikrotik.pk}/reconcile/")
    assert down.status_code == 502 and down.json()["sync_status"] == "error"
    listed = admin_api.get(f"/api/v1/routers/{mikrotik.pk}/").json()
    assert listed["sync_status"] == "error" and "no se pudo conectar" in listed["last_error"]


def test_panel_sync_and_test_buttons(admin, mikrotik, emulator):
    ClientFactory(zone=ZoneFactory(router=mikrotik), ip="10.7.0.1", state="suspended")
    browser = Browser()
    browser.force_login(admin)
    page = browser.post(f"/routers/{mikrotik.pk}/sync/", follow=True).content.decode()
    assert "sincronizado" in page.lower() or "in sync" in page.lower()
    assert set(emulator.entries("Moroso")) == {"10.7.0.1"}
    page = browser.post(f"/routers/{mikrotik.pk}/test/", follow=True).content.decode()
    assert "emulated-router" in page


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_reconcile_routers_command(tmp_path, emulator):
    import os

    env = child_env({**os.environ, "WISPBILL_DATA_DIR": str(tmp_path)})
    env.pop("DATABASE_URL", None)
    cli = [sys.executable, "-m", "wispbill.cli"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
    subprocess.run(
        [
            *cli,
            "shell",
            "--no-imports",
            "-c",
            (
                "from tests.factories import RouterFactory, ClientFactory, ZoneFactory\n"
                f"r = RouterFactory(host='127.0.0.1', api_port={emulator.port}, "
                "username='wispbill',"
                " enforcement='mikrotik'); r.password = 's3cret'; r.save()\n"
                "ClientFactory(zone=ZoneFactory(router=r), ip='10.8.0.1', state='suspended')\n"
                "RouterFactory(host='127.0.0.1', api_port=1, enforcement='mikrotik', "
                "username='x')\n"
            ),
        ],
        env=env,
        check=True,
        cwd=os.getcwd(),
    )
    done = subprocess.run(
        [*cli, "reconcile-routers", "--json"], env=env, capture_output=True, text=True
    )
    lines = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert done.returncode != 0  # the second router cannot be reached
    assert lines[0]["added"] == 1 and "error" in lines[1]
    assert set(emulator.entries("Moroso")) == {"10.8.0.1"}
    only = subprocess.run(
        [*cli, "reconcile-routers", "--router", str(lines[0]["router"])],
        env=env,
        capture_output=True,
        text=True,
    )
    assert only.returncode == 0 and "0 added" in only.stdout


@pytest.mark.django_db(transaction=True)
def test_a_cut_while_the_router_is_down_shows_out_of_sync_until_it_converges(
    admin, mikrotik, emulator
):
    from wispbill.billing.debt import client_cut
    from wispbill.clients.enforcement import router_reconcile

    client = ClientFactory(zone=ZoneFactory(router=mikrotik), ip="10.9.0.1")
    browser = Browser()
    browser.force_login(admin)
    emulator.go_down()
    client_cut(actor=admin, client=client)  # its push fails after the commit
    page = browser.get(f"/clients/{client.pk}/").content.decode()
    assert 'data-testid="client-sync">Error<' in page
    assert "Router: error" in browser.get("/clients/").content.decode()
    emulator.come_back()
    router_reconcile(mikrotik)  # what the retry or the periodic pass does
    assert set(emulator.entries("Moroso")) == {"10.9.0.1"}
    page = browser.get(f"/clients/{client.pk}/").content.decode()
    assert 'data-testid="client-sync">Sincronizado<' in page


@override_settings(NOTICE_HOST="10.255.0.1")
def test_only_staff_who_manage_routers_install_firewall_rules(admin, nobody, mikrotik, emulator):
    helper = Browser()
    helper.force_login(nobody)
    assert helper.post(f"/routers/{mikrotik.pk}/rules/").status_code == 403
    assert not emulator.filter.rows
    boss = Browser()
    boss.force_login(admin)
    assert "Sí, instalarlas" in boss.get(f"/routers/{mikrotik.pk}/rules/").content.decode()
    boss.post(f"/routers/{mikrotik.pk}/rules/")
    assert len(emulator.filter.rows) == 4 and len(emulator.nat.rows) == 2
