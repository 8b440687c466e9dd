"""Reading an existing network for import, and taking its objects over: the read writes
nothing, and adopted objects are provisioned in place, never duplicated or recreated."""

import pytest

from wispbill.network.drivers.mikrotik import MikrotikDriver
from wispbill.network.inventory import Adoption, Lease, Profile, readable
from wispbill.network.provisioning import Queue, Secret, plan_provisioning
from wispbill.network.reconcile import Entry, plan_changes


def _network(emulator):
    """A router as an ISP built it by hand, before wispbill."""
    emulator.add_profile("plan-10M", "2M/10M 4M/20M 1500k/8M 16/16")
    emulator.add_secret("ana", "pw1", remote_address="172.16.0.2", comment="Ana Díaz")
    emulator.add_secret("beto", "pw2", remote_address="172.16.0.3", profile="plan-10M")
    emulator.add_secret("sin-ip", "pw3", disabled=True)
    emulator.add_queue("Ana Díaz", "172.16.0.2/32", "2M/10M", comment="plan 10M")
    emulator.add_queue("Casa Pérez", "192.168.88.20/32", "512k/2M", burst_limit="1M/4M")
    emulator.add_queue("<pppoe-beto>", "<pppoe-beto>", "2M/10M", dynamic="yes")
    emulator.add_lease("192.168.88.20", "AA:BB:CC:00:00:01", host_name="casa-perez")
    emulator.add_lease("192.168.88.150", "AA:BB:CC:00:00:09", dynamic=True)
    emulator.add_by_hand("Moroso", "172.16.0.3", "debe marzo")
    emulator.add_by_hand("Aviso", "192.168.88.20")
    emulator.add_by_hand("Otra", "10.9.9.9")


def test_the_inventory_holds_everything_an_import_needs_and_writes_nothing(device, emulator):
    _network(emulator)
    with MikrotikDriver(device) as driver:
        inventory = driver.read_inventory(("Moroso", "Aviso"))
    assert emulator.writes == 0
    secrets = [
        (s.name, s.remote_address, s.comment, s.profile, s.disabled) for s in inventory.secrets
    ]
    assert secrets == [
        ("ana", "172.16.0.2", "Ana Díaz", "default", False),
        ("beto", "172.16.0.3", "", "plan-10M", False),
        ("sin-ip", "", "", "default", True),
    ]  # fmt: skip
    assert all(s.id and s.password for s in inventory.secrets)
    assert Profile("plan-10M", "2M/10M 4M/20M 1500k/8M 16/16") in [
        Profile(p.name, p.rate_limit) for p in inventory.profiles
    ]
    # The queue a PPP profile makes for each session is the router's, not the operator's.
    assert [(q.name, q.target, q.max_limit) for q in inventory.queues] == [
        ("Ana Díaz", "172.16.0.2/32", "2000000/10000000"),
        ("Casa Pérez", "192.168.88.20/32", "512000/2000000"),
    ]
    [lease] = inventory.leases
    assert lease == Lease(
        "192.168.88.20", "AA:BB:CC:00:00:01", "casa-perez", "", "dhcp1", False, lease.id
    )
    assert {(e.list, e.address, e.comment) for e in inventory.entries} == {
        ("Moroso", "172.16.0.3", "debe marzo"),
        ("Aviso", "192.168.88.20", ""),
    }


def test_adopted_objects_are_provisioned_in_place(device, emulator):
    _network(emulator)
    with MikrotikDriver(device) as driver:
        inventory = driver.read_inventory(("Moroso", "Aviso"))
        secrets = {s.name: s for s in inventory.secrets}
        queues = {q.name: q for q in inventory.queues}
        cut = next(e for e in inventory.entries if e.address == "172.16.0.3")
        result = driver.adopt(
            [
                Adoption("secret", secrets["ana"].id, "wispbill:client:1"),
                Adoption("queue", queues["Ana Díaz"].id, "wispbill:client:1"),
                Adoption("secret", secrets["beto"].id, "wispbill:client:2"),
                Adoption("address", cut.id, "wispbill:client:2"),
            ]
        )
    assert (result.changed, result.failed) == (4, [])
    assert emulator.secrets()["ana"]["comment"] == "wispbill:client:1"
    assert emulator.queues()["Ana Díaz"]["comment"] == "wispbill:client:1"
    assert emulator.entries("Moroso") == {"172.16.0.3": "wispbill:client:2"}
    assert "comment" not in emulator.secrets()["sin-ip"]  # not adopted: left as it was
    counts = (len(emulator.secrets()), len(emulator.queues()))

    # The first reconcile after the import: the same names, so nothing is added.
    desired_secrets = [
        Secret("ana", "pw1", "172.16.0.2", comment="wispbill:client:1"),
        Secret("beto", "pw2", "172.16.0.3", disabled=True, comment="wispbill:client:2"),
    ]
    desired_queues = [Queue("Ana Díaz", "172.16.0.2/32", "2000k/10000k", "wispbill:client:1")]
    with MikrotikDriver(device) as driver:
        state = driver.read_provisioning()
        plan = plan_provisioning(
            secrets=desired_secrets,
            queues=desired_queues,
            actual_secrets=state.secrets,
            actual_queues=state.queues,
            sessions=state.sessions,
        )
        driver.apply_provisioning(plan)
        entries = driver.read_owned(("Moroso", "Aviso"))
    assert not plan.secret_adds and not plan.queue_adds and not plan.queue_sets
    assert [s.name for s in plan.secret_disables] == ["beto"]
    assert (len(emulator.secrets()), len(emulator.queues())) == counts
    # The adopted cut entry is wispbill's now: when the client pays, it goes.
    assert plan_changes(desired=set(), actual=entries).removes == (
        Entry("Moroso", "172.16.0.3", "wispbill:client:2", cut.id),
    )


def test_text_typed_in_any_client_reads_as_it_was_written(device, emulator):
    emulator.add_secret("peña", "pw", comment="Señora Núñez")  # Winbox on Windows: one byte
    emulator.add_secret("chen", "pw", comment="陈先生 €")  # a UTF-8 client: several bytes
    with MikrotikDriver(device) as driver:
        inventory = driver.read_inventory(())
    assert [(s.name, readable(s.comment)) for s in inventory.secrets] == [
        ("peña", "Señora Núñez"),
        ("chen", "陈先生 €"),
    ]


def test_a_name_a_router_cannot_store_fails_alone(device, emulator):
    with MikrotikDriver(device) as driver:
        plan = plan_provisioning(
            secrets=[
                Secret("陈", "pw", comment="wispbill:client:1"),
                Secret("peña", "pw", comment="wispbill:client:2"),
            ],
            queues=[],
            actual_secrets=[],
            actual_queues=[],
        )
        result = driver.apply_provisioning(plan)
    assert [(s.name, "cannot store" in m) for s, m in result.failed] == [("陈", True)]
    assert set(emulator.secrets()) == {"peña"} and result.added == 1


def test_adopting_an_object_that_is_gone_is_reported(device, emulator):
    sid = emulator.add_secret("ana", "pw")
    with MikrotikDriver(device) as driver:
        result = driver.adopt(
            [
                Adoption("secret", "*99", "wispbill:client:1"),
                Adoption("secret", sid, "wispbill:client:2"),
            ]
        )
    assert result.changed == 1
    assert [(a.id, message) for a, message in result.failed] == [("*99", "no such item")]


def test_an_adoption_must_name_a_menu_and_a_wispbill_comment():
    with pytest.raises(ValueError, match="cannot adopt"):
        Adoption("interface", "*1", "wispbill:client:1")
    with pytest.raises(ValueError, match="must start with 'wispbill:'"):
        Adoption("secret", "*1", "client 1")
