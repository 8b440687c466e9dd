"""The panel works under its Content-Security-Policy: Chromium loads every main page and reports
no violation, and what the pages do in JavaScript (language menu, tabs, confirmations, the run's
progress, printing a document) still works; the client's page keeps its styles."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import ClientFactory, OwnClientFactory, UserFactory
from wispbill.automation.models import ManualRun, RunStatus
from wispbill.billing.services.payments import payment_register
from wispbill.clients.models import Client
from wispbill.messaging.links import portal_token
from wispbill.staff.services import api_key_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Chromium reports every refused inline script, handler, style or resource in the console and
# as a securitypolicyviolation event; both are collected.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile);
});
"""


@pytest.fixture
def watched(page):
    """The page, with a list that collects the CSP violations Chromium reports."""
    violations = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda msg: (
            violations.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    page.violations = violations
    return page


def _visit(page, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response.status == status, (path, response.status)
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy, path
    page.wait_for_load_state("networkidle")
    page.violations.extend(f"{path}: {v}" for v in page.evaluate("window.__csp"))


def test_main_pages_load_without_csp_violations(watched, live_server):
    page = watched
    admin = UserFactory(username="jefe", is_superuser=True)
    client = OwnClientFactory(name="Rosa Flores", ip="10.66.0.9")
    ClientFactory(zone=client.zone)
    running = ManualRun.objects.create(actor_name="jefe", day=client.start_date)
    _visit(page, "/login/")
    login(page, "jefe")
    for path in [
        "/",
        "/clients/",
        "/clients/new/",
        f"/clients/{client.pk}/",
        "/routers/",
        f"/routers/{client.zone.router_id}/",
        "/plans/",
        f"/plans/{client.plan_id}/",
        "/invoices/",
        "/periodic-tasks/",
        "/periodic-tasks/forecast/",
        f"/periodic-tasks/runs/{running.pk}/",
        "/mass-actions/periodic-tasks/",
        "/mass-actions/history/",
        "/staff/",
        "/staff/new/",
        f"/staff/{admin.pk}/",
        "/settings/",
        "/audit/",
        "/password/",
        "/api/docs/",
    ]:
        _visit(page, path)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("wispbill API")
    # The notice page, to an address that is no client's (its own 404 page).
    _visit(page, "/aviso/", status=404)
    assert page.violations == []


def test_language_menu_tabs_and_confirmations_work_under_the_policy(watched):
    page = watched
    UserFactory(username="jefe", is_superuser=True)
    client = OwnClientFactory(name="Rosa Flores")
    login(page, "jefe")
    _visit(page, f"/clients/{client.pk}/")

    page.get_by_role("link", name="Facturación", exact=True).click()
    expect(page.locator("#tab-billing")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#billing$"))

    page.locator("select[name=language][data-autosubmit]").select_option("en")
    expect(page.locator("nav").get_by_role("link", name="Clients", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("link", name="Invoices and payments").click()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Cut service").click()
    expect(page.locator("#tab-money")).to_be_visible()
    assert Client.objects.get(pk=client.pk).state == "active", "dismissed: nothing changes"
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cut service").click()
    expect(page.get_by_test_id("client-state")).to_have_text("Suspended")
    assert page.violations == []


def test_a_running_run_follows_its_progress_under_the_policy(watched):
    page = watched
    UserFactory(username="jefe", is_superuser=True)
    run = ManualRun.objects.create(actor_name="jefe", day="2026-09-01", progress_total=4)
    login(page, "jefe")
    _visit(page, f"/periodic-tasks/runs/{run.pk}/")
    expect(page.locator("#run-state")).to_have_text("Ejecutando…")
    ManualRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE, progress_done=4, summary={"invoices_created": 3}
    )
    expect(page.locator("#run-state")).to_have_text("Terminado.")
    expect(page.locator("[data-key=invoices_created]")).to_have_text("3")
    assert page.violations == []


def test_revoking_an_api_key_asks_first(watched):
    page = watched
    admin = UserFactory(username="jefe", is_superuser=True)
    key, _plain = api_key_create(user=admin)
    login(page, "jefe")
    _visit(page, f"/staff/{admin.pk}/")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Revocar").click()
    expect(page.locator(".messages .success")).to_contain_text("revocada")
    assert questions and "Revocar esta clave" in questions[0]
    key.refresh_from_db()
    assert key.revoked
    assert page.violations == []


def test_messages_documents_and_the_client_page_under_the_policy(watched, admin, billed_client):
    """The outbox, the printable invoice and receipt, and the client's own page keep their look
    and their buttons with styles and scripts from files only."""
    page = watched
    client, invoice = billed_client
    payment = payment_register(actor=admin, client=client, amount=Decimal("10.00"))
    login(page, "boss")
    for path in ["/messages/", f"/clients/{client.pk}/#messages"]:
        _visit(page, path)
    page.add_init_script("window.print = () => { window.__printed = true; };")
    for path in [f"/invoices/{invoice.pk}/", f"/payments/{payment.pk}/"]:
        _visit(page, path)
        # Its stylesheet applies (the accent line under the header), and Print prints.
        header = page.locator("header").evaluate("e => getComputedStyle(e).borderBottomStyle")
        assert header == "solid", path
        page.get_by_role("button", name="Imprimir").click()
        assert page.evaluate("window.__printed === true"), path
    token, _expires = portal_token(client.pk)
    _visit(page, f"/portal/{token}/")
    card = page.locator(".card").first.evaluate("e => getComputedStyle(e).borderRadius")
    assert card == "12px"
    assert page.violations == []
