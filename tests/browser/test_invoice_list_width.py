"""The invoice list on a 1280 px screen and a 390 px phone, in both languages: every column
on the screen, none scrolled off to the side (it was 22 px too wide at 1280 px), the worst
rows included: a long name, an invoice made by hand, a cancelled one, a paid one."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings

from tests.browser.conftest import login, owing
from tests.factories import ClientFactory, PlanFactory, UserFactory
from wispbill.billing.models import InvoiceStatus
from wispbill.core.clock import today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = """() => {
  const table = document.querySelector('.invoice-table');
  const wrap = table.closest('.table-wrap');
  return [document.documentElement.scrollWidth, document.documentElement.clientWidth,
          table.scrollWidth, wrap.clientWidth];
}"""


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_invoice_list_fits_the_screen(chromium, live_server, language, width):
    UserFactory(username="jefe", is_superuser=True)
    plan = PlanFactory(price=Decimal("1899.00"))
    due = today() + timedelta(days=3)
    long = ClientFactory(name="María Guadalupe Hernández de la Concepción Villaseñor", plan=plan)
    owing(long, due=due)
    by_hand = owing(ClientFactory(plan=plan), due=due - timedelta(days=31))
    by_hand.automatic = False
    by_hand.status = InvoiceStatus.PAID
    by_hand.paid_amount = by_hand.total
    by_hand.save()
    cancelled = owing(ClientFactory(plan=plan), due=due)
    cancelled.status = InvoiceStatus.CANCELLED
    cancelled.save()
    context = chromium.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 900},
        is_mobile=width < 500,
    )
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    login(page, "jefe")
    page.goto("/invoices/")
    page_width, screen, table, wrap = page.evaluate(WIDTHS)
    context.close()
    assert page_width <= screen
    assert table <= wrap, f"the invoice table is {table - wrap} px wider than its box"
