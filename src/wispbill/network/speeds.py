"""RouterOS speeds as plain values: rates as operators and routers write them (`10M`, `512k`,
`1.5M`, `2000000`), and `upload/download` pairs such as a simple queue's `max-limit` or a PPP
profile's `rate-limit` with its burst values. Rates are kept in kbps, as plans keep them.

RouterOS counts in powers of ten (k = 1,000 bps, M = 1,000,000 bps) and puts the target's
upload first: `max-limit=2M/10M` lets the client send 2 Mbps and receive 10 Mbps.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

_RATE = re.compile(r"([0-9]+(?:\.[0-9]+)?)([kKmMgG]?)")
_TIME = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d|w)?")
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}


class SpeedError(ValueError):
    """A rate or a pair that RouterOS would not accept."""


def parse_rate(text: str) -> int:
    """kbps of a rate as written (`10M`, `512k`, `1G`, `2000000`, `1.5M`); `0` is unlimited.
    A rate that is not a whole kbps is rounded to the nearest, never down to 0."""
    match = _RATE.fullmatch(text.strip())
    if match is None:
        raise SpeedError(f"{text!r} is not a rate (examples: 10M, 512k, 2000000)")
    number, unit = match.groups()
    bps = Decimal(number) * _UNITS[unit.lower()]
    kbps = int((bps / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    # 0 means "no limit" to RouterOS: a tiny rate must not become that.
    return max(kbps, 1) if bps else 0


def format_rate(kbps: int) -> str:
    """The shortest exact way RouterOS writes a rate: 10000 → `10M`, 512 → `512k`, 0 → `0`."""
    _check_kbps(kbps)
    if kbps == 0:
        return "0"
    if kbps % 10**6 == 0:
        return f"{kbps // 10**6}G"
    if kbps % 10**3 == 0:
        return f"{kbps // 10**3}M"
    return f"{kbps}k"


def parse_pair(text: str) -> tuple[int, int]:
    """(upload, download) kbps of `UP/DOWN`; one rate alone stands for both directions."""
    parts = text.strip().split("/")
    if len(parts) > 2 or not all(parts):
        raise SpeedError(f"{text!r} is not an upload/download pair (example: 2M/10M)")
    upload = parse_rate(parts[0])
    return upload, parse_rate(parts[1]) if len(parts) == 2 else upload


def parse_max_limit(text: str) -> tuple[int, int]:
    """(upload, download) kbps of a `max-limit` or `rate-limit`, with or without the burst
    values RouterOS writes after it: `10M/10M 20M/20M 8M/8M 10/10 8 5M/5M` (burst limit,
    burst threshold, burst time, priority, limit-at). The extra values are checked, not kept."""
    words = text.split()
    if not words:
        raise SpeedError("an empty speed is not an upload/download pair")
    if len(words) > 6:
        raise SpeedError(f"{text!r} has more values than a rate limit takes")
    limits = parse_pair(words[0])
    for position, word in enumerate(words[1:], start=1):
        if position in (1, 2, 5):
            parse_pair(word)
        elif position == 3:
            times = word.split("/")
            if len(times) > 2 or not all(_TIME.fullmatch(t) for t in times):
                raise SpeedError(f"{word!r} is not a burst time (example: 10/10 or 8s/8s)")
        elif not re.fullmatch("[1-8]", word):
            raise SpeedError(f"{word!r} is not a priority (1 to 8)")
    return limits


def format_max_limit(upload_kbps: int, download_kbps: int) -> str:
    """The `max-limit` wispbill writes for a plan: `UPLOADk/DOWNLOADk` (docs/routers.md)."""
    _check_kbps(upload_kbps)
    _check_kbps(download_kbps)
    return f"{upload_kbps}k/{download_kbps}k"


def _check_kbps(kbps: int) -> None:
    if isinstance(kbps, bool) or not isinstance(kbps, int) or kbps < 0:
        raise SpeedError(f"{kbps!r} is not a rate in kbps")
