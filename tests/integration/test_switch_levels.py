"""The three levels of the seed article: own billing, zone billing, mass actions — and undo."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import ClientFactory, OwnClientFactory, ZoneFactory
from wispbill.audit.models import AuditEvent
from wispbill.automation.services.mass_updates import mass_update_apply, mass_update_undo
from wispbill.clients.models import Client
from wispbill.clients.services.clients import client_update
from wispbill.clients.services.zones import zone_update
from wispbill.core.switches import Switches, Task
from wispbill.network.models import Zone

pytestmark = pytest.mark.django_db


def _switches(obj) -> Switches:
    obj.refresh_from_db()
    return obj.switches


def test_zone_change_leaves_its_own_billing_clients_alone(admin):
    zone = ZoneFactory()
    follower = ClientFactory(zone=zone)
    own = OwnClientFactory(zone=zone)

    zone_update(actor=admin, zone=zone, switches={"cuts": False})

    assert _switches(zone) == Switches(cuts=False)
    assert Client.objects.get(pk=follower.pk).effective_switches.cuts is False
    assert _switches(own) == Switches()
    assert Client.objects.get(pk=own.pk).effective_switches.cuts is True


def test_own_billing_change_affects_only_that_client(admin):
    zone = ZoneFactory()
    own = OwnClientFactory(zone=zone)
    other = OwnClientFactory(zone=zone)

    client_update(actor=admin, client=own, data={}, periodic_tasks={"invoices": False})

    assert _switches(own) == Switches(invoices=False)
    assert _switches(other) == Switches()
    assert _switches(zone) == Switches()


def test_mass_update_of_one_zone_sets_the_zone_and_its_own_billing_clients(admin):
    zone, elsewhere = ZoneFactory(), ZoneFactory()
    own = OwnClientFactory(zone=zone)
    own_elsewhere = OwnClientFactory(zone=elsewhere)
    ClientFactory(zone=zone)

    result = mass_update_apply(actor=admin, zone=zone, values={"notices": False, "cuts": False})

    assert (result.zones_changed, result.clients_changed, result.zone_billed_clients) == (1, 1, 1)
    assert _switches(zone) == Switches(notices=False, cuts=False)
    assert _switches(own) == Switches(notices=False, cuts=False)
    assert _switches(elsewhere) == Switches()
    assert _switches(own_elsewhere) == Switches()


def test_mass_update_of_all_zones_leaves_unchosen_tasks_as_they_are(admin):
    zones = [ZoneFactory(task_invoices=False), ZoneFactory()]
    owns = [OwnClientFactory(zone=zones[0], task_notices=False), OwnClientFactory(zone=zones[1])]

    result = mass_update_apply(actor=admin, all_zones=True, values={"cuts": False})

    assert (result.zones_changed, result.clients_changed) == (2, 2)
    assert _switches(zones[0]) == Switches(invoices=False, cuts=False)
    assert _switches(owns[0]) == Switches(notices=False, cuts=False)


def test_mass_update_records_an_audit_event_per_changed_row(admin):
    zone = ZoneFactory()
    own = OwnClientFactory(zone=zone)
    mass_update_apply(actor=admin, zone=zone, values={"cuts": False})
    event = AuditEvent.objects.get(
        object_type="client", object_id=own.pk, action="periodic_tasks.mass_update"
    )
    assert event.changes == {"cuts": [True, False]}
    assert event.actor_name == admin.username
    assert AuditEvent.objects.filter(
        object_type="zone", object_id=zone.pk, action="periodic_tasks.mass_update"
    ).exists()


def test_undo_restores_each_switch_nobody_changed_since_and_names_the_rest(admin):
    zone = ZoneFactory(task_invoices=False)
    untouched = OwnClientFactory(zone=zone)
    other_switch = OwnClientFactory(zone=zone)
    same_switch = OwnClientFactory(zone=zone)
    mass_update = mass_update_apply(
        actor=admin, zone=zone, values={"invoices": True, "cuts": False}
    )
    # A change to another switch does not block the undo of this row's switches...
    client_update(actor=admin, client=other_switch, data={}, periodic_tasks={"notices": False})
    # ...but a change to a switch the mass update set keeps that switch as it is now.
    client_update(actor=admin, client=same_switch, data={}, periodic_tasks={"cuts": True})
    client_update(actor=admin, client=same_switch, data={}, periodic_tasks={"cuts": False})

    result = mass_update_undo(actor=admin, mass_update=mass_update)

    assert result == {
        "id": mass_update.pk,
        "zones_restored": 1,
        "clients_restored": 2,
        "zones_skipped": 0,
        "clients_skipped": 1,
        "tasks": {"invoices": {"restored": 1, "skipped": 0}, "cuts": {"restored": 3, "skipped": 1}},
        "skipped": [
            {"kind": "client", "id": same_switch.pk, "name": same_switch.name, "fields": ["cuts"]}
        ],
    }
    assert _switches(zone) == Switches(invoices=False, cuts=True)
    assert _switches(untouched) == Switches()
    assert _switches(other_switch) == Switches(notices=False)
    assert _switches(same_switch) == Switches(cuts=False)


def test_undo_only_restores_the_tasks_it_changed_on_each_row(admin):
    zone = ZoneFactory(task_cuts=False)
    mass_update = mass_update_apply(
        actor=admin, zone=zone, values={"invoices": False, "cuts": False}
    )
    mass_update_undo(actor=admin, mass_update=mass_update)
    assert _switches(zone) == Switches(cuts=False)


def test_a_mass_update_cannot_be_undone_twice(admin):
    zone = ZoneFactory()
    own = OwnClientFactory(zone=zone)
    mass_update = mass_update_apply(actor=admin, zone=zone, values={"cuts": False})
    mass_update_undo(actor=admin, mass_update=mass_update)
    client_update(actor=admin, client=own, data={}, periodic_tasks={"cuts": False})
    with pytest.raises(ValidationError):
        mass_update_undo(actor=admin, mass_update=mass_update)
    own.refresh_from_db()
    assert (own.task_cuts, own.task_cuts_rev) == (False, 3)


def test_without_the_permission_a_switch_change_is_refused_with_the_rest_of_the_edit(staff):
    zone = ZoneFactory(name="Zona día 1")
    with pytest.raises(PermissionDenied):
        zone_update(actor=staff, zone=zone, name="Renamed", switches={"cuts": False})
    zone.refresh_from_db()
    assert (zone.name, zone.switches) == ("Zona día 1", Switches())
    assert not AuditEvent.objects.exists()


def test_without_the_permission_other_fields_still_change(staff):
    zone = ZoneFactory()
    zone_update(actor=staff, zone=zone, name="Nuevo nombre", switches={"cuts": True})
    zone.refresh_from_db()
    assert zone.name == "Nuevo nombre"


def test_mass_updates_and_undo_need_the_permission(staff, admin):
    zone = ZoneFactory()
    with pytest.raises(PermissionDenied):
        mass_update_apply(actor=staff, zone=zone, values={"cuts": False})
    mass_update = mass_update_apply(actor=admin, zone=zone, values={"cuts": False})
    with pytest.raises(PermissionDenied):
        mass_update_undo(actor=staff, mass_update=mass_update)
    assert _switches(zone) == Switches(cuts=False)


def test_moving_to_own_billing_keeps_the_switches_that_governed_the_client(staff):
    zone = ZoneFactory(task_cuts=False)
    client = ClientFactory(zone=zone)
    billing = {
        "mode": "prepaid",
        "pay_day": 5,
        "invoice_lead_days": 5,
        "notice_offset_days": 0,
        "grace_days": 3,
    }
    client_update(actor=staff, client=client, data={"billing_type": "own"}, billing=billing)
    assert Client.objects.get(pk=client.pk).effective_switches == Switches(cuts=False)


def test_leaving_own_billing_for_different_switches_needs_the_permission(staff, admin):
    zone = ZoneFactory()
    client = OwnClientFactory(zone=zone, task_cuts=False)
    with pytest.raises(PermissionDenied):
        client_update(actor=staff, client=client, data={"billing_type": "zone"})
    client_update(actor=admin, client=client, data={"billing_type": "zone"})
    client = Client.objects.get(pk=client.pk)
    assert (client.billing_type, client.schedule) == ("zone", None)


def test_the_governing_switch_selector_matches_the_per_client_answer(admin):
    on_zone, off_zone = ZoneFactory(), ZoneFactory(task_cuts=False)
    clients = [
        ClientFactory(zone=on_zone),
        ClientFactory(zone=off_zone),
        OwnClientFactory(zone=off_zone),
        OwnClientFactory(zone=on_zone, task_cuts=False),
    ]
    governed = set(Client.objects.governed_by(Task.CUTS).values_list("pk", flat=True))
    expected = {
        c.pk
        for c in Client.objects.select_related("zone").filter(pk__in=[c.pk for c in clients])
        if c.effective_switches.cuts
    }
    assert governed == expected == {clients[0].pk, clients[2].pk}


def test_zone_row_versions_move_with_every_switch_change(admin):
    zone = ZoneFactory()
    zone_update(actor=admin, zone=zone, switches={"cuts": False})
    mass_update_apply(actor=admin, zone=zone, values={"cuts": True})
    assert Zone.objects.get(pk=zone.pk).task_cuts_rev == 2
