"""Reduced speed instead of a cut (docs/routers.md): what the cut does is part of the schedule of
zones and own-billing clients, guarded like the switches, set and undone by mass updates
field by field; the throttle is ended by whatever ends a cut."""

from datetime import date

import pytest
import time_machine
from django.test import Client as Browser

from tests.factories import ClientFactory, OwnClientFactory, ZoneFactory, first_invoice_next_cycle
from wispbill.automation.services.mass_updates import mass_update_apply, mass_update_undo
from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing import debt
from wispbill.billing.models import Invoice
from wispbill.billing.services.invoices import invoice_cancel
from wispbill.billing.services.payments import payment_register
from wispbill.clients.services.zones import zone_update
from wispbill.messaging.models import Kind, Message

pytestmark = pytest.mark.django_db
SCHEDULE = {
    "mode": "prepaid",
    "pay_day": 1,
    "invoice_lead_days": 7,
    "notice_offset_days": 2,
    "grace_days": 4,
}


def _late(zone=None, **more):
    """A client whose August invoice is overdue on 5 September 2026."""
    client = ClientFactory(zone=zone or ZoneFactory(), start_date=date(2026, 1, 1), **more)
    periodic_tasks_run(actor=None, day=date(2026, 8, 25), force=True)
    return client


def _cut_day():
    with time_machine.travel(date(2026, 9, 6), tick=False):
        return periodic_tasks_run(actor=None, day=date(2026, 9, 5))


def test_the_cut_task_throttles_where_the_zone_says_so_and_suspends_elsewhere():
    slow = _late(ZoneFactory(cut_action="throttle", throttle_kbps=256), email="a@example.com")
    cut = _late(email="b@example.com")
    summary = _cut_day()
    slow.refresh_from_db()
    cut.refresh_from_db()
    assert (slow.state, cut.state) == ("throttled", "suspended")
    assert (summary.clients_cut, summary.clients_throttled) == (2, 1)
    # Once per invoice: the next day's run does nothing more.
    with time_machine.travel(date(2026, 9, 7), tick=False):
        again = periodic_tasks_run(actor=None, day=date(2026, 9, 6))
    assert again.clients_cut == 0
    # The cut message says which it was.
    slow_message = Message.objects.get(client=slow, kind=Kind.CUT)
    cut_message = Message.objects.get(client=cut, kind=Kind.CUT)
    assert "redujo la velocidad" in slow_message.body.lower()
    assert "suspend" not in slow_message.body.lower()
    assert "suspendido" in cut_message.body.lower()


def test_an_own_billing_client_follows_its_own_cut_action():
    zone = ZoneFactory(cut_action="suspend")
    client = OwnClientFactory(
        zone=zone, cut_action="throttle", start_date=date(2026, 1, 1), pay_day=1, grace_days=4
    )
    periodic_tasks_run(actor=None, day=date(2026, 8, 27), force=True)
    with time_machine.travel(date(2026, 9, 6), tick=False):
        periodic_tasks_run(actor=None, day=date(2026, 9, 5))
    client.refresh_from_db()
    assert client.state == "throttled"


def test_the_cuts_switch_governs_the_throttle_too():
    zone = ZoneFactory(cut_action="throttle", task_cuts=False)
    client = _late(zone)
    _cut_day()
    client.refresh_from_db()
    assert client.state == "active"


@pytest.mark.parametrize("ending", ["payment", "promise", "reactivate", "cancel"])
def test_whatever_ends_a_cut_ends_a_throttle(admin, ending):
    client = _late(ZoneFactory(cut_action="throttle"))
    _cut_day()
    client.refresh_from_db()
    assert client.state == "throttled"
    invoice = Invoice.objects.get(client=client)
    with time_machine.travel(date(2026, 9, 7), tick=False):
        if ending == "payment":
            payment_register(actor=admin, client=client, amount=invoice.total)
        elif ending == "promise":
            debt.client_promise(actor=admin, client=client, until=date(2026, 9, 12))
        elif ending == "reactivate":
            debt.client_reactivate(actor=admin, client=client)
        else:
            invoice_cancel(actor=admin, invoice=invoice)
    client.refresh_from_db()
    assert client.state == "active"
    # A throttle is not a cut for billing after a cut: nothing was missed, nothing prorated.
    assert client.reactivated_on is None


def test_a_payment_registered_only_keeps_the_reduced_speed(admin):
    client = _late(ZoneFactory(cut_action="throttle"))
    _cut_day()
    invoice = Invoice.objects.get(client=client)
    with time_machine.travel(date(2026, 9, 7), tick=False):
        payment_register(actor=admin, client=client, amount=invoice.total, activate_service=False)
        periodic_tasks_run(actor=None, day=date(2026, 9, 7), force=True)
    client.refresh_from_db()
    assert (client.state, client.suspension_reason) == ("throttled", "held")


def test_throttled_clients_are_still_invoiced():
    client = _late(ZoneFactory(cut_action="throttle"))
    _cut_day()
    periodic_tasks_run(actor=None, day=date(2026, 9, 25), force=True)
    assert Invoice.objects.filter(client=client).count() == 2


def test_changing_what_the_cut_does_needs_the_switch_permission(staff, toggler):
    zone = ZoneFactory()
    with pytest.raises(Exception, match="periodic tasks|tareas periódicas"):
        zone_update(actor=staff, zone=zone, schedule={**SCHEDULE, "cut_action": "throttle"})
    zone.refresh_from_db()
    assert zone.cut_action == "suspend"
    zone_update(actor=staff, zone=zone, schedule={**SCHEDULE, "throttle_kbps": 256})
    zone_update(actor=toggler, zone=zone, schedule={**SCHEDULE, "cut_action": "throttle"})
    zone.refresh_from_db()
    assert (zone.cut_action, zone.throttle_kbps) == ("throttle", 256)


def test_the_api_keeps_what_the_cut_does_when_billing_leaves_it_out(staff_api, toggler_api):
    zone = ZoneFactory(cut_action="throttle", throttle_kbps=1024)
    response = staff_api.patch(
        f"/api/v1/zones/{zone.pk}/", {"billing": {**SCHEDULE, "grace_days": 6}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["billing"]["cut_action"] == "throttle"
    assert response.json()["billing"]["throttle_kbps"] == 1024
    refused = staff_api.patch(
        f"/api/v1/zones/{zone.pk}/",
        {"billing": {**SCHEDULE, "cut_action": "suspend"}},
        format="json",
    )
    assert refused.status_code == 403
    client = OwnClientFactory(zone=zone)
    refused = staff_api.patch(
        f"/api/v1/clients/{client.pk}/",
        {"billing": {**SCHEDULE, "cut_action": "throttle"}},
        format="json",
    )
    assert refused.status_code == 403
    allowed = toggler_api.patch(
        f"/api/v1/clients/{client.pk}/",
        {"billing": {**SCHEDULE, "cut_action": "throttle", "throttle_kbps": 128}},
        format="json",
    )
    assert allowed.status_code == 200 and allowed.json()["billing"]["throttle_kbps"] == 128


def test_mass_update_sets_cut_action_and_speed_and_undoes_them_field_by_field(admin):
    zones = ZoneFactory.create_batch(2)
    own = OwnClientFactory(zone=zones[0])
    mass_update = mass_update_apply(
        actor=admin, all_zones=True, values={"cut_action": "throttle", "throttle_kbps": 256}
    )
    assert (mass_update.zones_changed, mass_update.clients_changed) == (2, 1)
    for row in (*zones, own):
        row.refresh_from_db()
        assert (row.cut_action, row.throttle_kbps) == ("throttle", 256)
    # Someone changes the first zone's speed since: the undo leaves that field alone.
    zone_update(actor=admin, zone=zones[0], schedule={**SCHEDULE, "throttle_kbps": 1024})
    result = mass_update_undo(actor=admin, mass_update=mass_update)
    assert result["tasks"]["cut_action"] == {"restored": 3, "skipped": 0}
    assert result["tasks"]["throttle_kbps"] == {"restored": 2, "skipped": 1}
    zones[0].refresh_from_db()
    zones[1].refresh_from_db()
    assert (zones[0].cut_action, zones[0].throttle_kbps) == ("suspend", 1024)
    assert (zones[1].cut_action, zones[1].throttle_kbps) == ("suspend", 512)


def test_the_mass_update_api_takes_cut_action_and_refuses_bad_values(admin_api, staff_api):
    zone = ZoneFactory()
    bad = admin_api.post(
        "/api/v1/periodic-tasks/mass-update/",
        {"zone": zone.pk, "cut_action": "slow", "confirm": True},
        format="json",
    )
    assert bad.status_code == 400 and "cut_action" in bad.json()
    refused = staff_api.post(
        "/api/v1/periodic-tasks/mass-update/",
        {"zone": zone.pk, "cut_action": "throttle", "confirm": True},
        format="json",
    )
    assert refused.status_code == 403
    preview = admin_api.post(
        "/api/v1/periodic-tasks/mass-update/",
        {"zone": zone.pk, "cut_action": "throttle"},
        format="json",
    )
    assert preview.status_code == 400 and preview.json()["preview"]["zones"] == 1
    done = admin_api.post(
        "/api/v1/periodic-tasks/mass-update/",
        {"zone": zone.pk, "cut_action": "throttle", "throttle_kbps": 300, "confirm": True},
        format="json",
    )
    assert done.status_code == 200 and done.json()["zones_changed"] == 1
    zone.refresh_from_db()
    assert (zone.cut_action, zone.throttle_kbps) == ("throttle", 300)
    undo = admin_api.post(f"/api/v1/periodic-tasks/mass-updates/{done.json()['id']}/undo/")
    assert undo.status_code == 200
    zone.refresh_from_db()
    assert (zone.cut_action, zone.throttle_kbps) == ("suspend", 512)


def test_the_mass_update_page_confirms_then_applies_cut_action(admin):
    zone = ZoneFactory()
    browser = Browser()
    browser.force_login(admin)
    form = {"zone": zone.pk, "cut_action": "throttle", "throttle_kbps": "256"}
    form.update(invoices="keep", notices="keep", cuts="keep")
    confirm = browser.post("/mass-actions/periodic-tasks/", form)
    assert "Reducir la velocidad" in confirm.content.decode()
    zone.refresh_from_db()
    assert zone.cut_action == "suspend"
    browser.post("/mass-actions/periodic-tasks/", {**form, "confirm": "yes"})
    zone.refresh_from_db()
    assert (zone.cut_action, zone.throttle_kbps) == ("throttle", 256)


def test_the_forecast_shows_who_will_have_reduced_speed(admin):
    first_invoice_next_cycle()  # this story bills from the first whole cycle
    slow = _late(ZoneFactory(cut_action="throttle"), name="Lenta Pérez")
    cut = _late(name="Cortado López")
    browser = Browser()
    browser.force_login(admin)
    with time_machine.travel(date(2026, 9, 3), tick=False):
        page = browser.get("/periodic-tasks/forecast/").content.decode()
    cut_day = page.split('data-day="2026-09-05"')[1].split('data-day="2026-09-06"')[0]
    reduced = cut_day.split("Velocidad reducida: 1")[1].split("</ul>")[0]
    assert slow.name in reduced and cut.name not in reduced
    assert cut.name in cut_day.split("Cortados: 1")[1].split("</ul>")[0]
