"""Router enforcement through the real driver and the real librouteros client, against the
emulator: the lists hold exactly the right IPs, and faults converge."""

from datetime import date
from decimal import Decimal

import pytest

from tests.factories import ClientFactory, PlanFactory, ZoneFactory
from wispbill.clients.enforcement import clients_changed, router_desired_state, router_reconcile
from wispbill.clients.models import Client
from wispbill.clients.selectors import client_sync_status
from wispbill.core.clock import business_day
from wispbill.devtools.emulator import RouterOSEmulator
from wispbill.network.drivers import DriverError
from wispbill.network.models import Router
from wispbill.network.reconcile import Entry, client_comment, plan_changes
from wispbill.network.sync import router_push, router_test_connection

pytestmark = pytest.mark.django_db


def _clients(router):
    zone = ZoneFactory(router=router)
    return {
        "cut": ClientFactory(zone=zone, ip="10.0.0.1", state="suspended"),
        "warned": ClientFactory(zone=zone, ip="10.0.0.2", notice_active=True),
        "fine": ClientFactory(zone=zone, ip="10.0.0.3"),
        "cut_and_warned": ClientFactory(
            zone=zone, ip="10.0.0.4", state="suspended", notice_active=True
        ),
        "gone": ClientFactory(zone=zone, ip="10.0.0.5", state="cancelled", notice_active=True),
    }


def test_lists_hold_exactly_the_suspended_and_the_warned(mikrotik, emulator):
    clients = _clients(mikrotik)
    result = router_reconcile(mikrotik)
    assert result["added"] == 3 and result["failed"] == []
    assert set(emulator.entries("Moroso")) == {"10.0.0.1", "10.0.0.4"}
    assert set(emulator.entries("Aviso")) == {"10.0.0.2"}
    assert emulator.entries("Moroso")["10.0.0.1"] == f"wispbill:client:{clients['cut'].pk}"
    mikrotik.refresh_from_db()
    assert (mikrotik.sync_status, mikrotik.last_error) == ("ok", "")
    assert mikrotik.last_sync_at is not None
    again = router_reconcile(mikrotik)
    assert (again["added"], again["removed"]) == (0, 0)


def test_entries_without_the_prefix_survive_and_strays_go(mikrotik, emulator):
    _clients(mikrotik)
    emulator.add_by_hand("Moroso", "192.168.88.10", "puesto a mano")
    emulator.add_by_hand("Moroso", "10.0.0.3", "")  # a paying client, listed by hand
    emulator.add_by_hand("Aviso", "10.9.9.9", "wispbill:client:999")  # ours, no longer wanted
    router_reconcile(mikrotik)
    assert set(emulator.entries("Moroso")) == {"10.0.0.1", "10.0.0.4", "192.168.88.10", "10.0.0.3"}
    assert set(emulator.entries("Aviso")) == {"10.0.0.2"}


def test_moving_from_notice_to_cut_adds_before_it_removes(mikrotik, emulator):
    zone = ZoneFactory(router=mikrotik)
    client = ClientFactory(zone=zone, ip="10.0.1.1", notice_active=True)
    router_reconcile(mikrotik)
    client.state = "suspended"
    client.save()
    start = len(emulator.commands)
    router_reconcile(mikrotik)
    changes = [c for c in emulator.commands[start:] if not c.endswith("/print")]
    assert changes == ["/ip/firewall/address-list/add", "/ip/firewall/address-list/remove"]
    assert set(emulator.entries("Moroso")) == {"10.0.1.1"} and not emulator.entries("Aviso")


def test_a_router_that_is_down_is_marked_and_converges_when_back(mikrotik, emulator):
    clients = _clients(mikrotik)
    emulator.go_down()
    with pytest.raises(DriverError, match="no se pudo conectar"):
        router_reconcile(mikrotik)
    mikrotik.refresh_from_db()
    assert mikrotik.sync_status == "error" and "no se pudo conectar" in mikrotik.last_error
    assert mikrotik.needs_sync and mikrotik.sync_failures == 1
    cut = clients["cut"].__class__.objects.select_related("zone__router").get(pk=clients["cut"].pk)
    assert client_sync_status(cut) == "error"
    emulator.come_back()
    router_reconcile(mikrotik)
    mikrotik.refresh_from_db()
    assert (mikrotik.sync_status, mikrotik.sync_failures, mikrotik.needs_sync) == ("ok", 0, False)
    assert set(emulator.entries("Moroso")) == {"10.0.0.1", "10.0.0.4"}


def test_a_connection_dropped_mid_reconcile_converges_on_the_next(mikrotik, emulator):
    zone = ZoneFactory(router=mikrotik)
    for n in range(300):
        ClientFactory(zone=zone, ip=f"10.1.{n // 200}.{n % 200 + 1}", state="suspended")
    emulator.drop_after = 60  # login, two prints, then part of the adds
    with pytest.raises(DriverError):
        router_reconcile(mikrotik)
    assert 0 < len(emulator.entries("Moroso")) < 300
    emulator.drop_after = None
    router_reconcile(mikrotik)
    assert len(emulator.entries("Moroso")) == 300


def test_a_trap_on_one_entry_fails_that_entry_only(mikrotik, emulator):
    clients = _clients(mikrotik)
    emulator.trap_when = lambda command, attrs: (
        "failure: invalid value for argument address"
        if command.endswith("/add") and attrs.get("address") == "10.0.0.4"
        else None
    )
    result = router_reconcile(mikrotik)
    assert result["failed"] == [
        {"address": "10.0.0.4", "error": "failure: invalid value for argument address"}
    ]
    assert set(emulator.entries("Moroso")) == {"10.0.0.1"}
    mikrotik.refresh_from_db()
    assert mikrotik.sync_status == "error" and mikrotik.failed_addresses == ["10.0.0.4"]
    model = clients["cut"].__class__
    assert client_sync_status(model.objects.get(pk=clients["cut_and_warned"].pk)) == "error"
    assert client_sync_status(model.objects.get(pk=clients["cut"].pk)) == "ok"
    emulator.trap_when = None
    router_reconcile(mikrotik)
    mikrotik.refresh_from_db()
    assert mikrotik.sync_status == "ok" and mikrotik.failed_addresses == []


def test_a_router_edited_by_hand_converges(mikrotik, emulator):
    _clients(mikrotik)
    router_reconcile(mikrotik)
    emulator.remove_by_hand("Moroso", "10.0.0.1")
    emulator.add_by_hand("Aviso", "10.0.0.3", "wispbill:client:1")
    router_reconcile(mikrotik)
    assert set(emulator.entries("Moroso")) == {"10.0.0.1", "10.0.0.4"}
    assert set(emulator.entries("Aviso")) == {"10.0.0.2"}


def test_already_there_and_already_gone_count_as_success(mikrotik, emulator):
    zone = ZoneFactory(router=mikrotik)
    ClientFactory(zone=zone, ip="10.0.2.1", state="suspended")
    emulator.trap_when = lambda command, attrs: (
        "failure: already have such entry" if command.endswith("/add") else None
    )
    result = router_reconcile(mikrotik)
    assert result["failed"] == [] and result["added"] == 1
    mikrotik.refresh_from_db()
    assert mikrotik.sync_status == "ok"


def test_removals_are_batched_and_changes_pipelined(mikrotik):
    # A 200 ms round trip: a client that waited for each reply would have one in flight, and a
    # pipelining one fills its window well within it even on a busy machine (with 50 ms, the
    # suite's two passes side by side sometimes left the sender too slow to have 150 out).
    slow = RouterOSEmulator(username="wispbill", password="s3cret", rtt=0.2).start()
    try:
        mikrotik.api_port = slow.port
        mikrotik.save()
        zone = ZoneFactory(router=mikrotik)
        clients = [
            ClientFactory(zone=zone, ip=f"10.2.0.{n + 1}", state="suspended") for n in range(250)
        ]
        router_reconcile(mikrotik)
        assert slow.max_in_flight >= 150
        for client in clients:
            client.state = "active"
            client.save()
        start = len(slow.commands)
        router_reconcile(mikrotik)
        removes = [c for c in slow.commands[start:] if c.endswith("/remove")]
        assert len(removes) == 3  # 250 ids in chunks of 100
        assert slow.entries("Moroso") == {}
    finally:
        slow.stop()


def test_wrong_password_and_tls(mikrotik, emulator):
    mikrotik.password = "wrong"
    mikrotik.save()
    with pytest.raises(DriverError, match="invalid user name or password"):
        router_reconcile(mikrotik)
    secure = RouterOSEmulator(username="wispbill", password="s3cret", tls=True).start()
    try:
        router = Router.objects.get(pk=mikrotik.pk)
        router.password = "s3cret"
        router.use_tls = True
        router.api_port = secure.port
        router.save()
        ClientFactory(zone=ZoneFactory(router=router), ip="10.3.0.1", state="suspended")
        router_reconcile(router)
        assert set(secure.entries("Moroso")) == {"10.3.0.1"}
        assert router_test_connection(router)["identity"] == "emulated-router"
    finally:
        secure.stop()


def test_the_diff_is_pure():
    desired = {
        Entry("M", "10.0.0.1", client_comment(1)),
        Entry("A", "10.0.0.2", client_comment(2)),
    }
    actual = [
        Entry("M", "10.0.0.1", "wispbill:client:1", "*1"),
        Entry("M", "10.0.0.1", "wispbill:client:1", "*2"),
        Entry("A", "10.0.0.7", "manual", "*3"),
    ]
    plan = plan_changes(desired=desired, actual=actual)
    assert plan.adds == (Entry("A", "10.0.0.2", "wispbill:client:2"),)
    assert plan.removes == (Entry("M", "10.0.0.1", "wispbill:client:1", "*2"),)


@pytest.mark.django_db(transaction=True)
@pytest.mark.instant("2026-08-20 12:00")  # the days below are simulated from 25 August on
def test_cuts_payments_and_promises_reach_the_router_after_commit(mikrotik, emulator):
    from wispbill.automation.services.runs import periodic_tasks_run
    from wispbill.billing.debt import client_promise
    from wispbill.billing.services.payments import payment_register

    zone = ZoneFactory(
        router=mikrotik, pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4
    )
    plan = PlanFactory(price=Decimal("399.00"))
    payer = ClientFactory(zone=zone, ip="10.4.0.1", start_date=date(2026, 8, 15), plan=plan)
    promiser = ClientFactory(
        zone=zone,
        ip="10.4.0.2",
        start_date=date(2026, 8, 15),
        plan=plan,
        auto_activate_on_payment=False,
    )
    periodic_tasks_run(actor=None, force=True, day=date(2026, 8, 25))
    periodic_tasks_run(actor=None, force=True, day=date(2026, 9, 3))
    assert set(emulator.entries("Aviso")) == {"10.4.0.1", "10.4.0.2"}
    periodic_tasks_run(actor=None, force=True, day=date(2026, 9, 5))
    assert set(emulator.entries("Moroso")) == {"10.4.0.1", "10.4.0.2"}
    assert emulator.entries("Aviso") == {}
    payment_register(actor=None, client=payer, amount=Decimal("399.00"))
    client_promise(actor=None, client=promiser, until=business_day())
    assert emulator.entries("Moroso") == {}
    assert set(emulator.entries("Aviso")) == {"10.4.0.2"}
    mikrotik.refresh_from_db()
    assert mikrotik.sync_status == "ok"


def test_a_router_that_answers_untagged_and_ignores_queries_still_converges(mikrotik, emulator):
    emulator.untagged = True
    emulator.ignore_queries = True
    emulator.add_by_hand("Otra", "10.0.0.1", "wispbill:client:1")  # another list: not ours
    _clients(mikrotik)
    router_reconcile(mikrotik)
    router_reconcile(mikrotik)
    assert set(emulator.entries("Moroso")) == {"10.0.0.1", "10.0.0.4"}
    assert set(emulator.entries("Aviso")) == {"10.0.0.2"}
    assert set(emulator.entries("Otra")) == {"10.0.0.1"}


def test_a_change_during_a_queued_push_gets_its_own_push(mikrotik, emulator):
    """Two queued pushes (claimed_only, as the worker runs them): a payment that commits while
    the first one works is pushed by the second, never left on the cut list by a push that
    claimed its change but read the clients before it."""
    clients = _clients(mikrotik)
    router_reconcile(mikrotik)
    Router.objects.filter(pk=mikrotik.pk).update(needs_sync=True)
    seen = []

    def clients_read_while_a_payment_commits():
        seen.append(Router.objects.get(pk=mikrotik.pk).needs_sync)
        desired = router_desired_state(mikrotik)
        # The cut client pays right after the first push read the clients.
        Client.objects.filter(pk=clients["cut"].pk).update(state="active")
        clients_changed([clients["cut"].pk])
        return desired

    router_push(mikrotik, desired=clients_read_while_a_payment_commits, claimed_only=True)
    assert seen == [False]  # the clients were read after the claim
    assert "10.0.0.1" in emulator.entries("Moroso")
    second = router_reconcile(mikrotik, claimed_only=True)
    assert not second["skipped"]
    assert "10.0.0.1" not in emulator.entries("Moroso")
