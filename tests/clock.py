"""Every test runs at an instant the suite chooses, never at the wall clock's.

Each run draws a seed (`WISPBILL_TEST_SEED` replays one) and prints it in the header; every test
then travels (time-machine, ticking) to an instant derived from that seed and its own id: a leap
day at night, New Year's Eve just before midnight, a month's last or first day, the quiet hours,
or any moment — in the ISP's time zone, in the years 2024 to 2035. A test that depends on the
date fails within a few runs instead of on the day a user meets it, and its failure report names
the instant so it can be replayed.

A test that needs a particular instant says so with `@pytest.mark.instant("2026-09-05 10:00")`
(local time of the ISP), or travels by itself inside the test. A process a test starts runs at
the test's instant too when it is given `child_env(env)` (libfaketime, Debian's `faketime`
package, which scripts/test.sh installs). A test that needs the real clock — a browser, a socket
timeout — says so with `@pytest.mark.real_clock`; the browser tests are marked by their folder.
"""

import calendar
import os
import random
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

SEED_VARIABLE = "WISPBILL_TEST_SEED"
# WISPBILL_TEST_YEARS=2024-2024 narrows the years, to hunt a dependence on the date down: every
# test before (or after) the stories the suite tells in 2026.
FIRST_YEAR, LAST_YEAR = (
    int(year) for year in os.environ.get("WISPBILL_TEST_YEARS", "2024-2035").split("-")
)
KINDS = ("leap_day_night", "new_years_eve", "month_end", "month_start", "quiet_hours", "any")
QUIET_HOURS = (21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7)


def _suite_seed() -> int:
    chosen = os.environ.get(SEED_VARIABLE, "").strip()
    if chosen:
        return int(chosen)
    return random.SystemRandom().randrange(1, 1_000_000)


SEED = _suite_seed()
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
# The instant the running test travelled to (None on the real clock), for child_env.
_current: datetime | None = None


def _time_zone() -> ZoneInfo:
    from django.conf import settings

    return ZoneInfo(settings.TIME_ZONE)


def _any_day(rng: random.Random) -> date:
    year = rng.randint(FIRST_YEAR, LAST_YEAR)
    month = rng.randint(1, 12)
    return date(year, month, rng.randint(1, calendar.monthrange(year, month)[1]))


def _any_time(rng: random.Random, hours=range(24)) -> time:
    return time(rng.choice(list(hours)), rng.randint(0, 59), rng.randint(0, 59))


def drawn_instant(seed: int, key: str) -> datetime:
    """The local instant a test with id `key` runs at, in a suite run with `seed`."""
    rng = random.Random(f"{seed}:{key}")
    kind = rng.choice(KINDS)
    if kind == "leap_day_night":
        leap = [y for y in range(FIRST_YEAR, LAST_YEAR + 1) if calendar.isleap(y)]
        year = rng.choice(
            leap or [y for y in range(FIRST_YEAR - 4, FIRST_YEAR) if calendar.isleap(y)]
        )
        day, moment = date(year, 2, 29), _any_time(rng, QUIET_HOURS)
    elif kind == "new_years_eve":
        day = date(rng.randint(FIRST_YEAR, LAST_YEAR), 12, 31)
        moment = time(23, rng.randint(30, 59), rng.randint(0, 59))
    elif kind == "month_end":
        first = _any_day(rng).replace(day=1)
        day = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        moment = _any_time(rng)
    elif kind == "month_start":
        day, moment = _any_day(rng).replace(day=1), _any_time(rng, range(2))
    elif kind == "quiet_hours":
        day, moment = _any_day(rng), _any_time(rng, QUIET_HOURS)
    else:
        day, moment = _any_day(rng), _any_time(rng)
    return datetime.combine(day, moment, tzinfo=_time_zone())


def marked_instant(text: str) -> datetime:
    """An `instant` mark's local time ("2026-09-05" or "2026-09-05 10:00") as an aware moment."""
    parsed = datetime.fromisoformat(text)
    if len(text) <= len("2026-09-05"):
        parsed = parsed.replace(hour=10)
    return parsed.replace(tzinfo=_time_zone())


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "instant(when): run this test at this local instant of the ISP's time zone"
    )
    config.addinivalue_line(
        "markers",
        "real_clock: this test needs the wall clock (servers in other processes, a browser)",
    )


def pytest_report_header(config):
    return (
        f"test instants: seed {SEED}, years {FIRST_YEAR}-{LAST_YEAR} "
        f"(replay with {SEED_VARIABLE}={SEED})"
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.real_clock)


@pytest.fixture(autouse=True)
def test_instant(request):
    """Put the test at its instant (see the module's docstring); yield it, or None on the real
    clock."""
    if request.node.get_closest_marker("real_clock"):
        yield None
        return
    mark = request.node.get_closest_marker("instant")
    when = marked_instant(mark.args[0]) if mark else drawn_instant(SEED, request.node.nodeid)
    request.node.user_properties.append(("instant", when.isoformat()))
    global _current
    with time_machine.travel(when, tick=True):
        _current = when
        try:
            yield when
        finally:
            _current = None


def child_env(env: dict) -> dict:
    """`env` for a process the test starts, so that it lives at the test's instant (now, as the
    test sees it, ticking from when the process starts): libfaketime preloaded, the instant in
    UTC. Unchanged on the real clock; a test that needs it skips where libfaketime is missing.
    libfaketime (0.9.10) shifts the monotonic clock too, which stalls Python's timed waits on
    locks and conditions in that process: a process whose threads wait with a timeout (an
    emulated router's round trips) runs its test on the real clock instead."""
    if _current is None:
        return env
    if not LIBFAKETIME.exists():
        pytest.skip("libfaketime (Debian's faketime) is needed to start a process at an instant")
    now = datetime.now(UTC)  # the test's own clock, which has ticked since it travelled
    others = [p for p in env.get("LD_PRELOAD", "").split() if p != str(LIBFAKETIME)]
    preload = " ".join([str(LIBFAKETIME), *others])
    return {
        **env,
        "LD_PRELOAD": preload,
        "FAKETIME": now.strftime("@%Y-%m-%d %H:%M:%S"),
        "TZ": "UTC",
    }


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        when = dict(item.user_properties).get("instant")
        if when:
            report.sections.append(
                ("test instant", f"{when} (seed {SEED}; {SEED_VARIABLE}={SEED} replays it)")
            )
