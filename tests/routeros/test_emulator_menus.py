"""The emulator's PPP, queue and DHCP menus, driven by the real librouteros client: what a
router prints, the traps it sends, PPPoE sessions that outlive a disabled secret, clients that
dial again, and the count of writes."""

import librouteros
import pytest
from librouteros.exceptions import TrapError
from librouteros.query import Key, Or

from wispbill.devtools.emulator import RouterOSEmulator


@pytest.fixture
def api(emulator):
    connection = librouteros.connect("127.0.0.1", "wispbill", "s3cret", port=emulator.port)
    yield connection
    connection.close()


def _print(api, menu: str) -> list[dict]:
    return list(api.path(menu))


# -- /ppp/secret ------------------------------------------------------------------------------


def test_a_secret_prints_as_routeros_prints_it(api):
    secrets = api.path("/ppp/secret")
    sid = secrets.add(
        name="ana", password="pw", service="pppoe", **{"remote-address": "172.16.0.9"}
    )
    [row] = _print(api, "/ppp/secret")
    assert row[".id"] == sid and row["name"] == "ana" and row["password"] == "pw"
    assert row["remote-address"] == "172.16.0.9" and row["profile"] == "default"
    # Booleans go over the wire as true/false, which librouteros turns into bool.
    assert row["disabled"] is False
    raw = list(api.rawCmd("/ppp/secret/print", "=.proplist=name,disabled"))
    assert raw == [{"name": "ana", "disabled": False}]


def test_a_duplicate_secret_name_is_refused_with_routeros_words(api):
    secrets = api.path("/ppp/secret")
    secrets.add(name="ana", password="pw")
    with pytest.raises(TrapError, match="secret with the same name already exists"):
        secrets.add(name="ana", password="other")
    bob = secrets.add(name="bob", password="pw")
    with pytest.raises(TrapError, match="secret with the same name already exists"):
        secrets.update(**{".id": bob, "name": "ana"})
    assert sorted(r["name"] for r in _print(api, "/ppp/secret")) == ["ana", "bob"]


def test_an_unknown_id_is_no_such_item(api):
    secrets = api.path("/ppp/secret")
    for call in (
        lambda: secrets.update(**{".id": "*99", "password": "x"}),
        lambda: secrets.remove("*99"),
        lambda: tuple(secrets("disable", **{".id": "*99"})),
    ):
        with pytest.raises(TrapError, match="no such item"):
            call()


def test_set_enable_disable_and_remove(api, emulator):
    secrets = api.path("/ppp/secret")
    sid = secrets.add(name="ana", password="pw")
    secrets.update(**{".id": sid, "password": "new", "disabled": True})
    assert emulator.secrets()["ana"]["password"] == "new"
    assert emulator.secrets()["ana"]["disabled"] == "true"
    tuple(secrets("enable", **{".id": sid}))
    assert emulator.secrets()["ana"]["disabled"] == "false"
    tuple(secrets("disable", **{".id": sid}))
    assert emulator.secrets()["ana"]["disabled"] == "true"
    secrets.remove(sid)
    assert emulator.secrets() == {}


def test_queries_and_property_lists(api, emulator):
    emulator.add_secret("ana", "pw", comment="wispbill:client:1")
    emulator.add_secret("bob", "pw", disabled=True)
    emulator.add_secret("cid", "pw", comment="torre")
    secrets = api.path("/ppp/secret")
    names = lambda query: sorted(r["name"] for r in query)  # noqa: E731
    assert names(secrets.select(Key("name")).where(Key("name") == "bob")) == ["bob"]
    assert names(secrets.select(Key("name")).where(Key("disabled") == True)) == ["bob"]  # noqa: E712
    assert names(secrets.select(Key("name")).where(Key("name") != "bob")) == ["ana", "cid"]
    either = Or(Key("name") == "ana", Key("name") == "cid")
    assert names(secrets.select(Key("name")).where(either)) == ["ana", "cid"]
    # `?comment` asks for rows that have one, `?-comment` for rows that do not.
    assert names(api.rawCmd("/ppp/secret/print", "?comment")) == ["ana", "cid"]
    assert names(api.rawCmd("/ppp/secret/print", "?-comment")) == ["bob"]
    assert names(api.rawCmd("/ppp/secret/print", "?disabled=yes")) == ["bob"]
    [row] = secrets.select(Key("name"), Key("comment")).where(Key("name") == "ana")
    assert row == {"name": "ana", "comment": "wispbill:client:1"}


# -- /ppp/active --------------------------------------------------------------------------------


def test_a_client_dials_in_with_its_remote_address(api, emulator):
    emulator.add_secret("ana", "pw", remote_address="172.16.0.9")
    sid = emulator.connect("ana")
    assert emulator.connect("ana") == sid  # already online: the same session
    [row] = _print(api, "/ppp/active")
    assert (row[".id"], row["name"], row["address"], row["service"]) == (
        sid,
        "ana",
        "172.16.0.9",
        "pppoe",
    )
    assert row["caller-id"] and row["uptime"].endswith("s")
    with pytest.raises(TrapError, match="no such command"):
        api.path("/ppp/active").add(name="bob")


def test_disabling_a_secret_leaves_its_session_up_until_it_is_removed(api, emulator):
    sid = emulator.add_secret("ana", "pw", remote_address="172.16.0.9")
    session = emulator.connect("ana")
    tuple(api.path("/ppp/secret")("disable", **{".id": sid}))
    # The most common bug in the field: the client is still online.
    assert emulator.sessions()["ana"][".id"] == session
    assert [r["name"] for r in _print(api, "/ppp/active")] == ["ana"]
    api.path("/ppp/active").remove(session)
    assert _print(api, "/ppp/active") == [] and emulator.sessions() == {}
    with pytest.raises(ValueError, match="disabled"):
        emulator.connect("ana")


def test_a_session_removed_while_its_secret_is_enabled_comes_back(api, emulator):
    emulator.add_secret("ana", "pw", remote_address="172.16.0.9")
    first = emulator.connect("ana")
    api.path("/ppp/active").remove(first)
    # The client dials again before the router handles its next command.
    [again] = _print(api, "/ppp/active")
    assert again["name"] == "ana" and again[".id"] != first
    assert again["address"] == "172.16.0.9"
    emulator.redial = False
    api.path("/ppp/active").remove(again[".id"])
    assert _print(api, "/ppp/active") == []


def test_a_removed_secret_cannot_dial_again(api, emulator):
    sid = emulator.add_secret("ana", "pw")
    session = emulator.connect("ana")
    api.path("/ppp/secret").remove(sid)
    assert "ana" in emulator.sessions()  # removing the secret does not hang up either
    api.path("/ppp/active").remove(session)
    assert emulator.sessions() == {}
    with pytest.raises(ValueError, match="no PPP secret"):
        emulator.connect("ana")


# -- /queue/simple ------------------------------------------------------------------------------


def test_a_queue_keeps_rates_in_bps_and_targets_with_their_mask(api, emulator):
    queues = api.path("/queue/simple")
    queues.add(name="ana", target="172.16.0.9", **{"max-limit": "2M/10M", "comment": "x"})
    queues.add(name="bob", target="172.16.0.10/32", **{"max-limit": "512k/1.5M"})
    rows = _print(api, "/queue/simple")
    assert [r["name"] for r in rows] == ["ana", "bob"]  # RouterOS keeps them in order
    assert rows[0]["target"] == "172.16.0.9/32" and rows[0]["max-limit"] == "2000000/10000000"
    assert rows[1]["max-limit"] == "512000/1500000"
    assert rows[0]["burst-limit"] == "0/0" and rows[0]["burst-time"] == "0s/0s"
    assert rows[0]["disabled"] is False and rows[0]["dynamic"] is False
    [found] = queues.select(Key("name")).where(Key("max-limit") == "2M/10M")
    assert found == {"name": "ana"}


def test_queue_traps_and_names(api, emulator):
    queues = api.path("/queue/simple")
    queues.add(name="ana", target="172.16.0.9/32")
    with pytest.raises(TrapError, match="already have such name"):
        queues.add(name="ana", target="172.16.0.10/32")
    with pytest.raises(TrapError, match="invalid value for argument max-limit"):
        queues.add(name="bob", target="172.16.0.10/32", **{"max-limit": "fast"})
    with pytest.raises(TrapError, match="no such item"):
        queues.update(**{".id": "*99", "max-limit": "1M/1M"})
    unnamed = queues.add(target="172.16.0.11/32")
    assert [r["name"] for r in _print(api, "/queue/simple") if r[".id"] == unnamed] == ["queue1"]


def test_queue_bursts_set_and_disable(api, emulator):
    qid = emulator.add_queue(
        "ana",
        "172.16.0.9/32",
        "10M/10M",
        burst_limit="20M/20M",
        burst_threshold="8M/8M",
        burst_time="10/10",
        limit_at="5M/5M",
    )
    row = emulator.queues()["ana"]
    assert (row["burst-limit"], row["burst-threshold"], row["burst-time"], row["limit-at"]) == (
        "20000000/20000000",
        "8000000/8000000",
        "10s/10s",
        "5000000/5000000",
    )
    queues = api.path("/queue/simple")
    queues.update(**{".id": qid, "max-limit": "4M/20M"})
    tuple(queues("disable", **{".id": qid}))
    row = emulator.queues()["ana"]
    assert row["max-limit"] == "4000000/20000000" and row["disabled"] == "true"


# -- /ip/dhcp-server/lease ----------------------------------------------------------------------


def test_static_and_dynamic_leases(api, emulator):
    emulator.add_lease("192.168.88.20", "AA:BB:CC:00:00:01", host_name="casa-ana", comment="Ana")
    emulator.add_lease("192.168.88.200", "AA:BB:CC:00:00:02", dynamic=True)
    api.path("/ip/dhcp-server/lease").add(
        address="192.168.88.21", **{"mac-address": "AA:BB:CC:00:00:03"}
    )
    rows = _print(api, "/ip/dhcp-server/lease")
    assert [r["dynamic"] for r in rows] == [False, True, False]
    static = list(api.rawCmd("/ip/dhcp-server/lease/print", "?dynamic=false"))
    assert [r["address"] for r in static] == ["192.168.88.20", "192.168.88.21"]
    assert static[0]["host-name"] == "casa-ana" and static[0]["mac-address"] == "AA:BB:CC:00:00:01"


# -- the write counter --------------------------------------------------------------------------


def test_every_write_is_counted_and_reads_are_not(api, emulator):
    emulator.add_secret("ana", "pw")  # by hand: not a write over the API
    for menu in ("/ppp/secret", "/ppp/active", "/queue/simple", "/ip/dhcp-server/lease"):
        _print(api, menu)
    list(api.rawCmd("/ip/firewall/address-list/print", "?list=Moroso"))
    assert emulator.writes == 0 and emulator.write_log == []
    secrets = api.path("/ppp/secret")
    bob = secrets.add(name="bob", password="pw")
    with pytest.raises(TrapError):
        secrets.add(name="bob", password="pw")  # refused, but it was an attempt to write
    tuple(secrets("disable", **{".id": bob}))
    api.path("/ip/firewall/address-list").add(list="Moroso", address="10.0.0.1")
    assert emulator.writes == 4
    assert [command for command, _attrs in emulator.write_log] == [
        "/ppp/secret/add",
        "/ppp/secret/add",
        "/ppp/secret/disable",
        "/ip/firewall/address-list/add",
    ]
    assert emulator.write_log[-1][1] == {"list": "Moroso", "address": "10.0.0.1"}


def test_round_trips_show_whether_a_client_waited_for_each_reply():
    router = RouterOSEmulator(username="u", password="p").start()
    try:
        api = librouteros.connect("127.0.0.1", "u", "p", port=router.port)
        before = router.round_trips
        for n in range(5):
            api.path("/ppp/secret").add(name=f"user{n}", password="pw")
        assert router.round_trips - before == 5 and router.max_in_flight == 1
        api.close()
    finally:
        router.stop()
