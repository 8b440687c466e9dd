"""Plain rules of this part: what the cut does in a schedule, queue names, client addresses
of a queue."""

import pytest
from django.core.exceptions import ValidationError

from wispbill.clients.services.router_import import _single_address
from wispbill.core.schedule import BillingSchedule, schedule_errors, schedule_from
from wispbill.network.provisioning import queue_name

DATES = {"mode": "prepaid", "pay_day": 1, "invoice_lead_days": 5, "notice_offset_days": 0,
         "grace_days": 5}  # fmt: skip


def test_what_the_cut_does_defaults_to_suspend_and_is_kept_when_left_out():
    assert schedule_from(DATES).cut_action == "suspend"
    assert schedule_from(DATES).throttle_kbps == 512
    before = BillingSchedule(**DATES, cut_action="throttle", throttle_kbps=256)
    kept = schedule_from({**DATES, "pay_day": 10}, base=before)
    assert (kept.pay_day, kept.cut_action, kept.throttle_kbps) == (10, "throttle", 256)


@pytest.mark.parametrize(
    "values, field",
    [({"cut_action": "slow"}, "cut_action"), ({"throttle_kbps": 10}, "throttle_kbps")],
)
def test_a_bad_cut_action_or_speed_is_refused(values, field):
    assert field in schedule_errors({**DATES, **values})
    with pytest.raises(ValidationError):
        schedule_from({**DATES, **values})


def test_queue_names_read_well_are_unique_and_a_router_can_store_them():
    assert queue_name(12, "Ana  Díaz") == "Ana Díaz (12)"
    assert queue_name(13, "陈先生") == "??? (13)"
    assert queue_name(14, "  ") == "wispbill-14"


@pytest.mark.parametrize(
    "target, address",
    [
        ("172.16.0.2/32", "172.16.0.2"),
        ("172.16.0.2", "172.16.0.2"),
        ("172.16.0.0/24", None),
        ("172.16.0.2/32,172.16.0.3/32", None),
        ("ether5", None),
    ],
)
def test_a_queue_is_a_clients_when_it_shapes_one_address(target, address):
    assert _single_address(target) == address
