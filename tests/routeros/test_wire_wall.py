"""The driver's own wall (issue 16): whatever the database holds, nothing with a line break
is written to a router's connection, and a router at an address nobody allowed is not dialled."""

import pytest

from wispbill.network.drivers import DriverError
from wispbill.network.drivers.mikrotik import CONTROL_IN_WORD, MikrotikDriver
from wispbill.network.provisioning import ProvisioningPlan, Queue, Secret


def test_a_word_with_a_line_break_is_never_sent(device, emulator):
    good = Secret("ana", "pw", "10.0.0.2", comment="wispbill:client:1", service="pppoe")
    smuggled = Secret("beto", "pw\r\n/quit", "10.0.0.3", comment="wispbill:client:2")
    queue = Queue("Beto\x00 (2)", "10.0.0.3/32", "1M/1M", "wispbill:client:2")
    with MikrotikDriver(device) as driver:
        result = driver.apply_provisioning(
            ProvisioningPlan(secret_adds=(good, smuggled), queue_adds=(queue,))
        )
        # One client's bad text fails that client alone; the router gets the rest.
        assert result.added == 1
        assert [(subject, message) for subject, message in result.failed] == [
            (smuggled, CONTROL_IN_WORD),
            (queue, CONTROL_IN_WORD),
        ]
        with pytest.raises(DriverError, match="control character"):
            driver.read_owned(("Mor\r\noso",))
    assert set(emulator.secrets()) == {"ana"}


@pytest.mark.parametrize("field", ["username", "password"])
def test_a_login_with_a_line_break_is_not_sent(device, emulator, field):
    setattr(device, field, "wispbill\r\nSET x 1")
    with pytest.raises(DriverError, match="control character"):
        MikrotikDriver(device).__enter__()
    assert emulator.connections == 0 and emulator.logins == 0


def test_a_router_on_this_server_that_nobody_allowed_is_not_dialled(device, emulator):
    device.allow_local_host = False
    with pytest.raises(DriverError, match="not allowed"):
        MikrotikDriver(device).__enter__()
    assert emulator.connections == 0
    device.allow_local_host = True
    with MikrotikDriver(device) as driver:
        assert driver.health()["version"]
    assert emulator.logins == 1
