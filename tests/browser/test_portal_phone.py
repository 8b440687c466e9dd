"""The client page at phone width (360 px) in Chromium, in Spanish and English: everything
fits without scrolling sideways, and a promise can be made from it."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from wispbill.messaging.links import portal_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, tmp_path, name: str) -> None:
    """Screenshots go to WISPBILL_SCREENSHOTS when set, for a person to look at."""
    folder = Path(os.environ.get("WISPBILL_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize(
    ("lang", "heading", "button", "done"),
    [
        ("es", "Promesa de pago", "Hacer la promesa", "Registramos tu promesa"),
        ("en", "Payment promise", "Make the promise", "Your payment promise was saved"),
    ],
)
def test_client_page_on_a_phone(
    chromium, live_server, billed_client, tmp_path, lang, heading, button, done
):
    client, invoice = billed_client
    client.language = lang
    client.save()
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 360, "height": 740}, is_mobile=True
    )
    page = context.new_page()
    try:
        token, _expires = portal_token(client.pk)
        page.goto(f"/portal/{token}/")
        expect(page.get_by_test_id("client-name")).to_have_text("Lucía Fernández")
        expect(page.get_by_test_id("balance")).to_have_text("$1,234.50")
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        assert _fits(page)
        _shot(page, tmp_path, f"portal-{lang}")
        page.get_by_role("button", name=button).click()
        expect(page.get_by_test_id("promise-done")).to_contain_text(done)
        assert _fits(page)
        _shot(page, tmp_path, f"portal-{lang}-promised")
        page.goto(f"/portal/{token}x/")
        expect(page.get_by_test_id("refused")).to_be_visible()
        assert _fits(page)
        _shot(page, tmp_path, f"portal-{lang}-refused")
    finally:
        context.close()
