"""Every panel page answers: as an admin and as staff without permissions, every link of the
menu, every link one click away from each menu page, and on from there until every page the
panel links to was opened, on an ISP with a past. A 5xx fails; so does a link that leads
nowhere (404)."""

from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client as Browser

from tests.isp import build_isp
from wispbill.devtools.emulator import RouterOSEmulator

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


class Links(HTMLParser):
    """The panel links of a page (and which of them are in the menu)."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.menu: list[str] = []
        self._in_nav = 0

    def handle_starttag(self, tag, attrs):
        if tag == "nav":
            self._in_nav += 1
        href = dict(attrs).get("href") if tag == "a" else None
        if not href:
            return
        href = urldefrag(href).url
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            return  # another site, an anchor, a mailto: the panel's own pages only
        self.links.append(href)
        if self._in_nav:
            self.menu.append(href)

    def handle_endtag(self, tag):
        if tag == "nav" and self._in_nav:
            self._in_nav -= 1


def _links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


@pytest.fixture
def isp(db):
    emulator = RouterOSEmulator(username="wispbill", password="s3cret").start()
    yield build_isp(emulator_port=emulator.port)
    emulator.stop()


LIMIT = 1500  # pages; the small ISP has a few hundred


def _crawl(user) -> dict[str, int]:
    """Open the menu, then every link found, breadth first (the menu's pages and the pages
    one click from them come first); what each answered."""
    browser = Browser()
    browser.force_login(user)
    seen: dict[str, int] = {}
    queue = ["/"]
    while queue and len(seen) < LIMIT:
        url = queue.pop(0)
        if url in seen:
            continue
        response = browser.get(url, follow=True)
        seen[url] = response.status_code
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        links = _links(response.content.decode())
        # /logout/ is a form in the panel; a crawler must not end its own session.
        queue += [u for u in (*links.menu, *links.links) if u not in seen and u != "/logout/"]
    return seen


@pytest.mark.parametrize("who", ["admin", "staff"])
def test_every_page_one_click_from_the_menu_answers(isp, who):
    seen = _crawl(getattr(isp, who))
    failed = {url: status for url, status in seen.items() if status >= 500 or status == 404}
    assert not failed, failed
    # It really went everywhere: the menu, the lists and the objects in them.
    assert len(seen) > 60
    for page in ("/plans/", "/payments/", "/payments/cash-report/", "/audit/", "/invoices/"):
        assert seen[page] == 200
    assert len(seen) < LIMIT
    cut = isp.clients["cut"].pk
    assert seen[f"/clients/{cut}/"] == seen[f"/clients/{cut}/notice/"] == 200
    assert seen[f"/periodic-tasks/runs/{isp.run.pk}/"] == 200
    assert seen[f"/mass-actions/history/{isp.mass_update.pk}/"] == 200
    rules = f"/routers/{isp.managed.pk}/rules/"
    if who == "admin":
        assert seen[rules] == 200
    else:
        # The staff made today cannot manage routers: the page is not offered to them.
        assert rules not in seen
