"""The billing schedule's ranges and the rules that tie its fields, without a database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wispbill.core.schedule import RANGES, schedule_errors
from wispbill.core.switches import Switches

VALID = {
    "mode": "prepaid",
    "pay_day": 1,
    "invoice_lead_days": 7,
    "notice_offset_days": 2,
    "grace_days": 4,
}


def test_the_design_example_is_valid():
    assert schedule_errors(VALID) == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pay_day", 0),
        ("pay_day", 32),
        ("invoice_lead_days", 0),
        ("invoice_lead_days", 29),
        ("notice_offset_days", -29),
        ("notice_offset_days", 29),
        ("grace_days", -1),
        ("grace_days", 29),
        ("mode", "weekly"),
        ("pay_day", None),
        ("pay_day", True),
    ],
)
def test_out_of_range_values_are_refused_on_their_field(field, value):
    errors = schedule_errors({**VALID, field: value})
    assert list(errors) == [field]


def test_notice_may_not_start_after_the_cut():
    errors = schedule_errors({**VALID, "notice_offset_days": 5, "grace_days": 4})
    assert "notice_offset_days" in errors


def test_notice_may_not_start_before_the_invoice_exists():
    assert schedule_errors({**VALID, "invoice_lead_days": 3, "notice_offset_days": -4})
    assert schedule_errors({**VALID, "invoice_lead_days": 3, "notice_offset_days": -3}) == {}


@given(
    pay_day=st.integers(*RANGES["pay_day"]),
    lead=st.integers(*RANGES["invoice_lead_days"]),
    notice=st.integers(*RANGES["notice_offset_days"]),
    grace=st.integers(*RANGES["grace_days"]),
)
def test_a_schedule_is_valid_exactly_when_the_notice_falls_between_invoice_and_cut(
    pay_day, lead, notice, grace
):
    values = {
        "mode": "postpaid",
        "pay_day": pay_day,
        "invoice_lead_days": lead,
        "notice_offset_days": notice,
        "grace_days": grace,
    }
    assert (schedule_errors(values) == {}) == (-lead <= notice <= grace)


def test_switches_diff_and_replace():
    before = Switches()
    after = before.replace(cuts=False, notices=None)
    assert after == Switches(invoices=True, notices=True, cuts=False)
    assert before.diff(after) == {"cuts": [True, False]}
    assert after.diff(after) == {}
