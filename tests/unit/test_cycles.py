"""The billing calendar: cycles, pay days at month ends, late invoices. Pure date math."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from wispbill.core.schedule import (
    BillingSchedule,
    current_cycle,
    cycle_of,
    late_dates,
    next_cycle,
)

schedules = st.builds(
    lambda mode, pay_day, lead, grace, notice_pick: BillingSchedule(
        mode, pay_day, lead, max(-lead, min(grace, notice_pick)), grace
    ),
    st.sampled_from(["prepaid", "postpaid"]),
    st.integers(1, 31),
    st.integers(1, 28),
    st.integers(0, 28),
    st.integers(-28, 28),
)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


def test_the_design_example():
    schedule = BillingSchedule("prepaid", 1, 7, 2, 4)
    cycle = current_cycle(schedule, date(2026, 8, 25))
    assert cycle.invoice_date == date(2026, 8, 25)
    assert (cycle.period_start, cycle.period_end) == (date(2026, 9, 1), date(2026, 9, 30))
    assert (cycle.due_date, cycle.notice_date) == (date(2026, 9, 5), date(2026, 9, 3))
    assert current_cycle(schedule, date(2026, 8, 24)).pay_date == date(2026, 8, 1)


def test_postpaid_charges_the_month_consumed():
    cycle = cycle_of(BillingSchedule("postpaid", 15, 5, 0, 5), 2026, 3)
    assert (cycle.period_start, cycle.period_end) == (date(2026, 2, 15), date(2026, 3, 14))


def test_pay_day_31_falls_on_the_last_day_of_short_months_and_leap_february():
    schedule = BillingSchedule("prepaid", 31, 5, 0, 3)
    assert cycle_of(schedule, 2026, 2).pay_date == date(2026, 2, 28)
    assert cycle_of(schedule, 2028, 2).pay_date == date(2028, 2, 29)
    assert cycle_of(schedule, 2026, 4).pay_date == date(2026, 4, 30)
    feb = cycle_of(schedule, 2028, 2)
    assert (feb.period_start, feb.period_end) == (date(2028, 2, 29), date(2028, 3, 30))


def test_a_late_invoice_keeps_the_usual_time_to_pay():
    schedule = BillingSchedule("prepaid", 1, 7, 2, 4)
    cycle = current_cycle(schedule, date(2026, 9, 10))
    notice, due = late_dates(schedule, cycle, date(2026, 9, 10))
    assert due == date(2026, 9, 21)  # 10 Sep + 7 + 4
    assert notice == date(2026, 9, 19)  # 2 days before due, as 3 Sep is before 5 Sep
    on_time = late_dates(schedule, cycle, cycle.invoice_date)
    assert on_time == (cycle.notice_date, cycle.due_date)


@given(schedules, days)
def test_current_cycle_is_the_latest_invoice_date_that_has_come(schedule, day):
    cycle = current_cycle(schedule, day)
    assert cycle.invoice_date <= day < next_cycle(schedule, cycle).invoice_date


@given(schedules, st.integers(2000, 2098), st.integers(1, 12))
def test_periods_tile_the_calendar_and_dates_keep_their_order(schedule, year, month):
    cycle = cycle_of(schedule, year, month)
    following = next_cycle(schedule, cycle)
    assert following.period_start == cycle.period_end + timedelta(days=1)
    assert cycle.period_start <= cycle.period_end
    assert cycle.invoice_date < cycle.pay_date <= cycle.due_date
    assert cycle.invoice_date <= cycle.notice_date <= cycle.due_date
    assert cycle.pay_date in (cycle.period_start, cycle.period_end + timedelta(days=1))


@given(schedules, days, st.integers(0, 60))
def test_late_dates_never_shorten_the_time_to_pay(schedule, day, delay):
    cycle = current_cycle(schedule, day)
    issued = cycle.invoice_date + timedelta(days=delay)
    notice, due = late_dates(schedule, cycle, issued)
    assert due >= cycle.due_date
    assert (due - issued).days >= schedule.invoice_lead_days + schedule.grace_days
    assert issued <= notice <= due
