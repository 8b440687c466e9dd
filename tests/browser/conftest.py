import os
from datetime import timedelta

import pytest

from wispbill.billing.models import Invoice

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around
# it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def login(page, username: str, password: str = "secret-pass") -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def owing(client, *, due):
    """An invoice of the client's plan price, pending and due on `due`."""
    return Invoice.objects.create(
        client=client,
        period_start=due - timedelta(days=4),
        period_end=due + timedelta(days=25),
        issued_on=due - timedelta(days=11),
        pay_date=due - timedelta(days=4),
        notice_date=due - timedelta(days=2),
        due_date=due,
        total=client.plan.price,
    )
