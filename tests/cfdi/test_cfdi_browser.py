"""Facturación electrónica in Chromium at desk and phone width, in Spanish and English, for an
admin and for staff without the invoices permission: the page fits the screen, a refusal
reads in plain words, "reintentar" asks first, and the CSD page is the admin's."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.cfdi.conftest import SEPT_6, _good, _pay
from tests.factories import ClientFactory
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.cfdi.models import CfdiStatus
from wispbill.cfdi.services import cfdi_stamp_due

pytestmark = [pytest.mark.browser, pytest.mark.embedded, pytest.mark.django_db(transaction=True)]


def _fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.instant(SEPT_6)
@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_e_invoicing_page_at_both_widths(
    chromium,
    live_server,
    pac,
    ready,
    admin,
    nobody,
    width,
    language,
    tmp_path,
):
    owner, client, invoice = ready
    stamped = _pay(owner, client, invoice)
    cfdi_stamp_due()
    other = ClientFactory(zone=client.zone, plan=client.plan, task_invoices=False, **_good())
    other.fiscal_name = "María Refugio Hernández de la Garza"
    other.save(update_fields=["fiscal_name"])
    pac.mode = "refuse"  # the queue stamps at once after each commit here
    refused = _pay(
        owner, other, invoice_create_for_cycle(actor=owner, client=other, day=invoice.issued_on)
    )
    cfdi_stamp_due()
    refused.refresh_from_db()
    assert refused.status == CfdiStatus.ERROR
    stamped.refresh_from_db()
    # Screenshots go to WISPBILL_SCREENSHOTS when set, for a person to look at.
    shots = Path(os.environ.get("WISPBILL_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    words = {
        "es": (
            "Facturación electrónica",
            "Reintentar",
            "no coinciden con los del SAT",
            "Contraseña de la llave privada",
            "Suba el archivo del CSD como lo dio el SAT (a lo más 32 KB).",
        ),
        "en": (
            "E-invoicing",
            "Retry",
            "does not match SAT's records",
            "Private key password",
            "Upload the CSD's file as SAT gave it (at most 32 KB).",
        ),
    }[language]
    for user in ("boss", "nadie"):
        context = chromium.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": 900},
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            login(page, user)
            page.goto("/e-invoicing/")
            if language == "en":
                page.locator("select[name=language][data-autosubmit]").select_option("en")
                expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.locator("h1")).to_have_text(words[0])
            row = page.locator(f'[data-cfdi="{refused.pk}"]')
            expect(row.get_by_test_id("cfdi-problem")).to_contain_text(words[2])
            expect(page.locator(f'[data-cfdi="{stamped.pk}"]')).to_contain_text(stamped.uuid)
            page.screenshot(path=shots / f"list-{user}-{language}-{width}.png", full_page=True)
            assert _fits(page)
            retry = row.get_by_role("button", name=words[1])
            if user == "nadie":
                expect(retry).to_have_count(0)
                continue
            page.once("dialog", lambda dialog: dialog.dismiss())
            retry.click()
            refused.refresh_from_db()
            assert refused.status == CfdiStatus.ERROR  # nothing without the confirmation
            page.goto("/e-invoicing/csd/")
            expect(page.get_by_test_id("csd-serial")).to_have_text("30001000000500003416")
            assert _fits(page)
            # A file too large is said beside its field at once; the form stays as it was.
            page.get_by_label(words[3]).fill("typed before")
            certificate = page.locator("input[name=certificate]")
            big = {"name": "big.cer", "mimeType": "application/pkix-cert", "buffer": b"0" * 40_000}
            certificate.set_input_files(files=[big])
            assert certificate.evaluate("input => input.validationMessage") == words[4]
            assert certificate.evaluate("input => input.files.length") == 0
            expect(page.get_by_test_id("too-big").first).to_have_text(words[4])
            expect(page.get_by_label(words[3])).to_have_value("typed before")
            page.screenshot(path=shots / f"csd-{user}-{language}-{width}.png", full_page=True)
        finally:
            context.close()
