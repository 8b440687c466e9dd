"""docs/contract.md's permission table, tried on every write: each write operation of the API's
OpenAPI schema and each panel URL, as an admin, as staff holding exactly what the request
needs, as staff holding every permission but one it needs, with an invalid API key and
logged out. A refused request changes nothing: the whole database is compared before and
after. An endpoint without a row here fails the test, so a new one cannot ship unguarded."""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client as Browser
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.dump import database_dump
from tests.factories import ClientFactory, OwnClientFactory, PlanFactory, RouterFactory, ZoneFactory
from tests.panel_forms import client_form_data, form_data
from wispbill.automation.models import ManualRun
from wispbill.automation.services.mass_updates import mass_update_apply
from wispbill.billing.models import Charge
from wispbill.billing.services.invoices import invoice_create_for_cycle
from wispbill.billing.services.payments import payment_register
from wispbill.cfdi.models import CfdiDocument, CfdiKind, CfdiStatus
from wispbill.core.clock import today
from wispbill.messaging.models import Message
from wispbill.panel.forms.clients import PlanForm
from wispbill.panel.forms.network import RouterForm, ZoneForm, zone_initial
from wispbill.payments.models import BankLine
from wispbill.staff.permissions import (
    CODENAMES,
    CUT_AND_REACTIVATE,
    MANAGE_CLIENTS,
    MANAGE_INVOICES,
    MANAGE_PLANS,
    MANAGE_ROUTERS,
    REGISTER_PAYMENTS,
    RUN_PERIODIC_TASKS,
    TOGGLE_PERIODIC_TASKS,
)
from wispbill.staff.services import api_key_create

pytestmark = pytest.mark.django_db
User = get_user_model()
ADMIN = "admin"  # admins only
ANY = "any"  # any one of the codenames that follow
CLOSED_PORT = 9  # nothing listens: a router action allowed through fails fast with a 502


@pytest.fixture
def admin(db):
    """An admin without a password: hashing one costs more than a row of the matrix."""
    return User.objects.create(username="boss", is_staff=True, is_superuser=True)


# --- a small ISP ---------------------------------------------------------------------------


@dataclass
class Isp:
    managed: object
    unmanaged: object
    zone: object
    empty_zone: object
    plan: object
    active: object  # zone billing, no invoice yet
    suspended: object
    own: object  # own billing
    noticed: object
    invoice: object
    mass_update: object
    message: object
    other: object  # a staff member for the staff pages
    key: object
    extra: dict = field(default_factory=dict)


def build_isp(admin) -> Isp:
    managed = RouterFactory(
        name="Torre",
        host="127.0.0.1",
        api_port=CLOSED_PORT,
        username="wispbill",
        enforcement="mikrotik",
    )
    unmanaged = RouterFactory(name="Oficina")
    zone = ZoneFactory(router=managed, name="Centro")
    empty_zone = ZoneFactory(router=unmanaged, name="Vacía")
    plan = PlanFactory(name="10 Mb")
    active = ClientFactory(zone=zone, plan=plan, name="Ana")
    suspended = ClientFactory(zone=zone, plan=plan, name="Beto", state="suspended")
    own = OwnClientFactory(zone=zone, plan=plan, name="Carla", email="carla@example.com")
    noticed = ClientFactory(zone=zone, plan=plan, name="Dora", notice_active=True)
    invoice = invoice_create_for_cycle(actor=None, client=own)
    payment_register(actor=None, client=noticed, amount=Decimal("5.00"))
    mass_update = mass_update_apply(actor=admin, zone=empty_zone, values={"cuts": False})
    message = Message.objects.create(
        client=own,
        channel="email",
        kind="invoice",
        invoice=invoice,
        recipient="carla@example.com",
        language="es",
        status="sent",
    )
    other = User.objects.create(username="otro", is_staff=True)
    key, _plain = api_key_create(user=other)
    bank_line = BankLine.objects.create(line=2, date=today(), amount=Decimal("50.00"))
    return Isp(
        managed, unmanaged, zone, empty_zone, plan, active, suspended, own, noticed, invoice,
        mass_update, message, other, key, extra={"bank_line": bank_line},
    )  # fmt: skip


# --- what each write needs, and a cheap valid request ------------------------------------------


def _schedule() -> dict:
    return {
        "mode": "prepaid",
        "pay_day": 1,
        "invoice_lead_days": 7,
        "notice_offset_days": 2,
        "grace_days": 4,
    }


def _client_body(isp, **extra) -> dict:
    return {"name": "Nuevo", "ip": "10.9.9.9", "zone": isp.zone.pk, "plan": isp.plan.pk, **extra}


# (method, schema path) -> [(case, needed, id of the path, body)]; `needed` is a tuple of
# codenames (all needed), (ANY, codenames...) or ADMIN.
API = {
    ("POST", "/api/v1/plans/"): [
        ("create", (MANAGE_PLANS,), None, lambda i: {"name": "Nuevo", "price": "1.00",
                                                     "download_kbps": 1, "upload_kbps": 1}),
    ],
    ("PUT", "/api/v1/plans/{id}/"): [
        ("change", (MANAGE_PLANS,), lambda i: i.plan.pk, lambda i: {
            "name": "Otro", "price": "2.00", "download_kbps": 1, "upload_kbps": 1}),
    ],
    ("PATCH", "/api/v1/plans/{id}/"): [
        ("price 0", (MANAGE_PLANS,), lambda i: i.plan.pk, lambda i: {"price": "0.00"}),
    ],
    ("POST", "/api/v1/routers/"): [
        ("create", (MANAGE_ROUTERS,), None, lambda i: {"name": "Nuevo"}),
    ],
    ("PUT", "/api/v1/routers/{id}/"): [
        ("change", (MANAGE_ROUTERS,), lambda i: i.unmanaged.pk, lambda i: {"name": "Otro"}),
    ],
    ("PATCH", "/api/v1/routers/{id}/"): [
        ("rename", (MANAGE_ROUTERS,), lambda i: i.unmanaged.pk, lambda i: {"name": "Otro"}),
        ("enforcement none", (MANAGE_ROUTERS, TOGGLE_PERIODIC_TASKS), lambda i: i.managed.pk,
         lambda i: {"enforcement": "none"}),
    ],
    ("POST", "/api/v1/routers/{id}/import/"): [
        ("preview", (MANAGE_ROUTERS,), lambda i: i.managed.pk,
         lambda i: {"zone": i.zone.pk, "confirm": False}),
    ],
    ("POST", "/api/v1/routers/{id}/reconcile/"): [
        ("reconcile", (MANAGE_ROUTERS,), lambda i: i.managed.pk, None),
    ],
    ("POST", "/api/v1/routers/{id}/test-connection/"): [
        ("test", (MANAGE_ROUTERS,), lambda i: i.managed.pk, None),
    ],
    ("POST", "/api/v1/routers/{id}/radius-confirm/"): [
        ("radius confirm", (MANAGE_ROUTERS,), lambda i: i.managed.pk, None),
    ],
    ("POST", "/api/v1/zones/"): [
        ("create", (MANAGE_ROUTERS,), None,
         lambda i: {"router": i.unmanaged.pk, "name": "Nueva", "billing": _schedule()}),
    ],
    ("PUT", "/api/v1/zones/{id}/"): [
        ("change", (MANAGE_ROUTERS,), lambda i: i.empty_zone.pk,
         lambda i: {"router": i.unmanaged.pk, "name": "Otra", "billing": _schedule()}),
    ],
    ("PATCH", "/api/v1/zones/{id}/"): [
        ("rename", (MANAGE_ROUTERS,), lambda i: i.zone.pk, lambda i: {"name": "Otra"}),
        ("cut action", (TOGGLE_PERIODIC_TASKS,), lambda i: i.zone.pk,
         lambda i: {"billing": {**_schedule(), "cut_action": "throttle"}}),
        ("switch", (TOGGLE_PERIODIC_TASKS,), lambda i: i.zone.pk,
         lambda i: {"periodic_tasks": {"cuts": False}}),
    ],
    ("POST", "/api/v1/clients/"): [
        ("create", (MANAGE_CLIENTS,), None, _client_body),
        ("create free", (MANAGE_CLIENTS, TOGGLE_PERIODIC_TASKS), None,
         lambda i: _client_body(i, state="free")),
    ],
    ("PUT", "/api/v1/clients/{id}/"): [
        ("change", (MANAGE_CLIENTS,), lambda i: i.active.pk,
         lambda i: _client_body(i, ip=i.active.ip)),
    ],
    ("PATCH", "/api/v1/clients/{id}/"): [
        ("rename", (MANAGE_CLIENTS,), lambda i: i.active.pk, lambda i: {"name": "Otro"}),
        ("state free", (MANAGE_CLIENTS, TOGGLE_PERIODIC_TASKS), lambda i: i.active.pk,
         lambda i: {"state": "free"}),
        ("state suspended", (MANAGE_CLIENTS, CUT_AND_REACTIVATE), lambda i: i.active.pk,
         lambda i: {"state": "suspended"}),
        ("own cut action", (TOGGLE_PERIODIC_TASKS,), lambda i: i.own.pk,
         lambda i: {"billing": {**_schedule(), "mode": "postpaid", "pay_day": 10,
                                "invoice_lead_days": 5, "notice_offset_days": 1,
                                "grace_days": 3, "cut_action": "throttle"}}),
    ],
    ("POST", "/api/v1/clients/{id}/cut/"): [
        ("cut", (CUT_AND_REACTIVATE,), lambda i: i.active.pk, None),
    ],
    ("POST", "/api/v1/clients/{id}/reactivate/"): [
        ("reactivate", (CUT_AND_REACTIVATE,), lambda i: i.suspended.pk, None),
    ],
    ("POST", "/api/v1/clients/{id}/show-notice/"): [
        ("show", (CUT_AND_REACTIVATE,), lambda i: i.active.pk, None),
    ],
    ("POST", "/api/v1/clients/{id}/clear-notice/"): [
        ("clear", (CUT_AND_REACTIVATE,), lambda i: i.noticed.pk, None),
    ],
    ("POST", "/api/v1/clients/{id}/promise/"): [
        ("promise", (REGISTER_PAYMENTS,), lambda i: i.suspended.pk,
         lambda i: {"until": (today() + timedelta(days=3)).isoformat()}),
    ],
    ("POST", "/api/v1/clients/{id}/create-invoice/"): [
        ("invoice", (MANAGE_INVOICES,), lambda i: i.active.pk, lambda i: {}),
    ],
    ("POST", "/api/v1/clients/{id}/portal-link/"): [
        ("link", (ANY, MANAGE_CLIENTS, REGISTER_PAYMENTS), lambda i: i.own.pk, None),
    ],
    # The gateways are off here: allowed users get a 400 naming the provider, nothing more.
    ("POST", "/api/v1/clients/{id}/payment-link/"): [
        ("pay link", (REGISTER_PAYMENTS,), lambda i: i.active.pk, lambda i: {"provider": "stripe"}),
    ],
    ("POST", "/api/v1/clients/{id}/portal-link/revoke/"): [
        ("revoke links", (ANY, MANAGE_CLIENTS, REGISTER_PAYMENTS), lambda i: i.own.pk, None),
    ],
    ("POST", "/api/v1/charges/"): [
        ("charge", (MANAGE_INVOICES,), None,
         lambda i: {"client": i.active.pk, "description": "Antena", "amount": "100.00"}),
    ],
    ("DELETE", "/api/v1/charges/{id}/"): [
        ("delete", (MANAGE_INVOICES,), lambda i: _charge(i).pk, None),
    ],
    ("POST", "/api/v1/invoices/{id}/cancel/"): [
        ("cancel", (MANAGE_INVOICES,), lambda i: i.invoice.pk, None),
    ],
    ("POST", "/api/v1/cfdi/{id}/replace/"): [
        ("replace", (MANAGE_INVOICES,), lambda i: _cfdi_stamped(i).pk, None),
    ],
    ("POST", "/api/v1/cfdi/{id}/retry/"): [
        ("retry", (MANAGE_INVOICES,), lambda i: _cfdi_in_error(i).pk, None),
    ],
    ("POST", "/api/v1/payments/"): [
        ("pay", (REGISTER_PAYMENTS,), None, lambda i: {"client": i.active.pk, "amount": "10.00"}),
    ],
    # The system's payment: voiding it is no one's own payment of today.
    ("POST", "/api/v1/payments/{id}/void/"): [
        ("void", (MANAGE_INVOICES,), lambda i: i.noticed.payments.first().pk,
         lambda i: {"reason": "Duplicado"}),
    ],
    ("POST", "/api/v1/bank-statements/"): [
        # A JSON body carries no file: allowed users get a 400, the others a 403 first.
        ("statement", (REGISTER_PAYMENTS,), None, lambda i: {"format": "generic"}),
    ],
    ("POST", "/api/v1/bank-lines/{id}/assign/"): [
        ("assign", (REGISTER_PAYMENTS,), lambda i: i.extra["bank_line"].pk,
         lambda i: {"client": i.active.pk}),
    ],
    ("POST", "/api/v1/periodic-tasks/run/"): [
        ("run", (RUN_PERIODIC_TASKS,), None, lambda i: {"dry_run": True}),
    ],
    ("POST", "/api/v1/periodic-tasks/mass-update/"): [
        ("mass", (TOGGLE_PERIODIC_TASKS,), None,
         lambda i: {"zone": i.zone.pk, "cuts": False, "confirm": True}),
    ],
    ("POST", "/api/v1/periodic-tasks/mass-updates/{id}/undo/"): [
        ("undo", (TOGGLE_PERIODIC_TASKS,), lambda i: i.mass_update.pk, None),
    ],
    ("PATCH", "/api/v1/company/"): [
        ("company", ADMIN, None, lambda i: {"name": "Otra"}),
    ],
    ("POST", "/api/v1/company/csd/"): [
        # A JSON body carries no files: admins get a 400, the others a 403 first.
        ("csd", ADMIN, None, lambda i: {"password": "x"}),
    ],
    ("POST", "/api/v1/staff/"): [
        ("create", ADMIN, None,
         lambda i: {"username": "nueva", "password": "una-clave-larga-9"}),
    ],
    ("PUT", "/api/v1/staff/{id}/"): [
        ("change", ADMIN, lambda i: i.other.pk, lambda i: {"username": "otro"}),
    ],
    ("PATCH", "/api/v1/staff/{id}/"): [
        ("grant", ADMIN, lambda i: i.other.pk, lambda i: {"permissions": list(CODENAMES)}),
    ],
}  # fmt: skip


def _zone_form(zone, **changes) -> dict:
    form = ZoneForm(initial=zone_initial(zone), prefix=f"zone-{zone.pk}", can_toggle=True)
    return {**form_data(form), **{f"zone-{zone.pk}-{k}": v for k, v in changes.items()}}


def _router_form(router, **changes) -> dict:
    return {**form_data(RouterForm(instance=router)), **changes}


def _plan_form(plan, **changes) -> dict:
    return {**form_data(PlanForm(instance=plan)), **changes}


def _charge(isp):
    return Charge.objects.create(
        client=isp.active, description="Antena", amount=Decimal("100.00"), actor_name="boss"
    )


def _cfdi_in_error(isp):
    """The invoice's CFDI, refused by the PAC (one per invoice: made once per ISP)."""
    if "cfdi" not in isp.extra:
        isp.extra["cfdi"] = CfdiDocument.objects.create(
            kind=CfdiKind.INVOICE,
            status=CfdiStatus.ERROR,
            invoice=isp.invoice,
            error_code="CFDI40147",
        )
    return isp.extra["cfdi"]


def _cfdi_stamped(isp):
    """The invoice's CFDI, stamped (its client has no fiscal data here: a replacement is
    refused for that, after the permission)."""
    return CfdiDocument.objects.create(
        kind=CfdiKind.INVOICE,
        status=CfdiStatus.STAMPED,
        method="PUE",
        invoice=isp.invoice,
        uuid="6F9A3C1E-2B4D-4E8F-9A1B-3C5D7E9F1A2B",
    )


def _new_client(isp) -> dict:
    return client_form_data(isp.active) | {"name": "Nuevo", "ip": "10.9.9.9"}


# panel URL name -> [(case, needed, URL kwargs, form data)]
PANEL = {
    "client-new": [("create", (MANAGE_CLIENTS,), None, _new_client)],
    "client-import": [("check a file", (MANAGE_CLIENTS,), None, lambda i: {})],
    "client-edit": [
        ("rename", (MANAGE_CLIENTS,), lambda i: {"pk": i.active.pk},
         lambda i: client_form_data(i.active, name="Otro")),
        ("state free", (MANAGE_CLIENTS, TOGGLE_PERIODIC_TASKS), lambda i: {"pk": i.active.pk},
         lambda i: client_form_data(i.active, state="free")),
        ("switch", (TOGGLE_PERIODIC_TASKS,), lambda i: {"pk": i.own.pk},
         lambda i: client_form_data(i.own, task_cuts="0")),
    ],
    "client-action": [
        ("cut", (CUT_AND_REACTIVATE,), lambda i: {"pk": i.active.pk, "action": "cut"}, None),
        ("reactivate", (CUT_AND_REACTIVATE,),
         lambda i: {"pk": i.suspended.pk, "action": "reactivate"}, None),
        ("show-notice", (CUT_AND_REACTIVATE,),
         lambda i: {"pk": i.active.pk, "action": "show-notice"}, None),
        ("clear-notice", (CUT_AND_REACTIVATE,),
         lambda i: {"pk": i.noticed.pk, "action": "clear-notice"}, None),
        ("promise", (REGISTER_PAYMENTS,), lambda i: {"pk": i.suspended.pk, "action": "promise"},
         lambda i: {"until": (today() + timedelta(days=3)).isoformat()}),
        ("create-invoice", (MANAGE_INVOICES,),
         lambda i: {"pk": i.active.pk, "action": "create-invoice"}, lambda i: {}),
        ("add-charge", (MANAGE_INVOICES,), lambda i: {"pk": i.active.pk, "action": "add-charge"},
         lambda i: {"description": "Antena", "amount": "100.00", "when": "next"}),
        ("delete-charge", (MANAGE_INVOICES,),
         lambda i: {"pk": i.active.pk, "action": "delete-charge"},
         lambda i: {"charge": _charge(i).pk}),
    ],
    "payment-create": [
        ("pay", (REGISTER_PAYMENTS,), lambda i: {"client_pk": i.active.pk},
         lambda i: {"amount": "10.00", "method": "cash", "activate": "1"}),
    ],
    "bank-statement": [("check a file", (REGISTER_PAYMENTS,), None, lambda i: {})],
    "bank-line-assign": [
        ("assign", (REGISTER_PAYMENTS,), lambda i: {"pk": i.extra["bank_line"].pk},
         lambda i: {"client": i.active.pk, "confirm": "yes"}),
    ],
    "invoice-cancel": [("cancel", (MANAGE_INVOICES,), lambda i: {"pk": i.invoice.pk}, None)],
    "payment-void": [
        ("void", (MANAGE_INVOICES,), lambda i: {"pk": i.noticed.payments.first().pk},
         lambda i: {"reason": "Duplicado"}),
    ],
    "message-resend": [("resend", (MANAGE_CLIENTS,), lambda i: {"pk": i.message.pk}, None)],
    "client-channels": [
        ("opt out", (MANAGE_CLIENTS,), lambda i: {"pk": i.own.pk}, lambda i: {"email": "0"}),
    ],
    "client-portal-link": [
        ("link", (ANY, MANAGE_CLIENTS, REGISTER_PAYMENTS), lambda i: {"pk": i.own.pk}, None),
    ],
    # The gateways are off here: allowed users are told so, and nothing changes.
    "client-payment-link": [
        ("pay link", (REGISTER_PAYMENTS,), lambda i: {"pk": i.active.pk},
         lambda i: {"provider": "stripe"}),
    ],
    "client-portal-links-revoke": [
        ("revoke", (ANY, MANAGE_CLIENTS, REGISTER_PAYMENTS), lambda i: {"pk": i.own.pk}, None),
    ],
    "run-now": [
        ("run", (RUN_PERIODIC_TASKS,), None, lambda i: {"zone": i.zone.pk, "confirm": "yes"}),
    ],
    "company-settings": [("settings", ADMIN, None, lambda i: {})],
    "cfdi-csd": [("upload", ADMIN, None, lambda i: {})],
    "cfdi-retry": [("retry", (MANAGE_INVOICES,), lambda i: {"pk": _cfdi_in_error(i).pk}, None)],
    "cfdi-replace": [
        ("replace", (MANAGE_INVOICES,), lambda i: {"pk": _cfdi_stamped(i).pk}, None),
    ],
    "plan-new": [("create", (MANAGE_PLANS,), None, lambda i: _plan_form(i.plan, name="Nuevo"))],
    "plan-edit": [
        ("price 0", (MANAGE_PLANS,), lambda i: {"pk": i.plan.pk},
         lambda i: _plan_form(i.plan, price="0.00")),
    ],
    "router-new": [
        ("create", (MANAGE_ROUTERS,), None, lambda i: _router_form(i.unmanaged, name="Nuevo")),
    ],
    "router-edit": [
        ("rename", (MANAGE_ROUTERS,), lambda i: {"pk": i.unmanaged.pk},
         lambda i: _router_form(i.unmanaged, name="Otro")),
        ("enforcement none", (MANAGE_ROUTERS, TOGGLE_PERIODIC_TASKS),
         lambda i: {"pk": i.managed.pk}, lambda i: _router_form(i.managed, enforcement="none")),
    ],
    "router-sync": [("sync", (MANAGE_ROUTERS,), lambda i: {"pk": i.managed.pk}, None)],
    "router-test": [("test", (MANAGE_ROUTERS,), lambda i: {"pk": i.managed.pk}, None)],
    "router-radius": [("radius confirm", (MANAGE_ROUTERS,), lambda i: {"pk": i.managed.pk}, None)],
    "router-rules": [("install", (MANAGE_ROUTERS,), lambda i: {"pk": i.managed.pk}, None)],
    "router-import": [
        ("preview", (MANAGE_ROUTERS,), lambda i: {"pk": i.managed.pk},
         lambda i: {"zone": i.zone.pk}),
    ],
    "zone-new": [
        ("create", (MANAGE_ROUTERS,), lambda i: {"router_pk": i.unmanaged.pk},
         lambda i: {k.replace(f"zone-{i.zone.pk}-", "new-"): v
                    for k, v in _zone_form(i.zone, name="Nueva").items()}),
    ],
    "zone-update": [
        ("rename", (MANAGE_ROUTERS,), lambda i: {"pk": i.zone.pk},
         lambda i: _zone_form(i.zone, name="Otra")),
        ("cut action", (TOGGLE_PERIODIC_TASKS,), lambda i: {"pk": i.zone.pk},
         lambda i: _zone_form(i.zone, cut_action="throttle")),
    ],
    "zone-delete": [("delete", (MANAGE_ROUTERS,), lambda i: {"pk": i.empty_zone.pk}, None)],
    "mass-periodic-tasks": [
        ("mass", (TOGGLE_PERIODIC_TASKS,), None, lambda i: {
            "zone": i.zone.pk, "invoices": "keep", "notices": "keep", "cuts": "off",
            "confirm": "yes"}),
    ],
    "mass-update-undo": [("undo", (TOGGLE_PERIODIC_TASKS,), lambda i: {"pk": i.mass_update.pk},
                          None)],
    "staff-new": [("create", ADMIN, None, lambda i: {})],
    "staff-edit": [("change", ADMIN, lambda i: {"pk": i.other.pk}, lambda i: {})],
    "staff-unlock": [("unlock", ADMIN, lambda i: {"pk": i.other.pk}, None)],
    "api-key-new": [("create", ADMIN, lambda i: {"pk": i.other.pk}, None)],
    "api-key-revoke": [
        ("revoke", ADMIN, lambda i: {"pk": i.other.pk, "key_pk": i.key.pk}, None),
    ],
}  # fmt: skip
# Panel pages that only read: a POST to them changes nothing either (checked below).
READ_ONLY = {
    "home": None,
    "client-list": None,
    "client-import-template": lambda i: {"extension": "csv"},
    "client-notice-preview": lambda i: {"pk": i.active.pk},
    "client-invoice-preview": lambda i: {"pk": i.active.pk},
    "invoice-list": None,
    "invoice-page": lambda i: {"pk": i.invoice.pk},
    "invoice-pdf": lambda i: {"pk": i.invoice.pk},
    "receipt-page": lambda i: {"pk": i.noticed.payments.first().pk},
    "receipt-pdf": lambda i: {"pk": i.noticed.payments.first().pk},
    "message-list": None,
    "payment-list": None,
    "cash-report": None,
    "bank-lines": None,
    "periodic-tasks": None,
    "run-detail": lambda i: {"pk": i.extra["run"].pk},
    "run-status": lambda i: {"pk": i.extra["run"].pk},
    "forecast": None,
    "plan-list": None,
    "router-list": None,
    "mass-update-list": None,
    "mass-update-detail": lambda i: {"pk": i.mass_update.pk},
    "staff-list": None,
    "audit-list": None,
    "cfdi-list": None,
    # Not stamped: a 404, which is still a page that only reads.
    "cfdi-xml": lambda i: {"pk": _cfdi_in_error(i).pk},
    "cfdi-pdf": lambda i: {"pk": _cfdi_in_error(i).pk},
}


# --- the two enumerations: a new endpoint without a row fails ----------------------------------


def _api_writes() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in ("POST", "PUT", "PATCH", "DELETE")
    }


def _panel_names() -> set[str]:
    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace == "panel" and pattern.name:
                yield pattern.name

    return set(walk(get_resolver().url_patterns))


def test_every_api_write_has_a_declared_expectation():
    assert _api_writes() == set(API)


def test_every_panel_url_is_declared_as_a_write_or_a_page_that_only_reads():
    assert not set(PANEL) & set(READ_ONLY)
    assert _panel_names() == set(PANEL) | set(READ_ONLY)


# --- the matrix -----------------------------------------------------------------------------


def _user(name: str, codenames) -> object:
    user = User.objects.create(username=name, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="staff", codename__in=codenames)
    )
    return user


def _roles(needed) -> tuple[list, list]:
    """(allowed, refused) as (label, codenames held); admin apart."""
    if needed == ADMIN:
        return [], [("staff with every permission", set(CODENAMES))]
    if needed[0] == ANY:
        options = needed[1:]
        allowed = [(f"only {c}", {c}) for c in options]
        return allowed, [("all but " + "/".join(options), set(CODENAMES) - set(options))]
    allowed = [("exactly " + "+".join(needed), set(needed))]
    refused = [(f"all but {c}", set(CODENAMES) - {c}) for c in needed]
    return allowed, refused


def _attempt(call):
    """A request whose effects are rolled back, so the next one starts from the same data."""
    with transaction.atomic():
        response = call()
        transaction.set_rollback(True)
    return response


def _api_client(user=None, key: str | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        _key, key = api_key_create(user=user)
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def _api_cases():
    for (method, path), cases in API.items():
        for case, needed, pk, body in cases:
            yield pytest.param(method, path, needed, pk, body, id=f"{method} {path} {case}")


@pytest.mark.parametrize(("method", "path", "needed", "pk", "body"), list(_api_cases()))
def test_api_write(admin, method, path, needed, pk, body):
    isp = build_isp(admin)
    url = path.replace("{id}", str(pk(isp))) if pk else path
    data = body(isp) if body else None

    def send(client):
        return _attempt(lambda: getattr(client, method.lower())(url, data, format="json"))

    allowed, refused = _roles(needed)
    clients = [("admin", _api_client(admin), True)]
    clients += [(label, _api_client(_user(label, held)), True) for label, held in allowed]
    clients += [(label, _api_client(_user(label, held)), False) for label, held in refused]
    for _label, client, _ok in clients:
        client.get("/api/v1/company/")  # the key's first use is written once, before the dump
    before = database_dump()
    for label, client, ok in clients:
        response = send(client)
        if ok:
            assert response.status_code not in (401, 403), (label, response.content)
            assert response.status_code < 500 or response.status_code == 502, (label, response)
        else:
            assert response.status_code == 403, (label, response.status_code, response.content)
            assert database_dump() == before, label
    assert send(_api_client(key="wb_00000000_not-a-key")).status_code == 401
    assert send(APIClient()).status_code == 401
    assert database_dump() == before


REFUSAL = re.compile(
    r"No tiene el permiso|You do not have the permission|administrador|administrator", re.I
)


def _refused(response) -> bool:
    if response.status_code == 403:
        return True
    return any(
        REFUSAL.search(str(m))
        for m in get_messages(response.wsgi_request)
        if m.level_tag == "error"
    )


def _browser(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


def _panel_cases():
    for name, cases in PANEL.items():
        for case, needed, kwargs, data in cases:
            yield pytest.param(name, needed, kwargs, data, id=f"{name} {case}")


def _url(name, kwargs, isp) -> str:
    return reverse(f"panel:{name}", kwargs=kwargs(isp) if kwargs else None)


@pytest.mark.parametrize(("name", "needed", "kwargs", "data"), list(_panel_cases()))
def test_panel_write(admin, name, needed, kwargs, data):
    isp = build_isp(admin)
    url = _url(name, kwargs, isp)
    body = data(isp) if data else {}
    allowed, refused = _roles(needed)
    browsers = [("admin", _browser(admin), True)]
    browsers += [(label, _browser(_user(label, held)), True) for label, held in allowed]
    browsers += [(label, _browser(_user(label, held)), False) for label, held in refused]
    before = database_dump()
    for label, browser, ok in browsers:
        response = _attempt(lambda browser=browser: browser.post(url, body))
        if ok:
            assert not _refused(response), (label, response.status_code)
            assert response.status_code in (200, 302, 400), (label, response.status_code)
        else:
            assert _refused(response), (label, response.status_code)
            assert database_dump() == before, label
    response = Browser().post(url, body)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert database_dump() == before


def test_a_post_to_a_page_that_only_reads_changes_nothing(admin):
    isp = build_isp(admin)
    isp.extra["run"] = ManualRun.objects.create(actor=admin, actor_name="boss", day=today())
    nobody = _browser(_user("nadie", set()))
    before = database_dump()
    for name, kwargs in READ_ONLY.items():
        response = _attempt(lambda name=name, kwargs=kwargs: nobody.post(_url(name, kwargs, isp)))
        assert response.status_code < 500, name
        assert database_dump() == before, name
