"""Import from a router: what a network built before wispbill holds (PPPoE secrets, simple
queues, static DHCP leases, the cut, notice and reduced speed lists) becomes a proposal of
plans and clients, with every conflict listed and nothing guessed; on confirmation the plans
and clients are created and the router's objects taken over (their comments become
wispbill's), never duplicated or recreated. A second import finds them wispbill's and
creates nothing."""

import contextlib
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.clients.enforcement import routers_changed
from wispbill.clients.models import Access, Client, ClientState, Plan
from wispbill.clients.services.bulk import clients_create_many
from wispbill.clients.services.plans import plan_create
from wispbill.core.answers import Answer
from wispbill.core.clock import first_day_check
from wispbill.network.drivers import DriverError, driver_for
from wispbill.network.inventory import Adoption, Inventory, readable
from wispbill.network.models import Enforcement, Router, Zone
from wispbill.network.provisioning import Queue, Secret
from wispbill.network.reconcile import PREFIX, client_comment
from wispbill.network.speeds import SpeedError, format_rate, parse_max_limit
from wispbill.staff.permissions import MANAGE_ROUTERS, require_permission_of_person

OWNED = re.compile(re.escape(PREFIX) + r"client:([0-9]+)$")
PPPOE_SERVICES = ("pppoe", "any")
IMPORT_REASON = gettext_noop("imported from the router %(router)s")
CHUNK = 500  # keeps every IN (...) list under SQLite's bound-variable limit
# Secrets, queues, leases and list entries one import reads: well above what one router
# serves, and a bound on what a proposal (and its page) can grow to.
MAX_OBJECTS = 200_000
NUL = "\x00"


@dataclass(frozen=True)
class ProposedPlan:
    name: str
    upload_kbps: int
    download_kbps: int
    existing: int | None = None  # the id of the plan reused, or None for a new one
    clients: int = 0


@dataclass
class ProposedClient:
    name: str
    ip: str
    access: str
    upload_kbps: int
    download_kbps: int
    state: str = ClientState.ACTIVE
    notice: bool = False
    pppoe_username: str = ""
    pppoe_password: str = ""
    plan: str = ""  # the proposed plan's name
    # (menu, .id, comment before) of the router objects it takes over.
    objects: list[tuple[str, str, str]] = field(default_factory=list)
    # The first invoice the daily run would issue the client (billing.imports sets it).
    next_invoice: Answer | None = None


@dataclass(frozen=True)
class Conflict:
    """Something the import will not decide for the operator: the objects stay as they are
    and nobody is created from them."""

    code: str
    ip: str
    message: str


@dataclass
class Proposal:
    plans: list[ProposedPlan]
    clients: list[ProposedClient]
    conflicts: list[Conflict]
    already_managed: int = 0  # router objects that are already wispbill's

    def as_dict(self) -> dict:
        return {
            "plans": [asdict(p) for p in self.plans],
            "clients": [
                {
                    **{
                        k: v
                        for k, v in asdict(c).items()
                        if k not in ("pppoe_password", "objects", "next_invoice")
                    },
                    "next_invoice": c.next_invoice.as_dict() if c.next_invoice else None,
                }
                for c in self.clients
            ],
            "conflicts": [asdict(c) for c in self.conflicts],
            "already_managed": self.already_managed,
        }


# --- the proposal, from plain values ---------------------------------------------------------


@dataclass
class _Candidate:
    ip: str
    secrets: list[Secret] = field(default_factory=list)
    queues: list[Queue] = field(default_factory=list)
    leases: list = field(default_factory=list)


def _single_address(target: str) -> str | None:
    """The client address a queue shapes, when it shapes one address (`IP` or `IP/32`)."""
    parts = [p.strip() for p in target.split(",") if p.strip()]
    if len(parts) != 1:
        return None
    address, _sep, mask = parts[0].partition("/")
    if mask not in ("", "32") or address.count(".") != 3:
        return None
    return address


def propose(
    inventory: Inventory,
    *,
    router: Router,
    managed_ids: set[int],
    known_ips: dict[str, str],
    known_usernames: dict[str, str],
    plans: list[Plan],
) -> Proposal:
    """The proposal for an inventory, as plain values. `managed_ids`: the clients that exist
    (an object whose comment names one is already wispbill's); `known_ips`: IP → name of the
    clients that exist; `known_usernames`: PPPoE username → name of this router's clients."""
    conflicts: list[Conflict] = []
    managed = 0

    def ours(comment: str) -> bool:
        match = OWNED.match(comment)
        return match is not None and int(match[1]) in managed_ids

    def conflict(code: str, ip: str, message: str) -> None:
        conflicts.append(Conflict(code, ip, message))

    candidates: dict[str, _Candidate] = {}

    def candidate(ip: str) -> _Candidate:
        return candidates.setdefault(ip, _Candidate(ip))

    for secret in inventory.secrets:
        if ours(secret.comment):
            managed += 1
        elif secret.service not in PPPOE_SERVICES:
            conflict(
                "not_pppoe",
                secret.remote_address,
                _("The secret %(name)s is for %(service)s, not PPPoE: left alone.")
                % {"name": readable(secret.name), "service": secret.service},
            )
        elif not secret.remote_address:
            conflict(
                "no_remote_address",
                "",
                _(
                    "The secret %(name)s has no remote address: wispbill needs each client's "
                    "fixed IP. Give it one on the router and import again."
                )
                % {"name": readable(secret.name)},
            )
        else:
            candidate(secret.remote_address).secrets.append(secret)
    for queue in inventory.queues:
        if ours(queue.comment):
            managed += 1
            continue
        ip = _single_address(queue.target)
        if ip is not None:  # a parent or total queue shapes many addresses: not a client
            candidate(ip).queues.append(queue)
    for lease in inventory.leases:
        if ours(lease.comment):
            managed += 1
        elif lease.address in candidates or not lease.disabled:
            candidate(lease.address).leases.append(lease)
    listed: dict[str, list] = defaultdict(list)
    for entry in inventory.entries:
        if ours(entry.comment):
            managed += 1
        else:
            listed[entry.address].append(entry)

    profiles = {p.name: p.rate_limit for p in inventory.profiles}
    proposed: list[ProposedClient] = []
    for ip, found in candidates.items():
        client = _client(found, listed.get(ip, []), router, profiles, conflict)
        if client is None:
            continue
        if ip in known_ips:
            conflict(
                "ip_in_wispbill",
                ip,
                _("%(ip)s already belongs to «%(client)s» in wispbill.")
                % {"ip": ip, "client": known_ips[ip]},
            )
        elif client.pppoe_username and client.pppoe_username in known_usernames:
            conflict(
                "username_in_wispbill",
                ip,
                _("The PPPoE username %(username)s already belongs to «%(client)s» in wispbill.")
                % {
                    "username": client.pppoe_username,
                    "client": known_usernames[client.pppoe_username],
                },
            )
        else:
            proposed.append(client)
    return Proposal(
        plans=_plans(proposed, plans),
        clients=sorted(proposed, key=lambda c: tuple(int(p) for p in c.ip.split("."))),
        conflicts=conflicts,
        already_managed=managed,
    )


def _client(found: _Candidate, entries: list, router: Router, profiles: dict, conflict):
    """One proposed client from what the router holds for one IP (and the list entries of
    that IP), or None (a conflict said why)."""
    ip = found.ip
    lists = {entry.list for entry in entries}
    if len(found.secrets) > 1:
        names = ", ".join(readable(s.name) for s in found.secrets)
        conflict(
            "two_secrets",
            ip,
            _("%(ip)s is the remote address of several secrets: %(names)s.")
            % {"ip": ip, "names": names},
        )
        return None
    if len(found.queues) > 1:
        names = ", ".join(readable(q.name) for q in found.queues)
        conflict(
            "two_queues",
            ip,
            _("%(ip)s has several simple queues: %(names)s.") % {"ip": ip, "names": names},
        )
        return None
    if found.secrets and found.leases:
        conflict(
            "secret_and_lease",
            ip,
            _("%(ip)s is both a PPPoE secret's address and a static DHCP lease.") % {"ip": ip},
        )
        return None
    secret = found.secrets[0] if found.secrets else None
    if secret and secret.disabled and not router.disables_secrets:
        # Taken over, the secret would be enabled (this router cuts through the list): a
        # client cut by hand could get its service back before the cut rules are in place.
        conflict(
            "disabled_secret",
            ip,
            _(
                "The secret %(name)s is disabled, but this router cuts PPPoE clients through "
                "the address list: put %(ip)s in the cut list (or choose to cut by disabling "
                "secrets, with provisioning) and import again."
            )
            % {"name": readable(secret.name), "ip": ip},
        )
        return None
    queue = found.queues[0] if found.queues else None
    lease = found.leases[0] if found.leases else None
    if len(found.leases) > 1:
        conflict("two_leases", ip, _("%(ip)s has several static DHCP leases.") % {"ip": ip})
        return None
    speed_text = queue.max_limit if queue else profiles.get(secret.profile, "") if secret else ""
    try:
        upload, download = parse_max_limit(speed_text) if speed_text else (0, 0)
    except SpeedError:
        upload, download = 0, 0
    if not upload or not download:
        where = (
            _("its simple queue has no speed limit")
            if queue
            else _("it has no simple queue, and its PPP profile no rate limit")
        )
        conflict(
            "no_speed",
            ip,
            _("%(ip)s has no speed to make a plan from: %(where)s.") % {"ip": ip, "where": where},
        )
        return None
    candidates = [secret.comment if secret else "", queue.comment if queue else ""]
    candidates += [lease.comment if lease else "", secret.name if secret else ""]
    candidates += [queue.name if queue else "", lease.host_name if lease else ""]
    if secret and (NUL in secret.name or NUL in secret.password):
        conflict(
            "nul",
            ip,
            _("The secret of %(ip)s holds a NUL character (\\x00), which cannot be stored.")
            % {"ip": ip},
        )
        return None
    # A NUL in a comment is nobody's name: it goes, the rest of the name stays.
    name = next((readable(n).replace(NUL, "").strip() for n in candidates if n and n.strip()), ip)
    name = name or ip
    state = ClientState.ACTIVE
    if router.cut_list in lists or (secret and secret.disabled):
        # In the cut list, or (where cuts disable secrets) with its secret disabled.
        state = ClientState.SUSPENDED
    elif router.throttle_list in lists:
        state = ClientState.THROTTLED
    objects = [("secret", secret.id, secret.comment)] if secret else []
    objects += [("queue", queue.id, queue.comment)] if queue else []
    objects += [("lease", lease.id, lease.comment)] if lease else []
    objects += [("address", entry.id, entry.comment) for entry in entries]
    return ProposedClient(
        name=name[:200],
        ip=ip,
        access=Access.PPPOE if secret else Access.STATIC,
        upload_kbps=upload,
        download_kbps=download,
        state=state,
        notice=router.notice_list in lists,
        pppoe_username=secret.name if secret else "",
        pppoe_password=secret.password if secret else "",
        objects=objects,
    )


def _plans(clients: list[ProposedClient], existing: list[Plan]) -> list[ProposedPlan]:
    """One plan per distinct speed: a plan of wispbill's with the same speeds is reused, a
    new one is named after its speeds (price 0.00, for the operator to set)."""
    reuse: dict[tuple[int, int], Plan] = {}
    for plan in existing:
        reuse.setdefault((plan.upload_kbps, plan.download_kbps), plan)
    taken = {plan.name for plan in existing}
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for client in clients:
        counts[(client.upload_kbps, client.download_kbps)] += 1
    plans = {}
    for speeds in sorted(counts, key=lambda s: (s[1], s[0])):
        upload, download = speeds
        if speeds in reuse:
            plan = reuse[speeds]
            plans[speeds] = ProposedPlan(plan.name, upload, download, plan.pk, counts[speeds])
            continue
        base = _("Plan %(download)s down / %(upload)s up") % {
            "download": format_rate(download),
            "upload": format_rate(upload),
        }
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base} ({n})"
        taken.add(name)
        plans[speeds] = ProposedPlan(name, upload, download, None, counts[speeds])
    for client in clients:
        client.plan = plans[(client.upload_kbps, client.download_kbps)].name
    return list(plans.values())


# --- the services ----------------------------------------------------------------------------


def _check(*, actor: User | None, router: Router, zone: Zone, paid_until: date | None) -> None:
    """A person needs the permission; the CLI's operator (actor None) owns the machine."""
    require_permission_of_person(actor, MANAGE_ROUTERS)
    if paid_until is not None:
        first_day_check(paid_until, "paid_until")
    if zone.router_id != router.pk:
        raise ValidationError({"zone": [_("Choose a zone of this router.")]})
    if router.enforcement != Enforcement.MIKROTIK:
        raise ValidationError(
            {"router": [_("Only a MikroTik router (enforcement «mikrotik») can be read.")]}
        )


def _in_chunks(qs, field: str, values: set, *columns) -> list[tuple]:
    ordered = sorted(values)
    rows: list[tuple] = []
    for start in range(0, len(ordered), CHUNK):
        rows += qs.filter(**{f"{field}__in": ordered[start : start + CHUNK]}).values_list(*columns)
    return rows


def _proposal(router: Router) -> Proposal:
    """Read the router (nothing is written to it) and propose. Only the clients the
    inventory names are looked up."""
    lists = (router.cut_list, router.notice_list, router.throttle_list)
    with driver_for(router) as driver:
        inventory = driver.read_inventory(lists)
    comments = [
        *(secret.comment for secret in inventory.secrets),
        *(queue.comment for queue in inventory.queues),
        *(lease.comment for lease in inventory.leases),
        *(entry.comment for entry in inventory.entries),
    ]
    if len(comments) > MAX_OBJECTS:
        raise ValidationError(
            {
                "router": [
                    _(
                        "The router holds more than %(n)s objects; an import reads at most "
                        "that many."
                    )
                    % {"n": f"{MAX_OBJECTS:,}"}
                ]
            }
        )
    ids = {int(m[1]) for comment in comments if (m := OWNED.match(comment))}
    ips = {s.remote_address for s in inventory.secrets if s.remote_address}
    ips |= {ip for q in inventory.queues if (ip := _single_address(q.target))}
    ips |= {lease.address for lease in inventory.leases}
    usernames = {s.name for s in inventory.secrets}
    router_clients = Client.objects.filter(zone__router=router, access=Access.PPPOE)
    return propose(
        inventory,
        router=router,
        managed_ids={row[0] for row in _in_chunks(Client.objects, "id", ids, "id")},
        known_ips=dict(_in_chunks(Client.objects, "ip", ips, "ip", "name")),
        known_usernames=dict(
            _in_chunks(router_clients, "pppoe_username", usernames, "pppoe_username", "name")
        ),
        plans=list(Plan.objects.order_by("id")),
    )


def router_import_preview(
    *, actor: User | None, router: Router, zone: Zone, paid_until: date | None = None
) -> Proposal:
    """What an import would create and take over; writes nothing, to the database or to the
    router. Raises DriverError when the router cannot be read."""
    _check(actor=actor, router=router, zone=zone, paid_until=paid_until)
    return _proposal(router)


def router_import_confirm(
    *, actor: User | None, router: Router, zone: Zone, paid_until: date | None = None
) -> dict:
    """Import: read the router again, create the proposal's plans and clients in one
    transaction (paid for until `paid_until`, if given: no cycle ending by then is invoiced
    automatically), then take the router's objects over (their comments become the
    clients'), and push the router. Returns what it did; run twice, it creates nothing."""
    _check(actor=actor, router=router, zone=zone, paid_until=paid_until)
    proposal = _proposal(router)
    with transaction.atomic():
        plans = {p.name: Plan.objects.get(pk=p.existing) for p in proposal.plans if p.existing}
        for proposed in proposal.plans:
            if not proposed.existing:
                plans[proposed.name] = plan_create(
                    actor=actor,
                    name=proposed.name,
                    price=Decimal("0.00"),
                    download_kbps=proposed.download_kbps,
                    upload_kbps=proposed.upload_kbps,
                )
        clients = clients_create_many(
            actor=actor,
            rows=[
                {
                    "name": c.name,
                    "ip": c.ip,
                    "zone": zone,
                    "plan": plans[c.plan],
                    "access": c.access,
                    "pppoe_username": c.pppoe_username,
                    "pppoe_password": c.pppoe_password,
                    "state": c.state,
                    "paid_until": paid_until,
                    # The router already holds this secret, password or none: it is taken
                    # over as it is, not refused.
                    "require_password": False,
                }
                for c in proposal.clients
            ],
            reason=IMPORT_REASON,
            reason_args={"router": router.name},
            push=False,
        )
        noticed = [c.pk for c, p in zip(clients, proposal.clients, strict=True) if p.notice]
        Client.objects.filter(pk__in=noticed).update(notice_active=True)
        # Taken over before the commit: a router that fails here leaves nothing imported.
        adopted, failed = _adopt(router, proposal, clients)
        audit_record(
            actor=actor,
            action=AuditAction.ROUTER_IMPORTED,
            obj=router,
            changes={
                "plans_created": [None, sum(1 for p in proposal.plans if not p.existing)],
                "clients_created": [None, len(clients)],
                "objects_adopted": [None, adopted],
                "zone": [None, zone.pk],
            },
        )
    # Pushed once the objects are the clients': before, a push would add duplicates.
    routers_changed([router.pk])
    return {
        "plans_created": sum(1 for p in proposal.plans if not p.existing),
        "clients_created": len(clients),
        "objects_adopted": adopted,
        "adoption_failed": failed,
        "conflicts": [asdict(c) for c in proposal.conflicts],
    }


def _adopt(router: Router, proposal: Proposal, clients: list[Client]) -> tuple[int, list]:
    """Mark the imported objects and list entries as the new clients'; the objects the router
    refused (one removed meanwhile) are listed. When the router fails half-way, what was
    marked gets its comment back (as far as the router lets us) and DriverError goes up."""
    by_ip = {c.ip: c.pk for c in clients}
    taken = [
        (Adoption(kind, object_id, client_comment(by_ip[p.ip])), before)
        for p in proposal.clients
        for kind, object_id, before in p.objects
    ]
    try:
        with driver_for(router) as driver:
            result = driver.adopt([adoption for adoption, _before in taken])
    except DriverError:
        with contextlib.suppress(DriverError), driver_for(router) as driver:
            driver.adopt([Adoption(a.kind, a.id, before, undo=True) for a, before in taken])
        raise
    return result.changed, [str(message) for _subject, message in result.failed]
