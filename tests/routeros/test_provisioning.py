"""PPPoE secrets, simple queues and sessions pushed through the real driver and librouteros
against the emulator: the router ends up holding what was asked, cuts really cut, nothing is
written twice, the router's own objects are never touched, and big pushes are pipelined."""

from dataclasses import replace

import pytest

from wispbill.devtools.emulator import RouterOSEmulator
from wispbill.network.drivers import DriverError
from wispbill.network.drivers.mikrotik import MikrotikDriver
from wispbill.network.provisioning import Queue, Secret, plan_provisioning
from wispbill.network.speeds import format_max_limit


def _client(n: int, *, cut: bool = False, down: int = 10_240, up: int = 2_048):
    ip = f"172.16.{n // 250}.{n % 250 + 1}"
    comment = f"wispbill:client:{n}"
    return (
        Secret(f"user{n}", f"pw{n}", ip, disabled=cut, comment=comment),
        Queue(f"client-{n}", f"{ip}/32", format_max_limit(up, down), comment),
    )


def _push(router, clients) -> tuple:
    """One provisioning pass as a reconcile would run it: read, diff, apply."""
    secrets = [secret for secret, _queue in clients]
    queues = [queue for _secret, queue in clients]
    with MikrotikDriver(router) as driver:
        state = driver.read_provisioning()
        plan = plan_provisioning(
            secrets=secrets,
            queues=queues,
            actual_secrets=state.secrets,
            actual_queues=state.queues,
            sessions=state.sessions,
        )
        return plan, driver.apply_provisioning(plan)


def test_clients_are_provisioned_and_a_second_pass_writes_nothing(device, emulator):
    clients = [_client(1), _client(2), _client(3, cut=True)]
    plan, result = _push(device, clients)
    assert (result.added, result.changed, result.removed, result.failed) == (6, 0, 0, [])
    secrets = emulator.secrets()
    assert set(secrets) == {"user1", "user2", "user3"}
    ana = secrets["user1"]
    assert (ana["password"], ana["service"], ana["remote-address"], ana["disabled"]) == (
        "pw1",
        "pppoe",
        "172.16.0.2",
        "false",
    )
    assert ana["comment"] == "wispbill:client:1" and secrets["user3"]["disabled"] == "true"
    queues = emulator.queues()
    assert list(queues) == ["client-1", "client-2", "client-3"]
    assert queues["client-1"]["target"] == "172.16.0.2/32"
    assert queues["client-1"]["max-limit"] == "2048000/10240000"  # sent as 2048k/10240k
    writes = emulator.writes
    again, result = _push(device, clients)
    assert again.empty and emulator.writes == writes
    assert (result.added, result.changed, result.removed) == (0, 0, 0)


def test_the_routers_own_secrets_and_queues_are_never_touched(device, emulator):
    emulator.add_secret("torre-norte", "x", comment="enlace")
    emulator.add_secret("tecnico", "y")
    emulator.add_queue("total", "10.0.0.0/8", "1G/1G")
    emulator.add_queue("client-9", "172.16.0.10/32", "1M/1M", comment="puesta a mano")
    emulator.add_secret("user1", "old", comment="Juan Pérez")  # holds a name we want
    emulator.add_secret("gone", "z", comment="wispbill:client:77")  # ours, no longer wanted
    before = {**emulator.secrets(), **emulator.queues()}
    plan, result = _push(device, [_client(1), _client(9)])
    assert {c.name for c in plan.conflicts} == {"user1", "client-9"}
    assert result.failed == []
    after_secrets, after_queues = emulator.secrets(), emulator.queues()
    for name in ("torre-norte", "tecnico", "user1"):
        assert after_secrets[name] == before[name]
    for name in ("total", "client-9"):
        assert after_queues[name] == before[name]
    assert "gone" not in after_secrets and "user9" in after_secrets
    assert "client-1" in after_queues


def test_changes_set_only_what_differs(device, emulator):
    _push(device, [_client(1), _client(2)])
    secret_id = emulator.secrets()["user2"][".id"]
    queue_id = emulator.queues()["client-1"][".id"]
    start = len(emulator.write_log)
    secret, queue = _client(2)
    moved = (replace(secret, password="nueva", remote_address="172.16.9.9"), queue)
    _push(device, [_client(1, down=20_480, up=4_096), moved])
    assert emulator.write_log[start:] == [
        (
            "/ppp/secret/set",
            {".id": secret_id, "password": "nueva", "remote-address": "172.16.9.9"},
        ),
        ("/queue/simple/set", {".id": queue_id, "max-limit": "4096k/20480k"}),
    ]
    assert emulator.queues()["client-1"]["max-limit"] == "4096000/20480000"


def test_a_cut_disables_the_secret_and_ends_the_session_for_good(device, emulator):
    _push(device, [_client(1), _client(2)])
    emulator.connect("user1")
    emulator.connect("user2")
    plan, result = _push(device, [_client(1, cut=True), _client(2)])
    assert plan.drop_sessions == ("user1",)
    assert result.changed == 1 and result.sessions_dropped == 1 and result.failed == []
    assert emulator.secrets()["user1"]["disabled"] == "true"
    # Gone, and it did not dial back in: its secret was disabled before the session went.
    assert set(emulator.sessions()) == {"user2"}
    with pytest.raises(ValueError, match="disabled"):
        emulator.connect("user1")
    plan, result = _push(device, [_client(1), _client(2)])
    assert plan.secret_enables and result.changed == 1 and not plan.drop_sessions
    assert emulator.secrets()["user1"]["disabled"] == "false"
    emulator.connect("user1")
    assert set(emulator.sessions()) == {"user1", "user2"}


def test_a_session_left_up_by_an_interrupted_cut_is_ended_by_the_next_pass(device, emulator):
    _push(device, [_client(1)])
    emulator.connect("user1")
    # A pass that disabled the secret and lost the connection before it ended the session.
    emulator.set_by_hand("/ppp/secret", "user1", disabled="yes")
    assert "user1" in emulator.sessions()
    plan, result = _push(device, [_client(1, cut=True)])
    assert plan.drop_sessions == ("user1",) and result.sessions_dropped == 1
    assert emulator.sessions() == {}


def test_a_refused_object_fails_alone(device, emulator):
    emulator.trap_when = lambda command, attrs: (
        "failure: invalid value for argument remote-address"
        if command == "/ppp/secret/add" and attrs.get("name") == "user2"
        else None
    )
    _plan, result = _push(device, [_client(1), _client(2), _client(3)])
    assert [(s.name, m) for s, m in result.failed] == [
        ("user2", "failure: invalid value for argument remote-address")
    ]
    assert set(emulator.secrets()) == {"user1", "user3"} and len(emulator.queues()) == 3
    emulator.trap_when = None
    plan, result = _push(device, [_client(1), _client(2), _client(3)])
    assert [s.name for s in plan.secret_adds] == ["user2"] and result.failed == []


def test_objects_already_gone_count_as_removed_and_a_batch_falls_back_to_one_by_one(
    device, emulator
):
    _push(device, [_client(n) for n in range(1, 6)])
    emulator.connect("user1")
    with MikrotikDriver(device) as driver:
        state = driver.read_provisioning()
        plan = plan_provisioning(
            secrets=[_client(1, cut=True)[0]],
            queues=[],
            actual_secrets=state.secrets,
            actual_queues=state.queues,
            sessions=state.sessions,
        )
        # Someone removes two of them by hand between our read and our write.
        emulator.remove_named("/ppp/secret", "user3")
        emulator.remove_named("/queue/simple", "client-4")
        start = len(emulator.write_log)
        result = driver.apply_provisioning(plan)
    assert result.failed == [] and result.removed == 4 + 5
    removes = [c for c, _a in emulator.write_log[start:] if c == "/ppp/secret/remove"]
    assert len(removes) == 1 + 4  # the batch of four trapped, then each on its own
    assert set(emulator.secrets()) == {"user1"} and emulator.queues() == {}
    assert emulator.sessions() == {}


def test_a_dropped_connection_mid_push_converges_on_the_next_pass(device, emulator):
    clients = [_client(n) for n in range(300)]
    emulator.drop_after = 250  # login, three prints, then part of the adds
    with pytest.raises(DriverError):
        _push(device, clients)
    assert 0 < len(emulator.secrets()) < 300
    emulator.drop_after = None
    _plan, result = _push(device, clients)
    assert result.failed == []
    assert len(emulator.secrets()) == 300 and len(emulator.queues()) == 300
    assert _push(device, clients)[0].empty


def test_a_router_that_answers_untagged_and_ignores_queries_still_converges(device, emulator):
    emulator.untagged = True
    emulator.ignore_queries = True
    emulator.add_secret("tecnico", "y")
    clients = [_client(1), _client(2, cut=True)]
    _push(device, clients)
    emulator.connect("user1")
    plan, _result = _push(device, [_client(1, cut=True), _client(2, cut=True)])
    assert plan.drop_sessions == ("user1",)
    assert emulator.sessions() == {}
    assert _push(device, [_client(1, cut=True), _client(2, cut=True)])[0].empty
    assert set(emulator.secrets()) == {"tecnico", "user1", "user2"}


@pytest.mark.slow
def test_five_thousand_clients_are_provisioned_in_windows_not_one_by_one(device):
    # A 50 ms round trip: a driver that waited for each reply would need 10,000 of them.
    slow = RouterOSEmulator(username="wispbill", password="s3cret", rtt=0.05).start()
    try:
        device.api_port = slow.port
        clients = [_client(n, cut=n % 10 == 0) for n in range(5_000)]
        _plan, result = _push(device, clients)
        assert result.added == 10_000 and result.failed == []
        assert len(slow.secrets()) == 5_000 and len(slow.queues()) == 5_000
        assert slow.max_in_flight >= 150
        # Ideally 53: login, one pipelined read, 10,000 adds in windows of 200, one session
        # read. A stall of the client mid-window (this process also runs the router) can split
        # a window in two; one change per round trip would be over 10,000.
        assert slow.round_trips < 1 + 1 + 10_000 // 200 + 1 + 20
        writes, trips = slow.writes, slow.round_trips
        again, _result = _push(device, clients)
        assert again.empty and slow.writes == writes
        assert slow.round_trips - trips <= 3  # login and one pipelined read
    finally:
        slow.stop()


def test_dropping_the_session_of_an_enabled_secret_only_makes_its_client_redial(device, emulator):
    _push(device, [_client(1), _client(2)])
    first = emulator.connect("user1")
    emulator.connect("user2")
    with MikrotikDriver(device) as driver:
        result = driver.drop_sessions(["user1", "nobody"])
    assert (result.sessions_dropped, result.failed) == (1, [])
    sessions = emulator.sessions()
    assert set(sessions) == {"user1", "user2"} and sessions["user1"][".id"] != first


def test_a_router_wispbill_does_not_touch_provisions_nothing(device):
    from wispbill.network.drivers.none import NoDriver

    secret, queue = _client(1)
    with NoDriver(device) as driver:
        state = driver.read_provisioning()
        plan = plan_provisioning(
            secrets=[secret], queues=[queue], actual_secrets=state.secrets,
            actual_queues=state.queues, sessions=state.sessions,
        )  # fmt: skip
        result = driver.apply_provisioning(plan)
        assert (result.added, result.failed) == (0, [])
        assert driver.read_inventory(("Moroso",)).secrets == ()
        assert driver.adopt([]).changed == 0 and driver.drop_sessions(["user1"]).failed == []
