"""Every panel page of the demo, timed as an administrator opens it: the demo is loaded (with
its emulated router on loopback), crawled, and each page it reaches opened again three times;
the median of the three is the page's time. Beside each time, the processor time the server
spent on it (`cpu …`): on a machine shared with other work the time a page takes grows with
the machine's load, its processor time does not, so the two tell a slow page from a busy
machine. Run on a scratch database: it replaces every client, and takes away what it made
when done."""

import functools
import io
import re
import statistics

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from wispbill.clients.models import Plan
from wispbill.devtools.benchmarks.common import medians_of, wipe
from wispbill.devtools.crawl import browser_for, crawl
from wispbill.devtools.emulator import RouterOSEmulator
from wispbill.network.models import Router

BUDGET_S = 0.300  # what a page may take on the demo
ID = re.compile(r"/\d+(?=/|$)")
TOKEN = re.compile(r"^/portal/[^/]+/")  # a client's link: not printed, one kind of page


def time_pages(*, clients: int, repeat: int = 3) -> dict:
    """The median of `repeat` openings of every page, summed up: per kind of page (its path
    with ids as `{id}`) the slowest page, the slowest overall, how many pass the budget."""
    wipe()
    routers = set(Router.objects.values_list("id", flat=True))
    plans = set(Plan.objects.values_list("id", flat=True))
    emulator = RouterOSEmulator(username="wispbill", password="demo").start()
    try:
        call_command("demo", clients=clients, emulator_port=emulator.port, stdout=io.StringIO())
        admin = get_user_model().objects.get(username="admin")
        pages = [url for url, visit in crawl(admin).items() if visit.html and visit.status == 200]
        # The docs page's content is its schema, which the browser asks for next.
        pages.append(reverse("schema"))
        browser = browser_for(admin)
        timed = {
            url: medians_of(functools.partial(browser.get, url, follow=True), repeat)
            for url in pages
        }
    finally:
        emulator.stop()
        wipe()
        Router.objects.exclude(id__in=routers).delete()
        Plan.objects.exclude(id__in=plans).delete()
    return summarize(
        {url: wall for url, (wall, _cpu) in timed.items()},
        {url: cpu for url, (_wall, cpu) in timed.items()},
    )


def kind_of(url: str) -> str:
    """A page's kind: its path with ids as `{id}` and a client's link as `{token}`."""
    return ID.sub("/{id}", TOKEN.sub("/portal/{token}/", url.split("?")[0]))


def summarize(medians: dict[str, float], cpu: dict[str, float] | None = None) -> dict:
    cpu = cpu or {}
    slowest: dict[str, float] = {}
    slowest_cpu: dict[str, float] = {}
    for url, seconds in medians.items():
        slowest[kind_of(url)] = max(seconds, slowest.get(kind_of(url), 0.0))
        slowest_cpu[kind_of(url)] = max(cpu.get(url, 0.0), slowest_cpu.get(kind_of(url), 0.0))
    worst = max(medians, key=medians.__getitem__)
    results: dict = {
        "pages_count": len(medians),
        "pages_median_s": statistics.median(medians.values()),
        "pages_slowest_s": medians[worst],
        "pages_slowest": kind_of(worst),
        "pages_over_budget": sorted({kind_of(url) for url, s in medians.items() if s > BUDGET_S}),
    }
    if cpu:
        worst_cpu = max(cpu, key=cpu.__getitem__)
        results |= {
            "pages_cpu_median_s": statistics.median(cpu.values()),
            "pages_cpu_slowest_s": cpu[worst_cpu],
            "pages_cpu_slowest": kind_of(worst_cpu),
        }
    for kind, seconds in sorted(slowest.items()):
        results[f"page {kind}"] = seconds
        if cpu:
            results[f"cpu {kind}"] = slowest_cpu[kind]
    return results
