"""History reads like a story, and the panel says who, before and after: the audit log with
names, labels, money and links, filtered by a client's or router's name; "run now" asks
with who it will act on and names them after; mass updates name who they changed."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client as Browser

from tests.factories import (
    ClientFactory,
    OwnClientFactory,
    PlanFactory,
    RouterFactory,
    ZoneFactory,
)
from wispbill.automation.models import ManualRun
from wispbill.automation.services import mass_updates
from wispbill.billing.debt import client_cut
from wispbill.billing.services.payments import payment_register
from wispbill.clients.services.clients import client_update
from wispbill.clients.services.zones import zone_update

pytestmark = pytest.mark.django_db


def _login(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


def _text(html: str) -> str:
    """The page's words, without its tags (the inline ones joined to their text)."""
    inline = re.sub(r"</?(b|a|span)\b[^>]*>", "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", inline).split())


def test_the_audit_log_names_things_in_the_readers_language(admin):
    north = ZoneFactory(name="Zona día 1", router__name="Torre Norte")
    south = ZoneFactory(name="Zona día 15", router__name="Cerro Azul")
    ana = ClientFactory(name="Ana Pérez", zone=south, plan=PlanFactory(name="5 Mb"))
    client_update(actor=admin, client=ana, data={"zone": north, "plan": PlanFactory(name="10 Mb")})
    client_cut(actor=admin, client=ana)
    payment_register(
        actor=admin,
        client=ana,
        amount=Decimal("1500.00"),
        activate_service=True,
        confirm_large=True,
    )
    page = _login(admin).get(f"/clients/{ana.pk}/").content.decode()
    words = _text(page)
    assert "Zona: Cerro Azul · Zona día 15 → Torre Norte · Zona día 1" in words
    assert "Plan: 5 Mb → 10 Mb" in words
    assert "Estado: Activo → Suspendido" in words
    assert "Pago: $1,500.00" in words and "Saldo a favor: $1,500.00" in words
    assert f'href="/zones/{north.pk}/"' in page
    english = _login(admin)
    english.cookies["django_language"] = "en"
    words = _text(english.get(f"/clients/{ana.pk}/").content.decode())
    assert "State: Active → Suspended" in words and "Zone: Cerro Azul · Zona día 15" in words


def test_the_audit_log_filters_by_a_clients_or_routers_name(admin):
    zone = ZoneFactory(name="Zona día 1", router__name="Torre Norte")
    ana = ClientFactory(name="Ana Pérez", zone=zone)
    client_cut(actor=admin, client=ana)
    zone_update(actor=admin, zone=zone, switches={"notices": False})
    client_cut(actor=None, client=ClientFactory(name="Beto Ruiz"))
    browser = _login(admin)
    by_system = _text(browser.get("/audit/?actor=Sistema").content.decode())
    assert "Cliente: Beto Ruiz" in by_system and "Ana" not in by_system
    by_client = _text(browser.get("/audit/?q=ana").content.decode())
    assert "Cliente: Ana Pérez" in by_client and "Beto" not in by_client
    by_router = _text(browser.get("/audit/?q=norte").content.decode())
    assert "Zona: Torre Norte · Zona día 1" in by_router
    assert "Avisos en pantalla automáticos: Activado → Desactivado" in by_router
    assert "Ana" not in by_router


def test_run_now_asks_with_who_it_will_act_on_then_names_who_it_did(
    admin, staff, django_capture_on_commit_callbacks
):
    zone = ZoneFactory(pay_day=1, invoice_lead_days=7, notice_offset_days=2, grace_days=4)
    ClientFactory(zone=zone, name="Raúl Torres", start_date=date(2020, 1, 1))
    assert _login(staff).get(f"/periodic-tasks/run/?zone={zone.pk}").status_code == 403
    browser = _login(admin)
    confirm = _text(browser.get(f"/periodic-tasks/run/?zone={zone.pk}").content.decode())
    assert "¿Ejecutar ahora las tareas periódicas?" in confirm
    assert "Facturados: 1 Raúl Torres" in confirm
    assert not ManualRun.objects.exists()  # asking changed nothing
    unconfirmed = browser.post("/periodic-tasks/run/", {"zone": zone.pk})
    assert unconfirmed.status_code == 200 and not ManualRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = browser.post("/periodic-tasks/run/", {"zone": zone.pk, "confirm": "yes"})
    run = ManualRun.objects.get()
    result = browser.get(done["Location"]).content.decode()
    assert "Terminado." in result and "Facturados: 1" in _text(result)
    assert f'href="/clients/{run.summary["acted"]["invoices"][0]}/">Raúl Torres</a>' in result


def test_run_now_for_one_client_with_own_billing(admin, django_capture_on_commit_callbacks):
    client = OwnClientFactory(name="Lucía Reyes", start_date=date(2020, 1, 1))
    browser = _login(admin)
    assert "Lucía Reyes" in browser.get(f"/periodic-tasks/run/?client={client.pk}").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/periodic-tasks/run/", {"client": client.pk, "confirm": "yes"})
    assert ManualRun.objects.get().status == "done"


def test_a_mass_update_names_the_clients_it_changed_and_the_undo_what_it_left(admin):
    zone = ZoneFactory(name="Zona día 1", router__name="Torre Norte")
    rosa = OwnClientFactory(zone=zone, name="Rosa Flores")
    OwnClientFactory(zone=zone, name="Hugo Vega")
    browser = _login(admin)
    form = {"zone": zone.pk, "invoices": "keep", "notices": "keep", "cuts": "off"}
    preview = browser.post("/mass-actions/periodic-tasks/", form).content.decode()
    assert 'preview-zones">1</b><span>zona cambiará<' in preview
    assert 'preview-clients">2</b><span>clientes con facturación propia cambiarán<' in preview
    done = browser.post("/mass-actions/periodic-tasks/", {**form, "confirm": "yes"}, follow=True)
    page = done.content.decode()
    assert "1 zona se actualizó; 2 clientes con facturación propia se actualizaron" in page
    assert f'href="/clients/{rosa.pk}/">Rosa Flores</a>' in page
    client_update(actor=admin, client=rosa, data={}, periodic_tasks={"cuts": True})
    mass_update = mass_updates.MassUpdate.objects.get()
    undone = browser.post(f"/mass-actions/history/{mass_update.pk}/undo/", follow=True)
    page = undone.content.decode()
    skipped = page[page.index('data-testid="undo-skipped"') : page.index("changed-clients")]
    assert f'href="/clients/{rosa.pk}/">Rosa Flores</a>' in skipped and "Hugo" not in skipped
    assert "Cortes automáticos" in _text(skipped)


def test_moments_and_router_codes_in_the_history_read_as_people_write_them(admin):
    from django.utils import timezone, translation

    from wispbill.audit.models import AuditEvent
    from wispbill.panel.audit import audit_rows

    router = RouterFactory(name="Torre Sur")
    AuditEvent.objects.create(
        at=timezone.now(),
        actor_name="boss",
        action="router.updated",
        object_type="router",
        object_id=router.pk,
        object_repr="Torre Sur",
        changes={
            "pppoe_cut": ["address_list", "disable_secret"],
            "portal_link_expires_at": [None, "2026-12-30T18:24:27+00:00"],
        },
    )
    with translation.override("es"):
        [row] = audit_rows(AuditEvent.objects.filter(object_id=router.pk, object_type="router"))
        shown = {c.label: [v.text for v in c.after] for c in row.changes}
    assert shown["Enlace a la página del cliente válido hasta"] == ["30/12/2026 12:24"]
    assert "disable_secret" not in str(shown)
