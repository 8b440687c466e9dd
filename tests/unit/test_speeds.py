"""RouterOS speeds as written by operators and printed by routers."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wispbill.network.speeds import (
    SpeedError,
    format_max_limit,
    format_rate,
    parse_max_limit,
    parse_pair,
    parse_rate,
)

kbps = st.integers(min_value=0, max_value=100 * 10**6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10M", 10_000),
        ("512k", 512),
        ("512K", 512),
        ("1G", 1_000_000),
        ("2000000", 2_000),
        ("1.5M", 1_500),
        ("0", 0),
        ("0M", 0),
        (" 20M ", 20_000),
        ("2048k", 2_048),
        ("1500", 2),  # 1.5 kbps rounds to the nearest
        ("400", 1),  # a real limit never turns into 0, which means "unlimited"
    ],
)
def test_rates_as_written(text, expected):
    assert parse_rate(text) == expected


@pytest.mark.parametrize("garbage", ["", "M", "10X", "ten", "-5M", "10 M", "1e6", "10M/2M", "٣M"])
def test_garbage_is_not_a_rate(garbage):
    with pytest.raises(SpeedError, match="not a rate"):
        parse_rate(garbage)


@pytest.mark.parametrize(
    ("kbps", "text"),
    [(10_000, "10M"), (512, "512k"), (1_000_000, "1G"), (1_500, "1500k"), (0, "0")],
)
def test_rates_are_written_the_shortest_exact_way(kbps, text):
    assert format_rate(kbps) == text


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True, None])
def test_only_whole_kbps_can_be_written(bad):
    with pytest.raises(SpeedError):
        format_rate(bad)
    with pytest.raises(SpeedError):
        format_max_limit(bad, 1_000)


@given(kbps)
def test_a_written_rate_reads_back(value):
    assert parse_rate(format_rate(value)) == value


@given(kbps, kbps)
def test_a_written_max_limit_reads_back(upload, download):
    assert parse_max_limit(format_max_limit(upload, download)) == (upload, download)


@given(kbps, kbps)
def test_what_a_router_prints_for_a_pair_reads_as_the_same_speeds(upload, download):
    # RouterOS stores `2048k/10M` and prints it back in bps: `2048000/10000000`.
    printed = f"{upload * 1000}/{download * 1000}"
    assert parse_max_limit(printed) == parse_max_limit(format_max_limit(upload, download))


def test_max_limit_is_upload_first_as_contract_writes_it():
    assert format_max_limit(2_048, 10_240) == "2048k/10240k"
    assert parse_max_limit("2M/10M") == (2_000, 10_000)
    assert parse_max_limit("512k/2M") == (512, 2_000)
    assert parse_max_limit("10M") == (10_000, 10_000)
    assert parse_max_limit("6000000/4000000") == (6_000, 4_000)


@pytest.mark.parametrize(
    "text",
    [
        "10M/10M 20M/20M 8M/8M 10/10",  # burst limit, threshold, time
        "10M/10M 20M/20M 8M/8M 10s/10s 8",  # and a priority
        "10M/10M 20M/20M 8M/8M 10/10 8 5M/5M",  # and limit-at
        "10M/10M 0/0 0/0 0s/0s",
    ],
)
def test_burst_values_after_the_limit_are_accepted(text):
    assert parse_max_limit(text) == (10_000, 10_000)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("10M/", "not an upload/download pair"),
        ("/10M", "not an upload/download pair"),
        ("1M/2M/3M", "not an upload/download pair"),
        ("fast/slow", "not a rate"),
        ("10M/10M abc", "not a rate"),
        ("10M/10M 20M/20M 8M/8M soon", "not a burst time"),
        ("10M/10M 20M/20M 8M/8M 10/10 9", "not a priority"),
        ("10M/10M 20M/20M 8M/8M 10/10 8 5M/5M extra", "more values"),
    ],
)
def test_garbage_pairs_say_what_is_wrong(text, why):
    with pytest.raises(SpeedError, match=why):
        parse_max_limit(text)


def test_a_single_rate_is_both_directions():
    assert parse_pair("1.5M") == (1_500, 1_500)
