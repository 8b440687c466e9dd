"""The outbox in the panel, in Chromium at desk and phone width: a message sent again after the
confirmation, and a client-page link created and copied from the client's messages tab."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from wispbill.messaging.models import Kind, Message, MessageStatus
from wispbill.messaging.sending import messages_send_due
from wispbill.messaging.services import message_enqueue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_resend_and_client_page_link(
    chromium, live_server, admin, smtp_server, billed_client, width
):
    client, invoice = billed_client
    message_enqueue(client=client, kind=Kind.INVOICE, invoice=invoice)
    messages_send_due()
    sent = Message.objects.get(channel="email")
    context = chromium.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        login(page, "boss")
        page.goto("/messages/")
        row = page.locator(f'[data-message="{sent.pk}"]')
        expect(row.get_by_test_id("message-status")).to_contain_text("Enviado")
        assert _fits(page)
        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="Reenviar").click()
        expect(page.locator(".messages .success")).to_contain_text("lucia@example.com")
        # Queued again and, after the commit, sent again by the queue.
        sent.refresh_from_db()
        assert (sent.status, sent.attempts) == (MessageStatus.SENT, 1)
        assert len(smtp_server.received) == 2

        page.goto(f"/clients/{client.pk}/#messages")
        page.get_by_role("button", name="Crear un enlace a la página del cliente").click()
        link = page.get_by_test_id("portal-link")
        expect(link).to_have_value(re.compile(r"^https://pagos\.rednorte\.example/portal/"))
        page.get_by_role("button", name="Copiar enlace").click()
        expect(page.get_by_role("button", name="Copiado")).to_be_visible()
        assert _fits(page)
    finally:
        context.close()
