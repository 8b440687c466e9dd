"""Every panel page answers: as an admin and as staff without permissions, every link of the
menu, every link one click away from each menu page, and on from there until every page the
panel links to was opened, on an ISP with a past. A 5xx fails; so does a link that leads
nowhere (404)."""

import pytest

from tests.isp import build_isp
from wispbill.devtools.crawl import LIMIT, crawl
from wispbill.devtools.emulator import RouterOSEmulator

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def isp(db):
    emulator = RouterOSEmulator(username="wispbill", password="s3cret").start()
    yield build_isp(emulator_port=emulator.port)
    emulator.stop()


@pytest.mark.parametrize("who", ["admin", "staff"])
def test_every_page_one_click_from_the_menu_answers(isp, who):
    seen = {url: visit.status for url, visit in crawl(getattr(isp, who)).items()}
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
