"""The audit log as a story an operator reads: names instead of ids, fields and states in the
reader's language, money and dates as people write them, objects as links. Events store raw
values (ids, codes, ISO dates); this presenter turns a page of them into rows, with one query
per kind of object named on the page, whatever the number of rows."""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wispbill.audit.models import SYSTEM, AuditAction, AuditEvent
from wispbill.billing.models import PaymentMethod
from wispbill.clients.models import Client, Plan
from wispbill.core.models import BillingMode, CompanySettings
from wispbill.core.switches import TASK_LABELS, Task
from wispbill.network.models import Router, Zone
from wispbill.panel.forms.automation import WEEKDAYS
from wispbill.panel.forms.base import SCHEDULE_LABELS
from wispbill.panel.templatetags.panel import (
    invoice_number,
    money,
    onoff,
    receipt_number,
    short_date,
    short_datetime,
)
from wispbill.staff.permissions import CODENAMES

ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
MODELS: dict[str, type[models.Model]] = {
    "client": Client,
    "zone": Zone,
    "router": Router,
    "plan": Plan,
    "user": get_user_model(),
    "company": CompanySettings,
}
# Keys the services write that are not a model field of the object, with their label.
EXTRA_LABELS = {
    "billing": _("Own billing schedule"),
    "periodic_tasks": _("Periodic tasks"),
    "invoice": _("Invoice"),
    "invoices": _("Invoices paid"),
    "total": _("Total"),
    "payment": _("Payment"),
    "method": _("Method"),
    "paid_on": _("Payment date"),
    "reference": _("Reference"),
    "credit": _("Credit"),
    "is_admin": _("Administrator"),
    "full_name": _("Full name"),
    "password": _("Password"),
    "permissions": _("Permissions"),
    "api_key": _("API key"),
    "scope": _("Scope"),
    "zones_changed": _("Zones changed"),
    "clients_changed": _("Clients changed"),
    "zones_restored": _("Zones restored"),
    "clients_restored": _("Clients restored"),
    "zones_skipped": _("Zones left as they were"),
    "clients_skipped": _("Clients left as they were"),
    "date": _("Day"),
    "dry_run": _("Dry run"),
    "invoices_created": _("Invoices created"),
    "notices_shown": _("Notices shown"),
    "clients_cut": _("Clients cut"),
    "clients_throttled": _("Clients with reduced speed"),
    "portal_link_expires_at": _("Client page link valid until"),
    "portal_links_revision": _("Client page links revoked (revision)"),
    "clients_reactivated": _("Clients reactivated"),
    "added": _("Rules added"),
    "removed": _("Rules removed"),
}
MONEY_KEYS = {
    "payment",
    "total",
    "credit",
    "price",
    "min_debt_to_cut",
    "amount",
    "reconnection_fee",
}
SWITCH_KEYS = set(TASK_LABELS)
# The fields whose values are codes with a label on some model.
CHOICES: dict[str, type[models.Model]] = {
    "state": Client,
    "billing_type": Client,
    "language": Client,
    "access": Client,
    "enforcement": Router,
    "pppoe_cut": Router,
    "reactivation_billing": CompanySettings,
    "first_invoice": CompanySettings,
}


@dataclass(frozen=True)
class Value:
    text: str
    url: str = ""


@dataclass
class Change:
    label: str
    before: list[Value]
    after: list[Value]
    new: bool = False  # nothing before (a creation, a payment): only the value is shown


@dataclass
class Row:
    event: AuditEvent
    who: str
    system: bool
    action: str
    reason: str
    object_label: str
    object: Value
    changes: list[Change] = field(default_factory=list)


class _Names:
    """The names of the objects a page of events mentions, fetched once per kind."""

    def __init__(self, events: list[AuditEvent]):
        ids: dict[str, set[int]] = defaultdict(set)
        for event in events:
            ids[event.object_type].add(event.object_id)
            for key, pair in event.changes.items():
                values = pair if isinstance(pair, list) else [pair]
                if key in ("zone", "plan"):
                    ids[key].update(v for v in values if isinstance(v, int))
                elif key == "scope":
                    ids["zone"].update(zone for v in values if (zone := _scope_zone(v)))
        self.clients = self._fetch(Client.objects.values_list("id", "name"), ids["client"])
        self.zones = (
            {z.pk: str(z) for z in Zone.objects.select_related("router").filter(pk__in=ids["zone"])}
            if ids["zone"]
            else {}
        )
        self.routers = self._fetch(Router.objects.values_list("id", "name"), ids["router"])
        self.plans = self._fetch(Plan.objects.values_list("id", "name"), ids["plan"])
        self.users = self._fetch(
            get_user_model().objects.values_list("id", "username"), ids["user"]
        )

    @staticmethod
    def _fetch(qs: QuerySet, ids: set[int]) -> dict[int, str]:
        return dict(qs.filter(pk__in=ids)) if ids else {}


def _label(object_type: str, key: str) -> str:
    if key.startswith("billing."):
        return f"{gettext('Billing')}: {SCHEDULE_LABELS[key.split('.', 1)[1]][0]}"
    if key in SWITCH_KEYS:
        return str(TASK_LABELS[Task(key)])
    if key in EXTRA_LABELS:
        return str(EXTRA_LABELS[key])
    model = MODELS.get(object_type)
    try:
        found = model._meta.get_field(key) if model else None
    except FieldDoesNotExist:
        found = None
    # A key no model has as a field of its own (or a relation's far side, which has no
    # verbose name): shown as it was written.
    name = found.verbose_name if isinstance(found, models.Field) else key.replace("_", " ")
    return str(name)[:1].upper() + str(name)[1:]


def _choice(key: str, value) -> str:
    model_field = CHOICES[key]._meta.get_field(key)
    choices = dict(model_field.flatchoices) if isinstance(model_field, models.Field) else {}
    return str(choices.get(value, value))


def _day(value) -> str:
    """A day or a moment as people write them (29/10/2026, 29/10/2026 14:05 local time)."""
    if isinstance(value, str) and ISO_DAY.match(value):
        return short_date(date.fromisoformat(value))
    if isinstance(value, str) and ISO_MOMENT.match(value):
        try:
            return short_datetime(datetime.fromisoformat(value))
        except ValueError:
            pass
    return str(value)


def _values(key: str, value, names: _Names) -> list[Value]:
    """One side of a change, as the text (and link) the reader sees."""
    if value is None or value == "" or value == []:
        return [Value("—")]
    if isinstance(value, dict):
        return [Value(", ".join(_schedule_part(k, v) for k, v in value.items()))]
    if key in SWITCH_KEYS and isinstance(value, bool):
        return [Value(onoff(value))]
    if isinstance(value, bool):
        return [Value(gettext("Yes") if value else gettext("No"))]
    if key in ("invoice", "invoices"):
        ids = value if isinstance(value, list) else [value]
        return [Value(invoice_number(i), f"{reverse('panel:invoice-list')}?id={i}") for i in ids]
    if key == "zone" and isinstance(value, int):
        return [
            Value(names.zones.get(value, f"#{value}"), reverse("panel:zone-update", args=[value]))
        ]
    if key == "plan" and isinstance(value, int):
        return [
            Value(names.plans.get(value, f"#{value}"), reverse("panel:plan-edit", args=[value]))
        ]
    if key in CHOICES:
        return [Value(_choice(key, value))]
    if key == "method":
        return [Value(str(dict(PaymentMethod.choices).get(value, value)))]
    if key in MONEY_KEYS:
        try:
            return [Value(money(Decimal(str(value))))]
        except InvalidOperation:
            return [Value(str(value))]
    if key == "no_cut_weekdays" and isinstance(value, list):
        days = dict(WEEKDAYS)
        return [Value(", ".join(str(days.get(d, d)) for d in value))]
    if key == "permissions" and isinstance(value, list):
        return [Value(", ".join(str(CODENAMES.get(p, p)) for p in value))]
    if key == "scope" and isinstance(value, str):
        return [_scope(value, names)]
    if isinstance(value, list):
        return [Value(", ".join(_day(v) for v in value))]
    return [Value(_day(value))]


def _schedule_part(key: str, value) -> str:
    """One field of a schedule or a set of switches kept whole (a creation)."""
    if key == "mode":
        value = dict(BillingMode.choices).get(value, value)
    if key in SCHEDULE_LABELS:
        return f"{SCHEDULE_LABELS[key][0]}: {value}"
    if key in SWITCH_KEYS:
        return f"{TASK_LABELS[Task(key)]}: {onoff(value)}"
    return f"{key}: {value}"


def _scope_zone(value) -> int | None:
    """The zone id of a mass update's scope ("zone:12"), or None."""
    if isinstance(value, str) and value.startswith("zone:") and value[5:].isdigit():
        return int(value[5:])
    return None


def _scope(value: str, names: _Names) -> Value:
    if value == "all_zones":
        return Value(gettext("All zones"))
    zone_id = _scope_zone(value)
    if zone_id is None:
        return Value(value)
    return Value(
        names.zones.get(zone_id, f"#{zone_id}"), reverse("panel:zone-update", args=[zone_id])
    )


def _object(event: AuditEvent, names: _Names) -> Value:
    kind, pk = event.object_type, event.object_id
    fallback = event.object_repr or f"#{pk}"
    if kind == "client":
        return Value(names.clients.get(pk, fallback), reverse("panel:client-edit", args=[pk]))
    if kind == "zone":
        return Value(names.zones.get(pk, fallback), reverse("panel:zone-update", args=[pk]))
    if kind == "router":
        return Value(names.routers.get(pk, fallback), reverse("panel:router-edit", args=[pk]))
    if kind == "plan":
        return Value(names.plans.get(pk, fallback), reverse("panel:plan-edit", args=[pk]))
    if kind == "user":
        return Value(names.users.get(pk, fallback), reverse("panel:staff-edit", args=[pk]))
    if kind == "mass_update":
        return Value(
            gettext("Mass update #%(id)s") % {"id": pk},
            reverse("panel:mass-update-detail", args=[pk]),
        )
    if kind == "company":
        return Value(gettext("Company settings"), reverse("panel:company-settings"))
    return Value(fallback)


# The actions whose reason names an invoice or a payment by its id ("invoice %(id)s ..."):
# shown with the number printed on the document.
DOCUMENT_IN_REASON: dict[str, Callable[[int], str]] = {
    AuditAction.CLIENT_CUT: invoice_number,
    AuditAction.INVOICE_CREATED: invoice_number,
    AuditAction.INVOICE_CANCELLED: invoice_number,
    AuditAction.PAYMENT_REGISTERED: receipt_number,
}


def _reason(event: AuditEvent) -> str:
    """The reason in the reader's language, its dates as people write them and its
    documents by their numbers."""
    if not event.reason:
        return ""
    args = {k: _day(v) for k, v in (event.reason_args or {}).items()}
    if "id" in args and event.action in DOCUMENT_IN_REASON:
        args["id"] = DOCUMENT_IN_REASON[event.action](event.reason_args["id"])
    text = gettext(event.reason)
    if "%" not in text:
        return text
    try:
        return text % _Args(args)
    except (TypeError, ValueError):
        return text.replace("%", "")


class _Args(dict):
    """A reason's arguments; one an older event did not store reads as a dash, never as
    the raw placeholder."""

    def __missing__(self, key: str) -> str:
        return "—"


def audit_rows(events: Iterable[AuditEvent]) -> list[Row]:
    """A page of events as rows a person reads."""
    events = list(events)
    names = _Names(events)
    rows = []
    for event in events:
        system = event.actor_name == SYSTEM
        row = Row(
            event=event,
            who=gettext("System") if system else event.actor_name,
            system=system,
            action=event.action_label,
            reason=_reason(event),
            object_label=event.object_type_label,
            object=_object(event, names),
        )
        for key, pair in event.changes.items():
            before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            if key == "password":
                before = after = "***"
            label = _label(event.object_type, key)
            if key == "invoices" and not isinstance(after, bool):
                label = str(EXTRA_LABELS["invoices"])  # a payment's invoices, not a switch
            row.changes.append(
                Change(
                    label=label,
                    before=_values(key, before, names),
                    after=_values(key, after, names),
                    new=before is None,
                )
            )
        rows.append(row)
    return rows


def events_about(qs: QuerySet[AuditEvent], name: str) -> QuerySet[AuditEvent]:
    """The events of the clients and routers (and their zones) whose name contains `name`."""
    clients = Client.objects.filter(name__icontains=name).values("id")
    routers = Router.objects.filter(name__icontains=name).values("id")
    zones = Zone.objects.filter(Q(router__name__icontains=name) | Q(name__icontains=name))
    return qs.filter(
        Q(object_type="client", object_id__in=clients)
        | Q(object_type="router", object_id__in=routers)
        | Q(object_type="zone", object_id__in=zones.values("id"))
    )
