"""Opening every panel page a user can reach, as a person clicking would: the menu first,
then every link found, breadth first. The crawl test and the benchmark's `pages` part share
it."""

from html.parser import HTMLParser
from typing import NamedTuple
from urllib.parse import urldefrag, urlsplit

from django.test import Client as Browser

LIMIT = 1500  # pages; the demo and the tests' ISP have a few hundred


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


class Visit(NamedTuple):
    status: int
    html: bool  # a page, not a download (CSV, PDF) or a script


def browser_for(user) -> Browser:
    """A Django test browser logged in as `user`, on a host the settings allow."""
    browser = Browser(SERVER_NAME="localhost")
    browser.force_login(user)
    return browser


def crawl(user, *, limit: int = LIMIT) -> dict[str, Visit]:
    """Open the menu, then every link found, breadth first (the menu's pages and the pages
    one click from them come first); what each answered."""
    browser = browser_for(user)
    seen: dict[str, Visit] = {}
    queue = ["/"]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        response = browser.get(url, follow=True)
        html = response.get("Content-Type", "").startswith("text/html")
        seen[url] = Visit(response.status_code, html)
        if not html:
            continue
        links = Links()
        links.feed(response.content.decode())
        # /logout/ is a form in the panel; a crawler must not end its own session.
        queue += [u for u in (*links.menu, *links.links) if u not in seen and u != "/logout/"]
    return seen
