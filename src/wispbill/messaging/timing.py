"""When a message may leave: quiet hours and retry back-off, as plain functions of plain values."""

import re
from datetime import datetime, time, timedelta

QUIET_HOURS_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
DEFAULT_QUIET_HOURS = "21:00-08:00"

# The first retry waits a minute, each next one twice as long, never more than six hours; after
# MAX_ATTEMPTS tries (about two hours of trying) the message is given up as failed.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
MAX_ATTEMPTS = 8


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """ "21:00-08:00" as (start, end); None for "" (no quiet hours); ValueError otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    match = QUIET_HOURS_RE.match(text)
    if not match:
        raise ValueError(text)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = time(h1, m1), time(h2, m2)
    return None if start == end else (start, end)


def is_quiet(moment: time, window: tuple[time, time] | None) -> bool:
    """Whether a local time of day falls inside the window (start included, end not); a window
    whose start is after its end wraps midnight."""
    if window is None:
        return False
    start, end = window
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def quiet_end(moment: datetime, window: tuple[time, time] | None) -> datetime | None:
    """When the quiet hours that a local moment falls in are over; None outside them."""
    if window is None or not is_quiet(moment.time(), window):
        return None
    start, end = window
    day = moment.date()
    if start > end and moment.time() >= start:
        day += timedelta(days=1)  # a window that wraps midnight ends the next morning
    return datetime.combine(day, end, tzinfo=moment.tzinfo)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try."""
    # Capped before multiplying: a huge count must not overflow a timedelta.
    doublings = min(max(attempts - 1, 0), 20)
    return min(FIRST_RETRY * 2**doublings, LONGEST_RETRY)
