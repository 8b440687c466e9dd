"""Quiet hours, back-off, phone numbers and the e-mail URL: plain functions, no database."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from wispbill.messaging.channels import email_config
from wispbill.messaging.contacts import e164
from wispbill.messaging.timing import (
    MAX_ATTEMPTS,
    is_quiet,
    parse_quiet_hours,
    quiet_end,
    retry_delay,
)

MEXICO = ZoneInfo("America/Mexico_City")


def test_quiet_hours_parse():
    assert parse_quiet_hours("21:00-08:00") == (time(21), time(8))
    assert parse_quiet_hours("") is None
    assert parse_quiet_hours("09:30-09:30") is None
    for bad in ("9-8", "25:00-08:00", "21:00 08:00", "21:60-08:00"):
        with pytest.raises(ValueError):
            parse_quiet_hours(bad)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (time(20, 59), False),
        (time(21, 0), True),
        (time(23, 59), True),
        (time(0, 0), True),
        (time(3, 0), True),
        (time(7, 59), True),
        (time(8, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_hours_wrap_midnight(moment, quiet):
    assert is_quiet(moment, parse_quiet_hours("21:00-08:00")) is quiet


def test_quiet_hours_within_a_day_and_none():
    window = parse_quiet_hours("13:00-15:30")
    assert not is_quiet(time(12, 59), window)
    assert is_quiet(time(13, 0), window) and is_quiet(time(15, 29), window)
    assert not is_quiet(time(15, 30), window)
    assert not is_quiet(time(3, 0), None)


def test_when_the_quiet_hours_end():
    night = parse_quiet_hours("21:00-08:00")
    assert quiet_end(datetime(2026, 9, 1, 22, 30, tzinfo=MEXICO), night) == datetime(
        2026, 9, 2, 8, 0, tzinfo=MEXICO
    )
    assert quiet_end(datetime(2026, 12, 31, 23, 0, tzinfo=MEXICO), night) == datetime(
        2027, 1, 1, 8, 0, tzinfo=MEXICO
    )
    assert quiet_end(datetime(2026, 9, 2, 3, 0, tzinfo=MEXICO), night) == datetime(
        2026, 9, 2, 8, 0, tzinfo=MEXICO
    )
    assert quiet_end(datetime(2026, 9, 2, 8, 0, tzinfo=MEXICO), night) is None
    lunch = parse_quiet_hours("13:00-15:30")
    assert quiet_end(datetime(2026, 9, 2, 14, 0, tzinfo=MEXICO), lunch) == datetime(
        2026, 9, 2, 15, 30, tzinfo=MEXICO
    )
    assert quiet_end(datetime(2026, 9, 2, 3, 0, tzinfo=MEXICO), None) is None


def test_retry_delay_doubles_and_is_bounded():
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS + 1)]
    assert delays[0] == timedelta(minutes=1) and delays[1] == timedelta(minutes=2)
    assert all(
        b == 2 * a or b == timedelta(hours=6) for a, b in zip(delays, delays[1:], strict=False)
    )
    assert retry_delay(50) == timedelta(hours=6)


def test_phone_numbers_to_e164_for_the_country():
    assert e164("55 1234 5678", "MX") == "+525512345678"
    assert e164("+52 (55) 1234-5678", "MX") == "+525512345678"
    assert e164("+1 650 253 0000", "MX") == "+16502530000"
    assert e164("301 234 5678", "CO") == "+573012345678"
    assert e164("12345", "MX") is None
    assert e164("not a phone", "MX") is None


def test_email_url():
    plain = email_config("smtp://user%40isp:p%3Ass@mail.example:2525")
    assert plain["host"] == "mail.example" and plain["port"] == 2525
    assert (plain["username"], plain["password"]) == ("user@isp", "p:ss")
    assert not plain["use_tls"] and not plain["use_ssl"]
    tls = email_config("smtp+tls://u:p@mail.example")
    assert tls["use_tls"] and tls["port"] == 587
    ssl = email_config("smtps://u:p@mail.example")
    assert ssl["use_ssl"] and ssl["port"] == 465
    assert email_config("http://mail.example") is None
    assert email_config("smtp://mail.example:notaport") is None
