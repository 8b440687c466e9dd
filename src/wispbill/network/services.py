"""Routers and their billing zones."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wispbill.audit.services import audit_record
from wispbill.core.db import jsonable, locked, model_update
from wispbill.core.models import CutAction, SwitchFields
from wispbill.core.schedule import BillingSchedule, schedule_changes, schedule_from
from wispbill.core.switches import Switches
from wispbill.core.wire import validate_one_line
from wispbill.network.models import (
    Aaa,
    Enforcement,
    PppoeCut,
    RadiusCut,
    Router,
    Zone,
    validate_radius_secret,
    validate_routeros_name,
)
from wispbill.network.signals import router_settings_changed
from wispbill.network.tls import normalise_fingerprint
from wispbill.staff.permissions import (
    MANAGE_ROUTERS,
    TOGGLE_PERIODIC_TASKS,
    require_admin,
    require_permission,
    require_permission_of_person,
)

# The one list of a router's editable fields: the panel's form and the API's serializer
# derive theirs from it (the password is write-only and handled apart).
ROUTER_FIELDS = (
    "name",
    "host",
    "api_port",
    "username",
    "use_tls",
    "tls_fingerprint",
    "enforcement",
    "cut_list",
    "notice_list",
    "throttle_list",
    "provisioning",
    "pppoe_cut",
    "allow_local_host",
    "pppoe_pool",
    "aaa",
    "coa_port",
    "radius_cut",
)
# Where a router's stored password goes: changing one of these needs the password again, so
# nobody can point it at another machine (a new pinned certificate is another machine too).
CONNECTION_FIELDS = ("host", "api_port", "username", "use_tls", "tls_fingerprint")
# Where the router is: on a router an administrator allowed on this server, only an
# administrator may move it (else a router allowed at the emulator's port could be moved to
# Redis's).
WHERE_FIELDS = ("host", "api_port")


def switches_assign(*, actor: User | None, obj: SwitchFields, switches: Switches) -> dict:
    """Set a zone's or client's switches in memory, checking the permission if anything
    changes. Returns the diff ({task: [before, after]}); the caller saves and audits."""
    if obj.switches.diff(switches):
        require_permission(actor, TOGGLE_PERIODIC_TASKS)
    return obj.set_switches(switches)


def cut_action_check(*, actor: User | None, before: str | None, after: str | None) -> None:
    """A change of what the cut does (suspend or throttle) stops an automatic task for some
    clients: it needs the switch permission."""
    if before != after:
        require_permission(actor, TOGGLE_PERIODIC_TASKS)


def zone_fields_check(*, actor: User | None) -> None:
    """A zone's fields other than its switches (and what its cut does) are the routers'."""
    require_permission_of_person(actor, MANAGE_ROUTERS)


def _password_check(password: str) -> None:
    """The password goes to the router in the login sentence: one line, like the rest."""
    try:
        validate_one_line(password)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from None


def _radius_secret_check(secret: str) -> None:
    if secret:
        try:
            validate_radius_secret(secret)
        except ValidationError as exc:
            raise ValidationError({"radius_secret": exc.error_list}) from None


def _local_host_check(*, actor: User | None, router: Router, data: dict) -> None:
    """Only an administrator (or the operator at the shell) may allow a router on this server
    or a local-only address, or move a router so allowed."""
    if actor is None:
        return
    allowing = data.get("allow_local_host", router.allow_local_host)
    if allowing and not router.allow_local_host:
        require_admin(actor)
    if router.allow_local_host and any(
        f in data and _differs(router, f, data[f]) for f in WHERE_FIELDS
    ):
        require_admin(actor)


def _differs(router: Router, field: str, value) -> bool:
    """Whether `value` changes the router's `field`; a pin is compared as stored (the same
    fingerprint typed with colons or in capitals is no change)."""
    if field == "tls_fingerprint":
        try:
            value = normalise_fingerprint(value)
        except ValueError:
            return True
    return value != getattr(router, field)


def _settings_changed(router: Router) -> None:
    router_settings_changed.send(sender=Router, router_ids={router.pk})


@transaction.atomic
def router_create(
    *,
    actor: User | None,
    name: str,
    host: str = "",
    api_port: int = 8728,
    username: str = "",
    password: str = "",
    use_tls: bool = False,
    tls_fingerprint: str = "",
    enforcement: str | None = None,
    cut_list: str = "Moroso",
    notice_list: str = "Aviso",
    throttle_list: str = "Reducido",
    provisioning: bool = False,
    pppoe_cut: str = PppoeCut.ADDRESS_LIST,
    allow_local_host: bool = False,
    pppoe_pool: str = "",
    aaa: str = Aaa.API,
    radius_secret: str = "",
    coa_port: int = 3799,
    radius_cut: str = RadiusCut.ADDRESS_LIST,
) -> Router:
    """Add a router. Its control, when not given, is what an operator who typed the API
    credentials expects: MikroTik with a user and password, none without."""
    require_permission_of_person(actor, MANAGE_ROUTERS)
    if not enforcement:
        enforcement = Enforcement.MIKROTIK if username and password else Enforcement.NONE
    _local_host_check(actor=actor, router=Router(), data={"allow_local_host": allow_local_host})
    _password_check(password)
    _radius_secret_check(radius_secret)
    router = Router(
        name=name,
        host=host,
        api_port=api_port,
        username=username,
        use_tls=use_tls,
        tls_fingerprint=tls_fingerprint,
        enforcement=enforcement,
        cut_list=cut_list,
        notice_list=notice_list,
        throttle_list=throttle_list,
        provisioning=provisioning,
        pppoe_cut=pppoe_cut,
        allow_local_host=allow_local_host,
        pppoe_pool=pppoe_pool,
        aaa=aaa,
        coa_port=coa_port,
        radius_cut=radius_cut,
    )
    router.password = password
    router.radius_secret = radius_secret
    router.full_clean(exclude=["password_encrypted", "radius_secret_encrypted"])
    router.save()
    audit_record(
        actor=actor,
        action="router.created",
        obj=router,
        changes={f: [None, jsonable(getattr(router, f))] for f in ROUTER_FIELDS},
    )
    _settings_changed(router)
    return router


@transaction.atomic
def router_update(*, actor: User | None, router: Router, data: dict) -> Router:
    """Change a router's connection or lists (the `ROUTER_FIELDS` and `password` that `data`
    carries); a password left out or empty is kept, unless the connection changes: then it
    must come again. Turning the router's enforcement off stops the cuts reaching it: that
    needs the switch permission too."""
    require_permission_of_person(actor, MANAGE_ROUTERS)
    router = locked(Router.objects).get(pk=router.pk)
    if (
        router.enforcement == Enforcement.MIKROTIK
        and data.get("enforcement", router.enforcement) != Enforcement.MIKROTIK
    ):
        require_permission_of_person(actor, TOGGLE_PERIODIC_TASKS)
    _local_host_check(actor=actor, router=router, data=data)
    _password_check(data.get("password") or "")
    _radius_secret_check(data.get("radius_secret") or "")
    moved = [f for f in CONNECTION_FIELDS if f in data and _differs(router, f, data[f])]
    if moved and not data.get("password"):
        raise ValidationError(
            {
                "password": [
                    _(
                        "Changing the host, port, user, TLS or pinned certificate of a router "
                        "needs its password in the same request."
                    )
                ]
            }
        )
    if data.get("radius_secret"):
        router.radius_secret = data["radius_secret"]
    changes = model_update(
        instance=router,
        fields=ROUTER_FIELDS,
        data=data,
        exclude_clean=["password_encrypted", "radius_secret_encrypted"],
    )
    if data.get("password"):
        router.password = data["password"]
        router.save(update_fields=["password_encrypted", "updated_at"])
        changes["password"] = ["***", "***"]
    if data.get("radius_secret"):
        router.save(update_fields=["radius_secret_encrypted", "updated_at"])
        changes["radius_secret"] = ["***", "***"]
    if changes:
        audit_record(actor=actor, action="router.changed", obj=router, changes=changes)
        _settings_changed(router)
    return router


def _values(schedule: BillingSchedule | dict) -> dict:
    return schedule if isinstance(schedule, dict) else schedule.as_dict()


def _pool_check(pool: str) -> None:
    try:
        validate_routeros_name(pool)
    except ValidationError as exc:
        raise ValidationError({"pppoe_pool": exc.messages}) from None


def _zone_check(zone: Zone, exclude_pk: int | None = None) -> None:
    name = (zone.name or "").strip()
    if not name:
        raise ValidationError({"name": [_("This field is required.")]})
    clash = Zone.objects.filter(router_id=zone.router_id, name__iexact=name)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError(
            {
                "name": [
                    _("%(router)s already has a zone called «%(name)s».")
                    % {"router": zone.router.name, "name": name}
                ]
            }
        )
    zone.name = name


@transaction.atomic
def zone_create(
    *,
    actor: User | None,
    router: Router,
    name: str,
    schedule: BillingSchedule | dict,
    switches: Switches | None = None,
    pppoe_pool: str = "",
) -> Zone:
    """Add a billing zone to a router; its switches start on, and its cut suspends, unless the
    actor may set them."""
    zone_fields_check(actor=actor)
    _pool_check(pppoe_pool)
    zone = Zone(router=router, name=name, pppoe_pool=pppoe_pool)
    zone.set_schedule(schedule_from(_values(schedule)))
    cut_action_check(actor=actor, before=CutAction.SUSPEND, after=zone.cut_action)
    _zone_check(zone)
    switch_diff = switches_assign(actor=actor, obj=zone, switches=switches or Switches())
    zone.save()
    audit_record(
        actor=actor,
        action="zone.created",
        obj=zone,
        changes={
            "name": [None, zone.name],
            "billing": [None, zone.schedule.as_dict()],
            **({"pppoe_pool": [None, zone.pppoe_pool]} if zone.pppoe_pool else {}),
            **({"periodic_tasks": [None, zone.switches.as_dict()]} if switch_diff else {}),
        },
    )
    return zone


@transaction.atomic
def zone_update(
    *,
    actor: User | None,
    zone: Zone,
    name: str | None = None,
    schedule: BillingSchedule | dict | None = None,
    switches: dict[str, bool] | None = None,
    pppoe_pool: str | None = None,
) -> Zone:
    """Change a zone; a schedule given without what the cut does keeps the zone's. Its
    own-billing clients are never touched: they have their own."""
    zone = locked(Zone.objects.select_related("router")).get(pk=zone.pk)
    # The switches go first, so a refused switch change refuses the whole edit.
    switch_diff = switches_assign(
        actor=actor, obj=zone, switches=zone.switches.replace(**(switches or {}))
    )
    changes: dict = {}
    if name is not None and name.strip() != zone.name:
        zone_fields_check(actor=actor)
        changes["name"] = [zone.name, name.strip()]
        zone.name = name
        _zone_check(zone, exclude_pk=zone.pk)
    if pppoe_pool is not None and pppoe_pool != zone.pppoe_pool:
        zone_fields_check(actor=actor)
        _pool_check(pppoe_pool)
        changes["pppoe_pool"] = [zone.pppoe_pool, pppoe_pool]
        zone.pppoe_pool = pppoe_pool
    if schedule is not None:
        schedule = schedule_from(_values(schedule), base=zone.schedule)
        cut_action_check(actor=actor, before=zone.cut_action, after=schedule.cut_action)
        schedule_diff = schedule_changes(zone.schedule, schedule)
        if set(schedule_diff) - {"billing.cut_action"}:
            zone_fields_check(actor=actor)
        changes.update(schedule_diff)
        zone.set_schedule(schedule)
    zone.save()
    if changes:
        audit_record(actor=actor, action="zone.changed", obj=zone, changes=changes)
    if {"billing.throttle_kbps", "pppoe_pool"} & set(changes):
        # Its throttled clients' queues change speed; its pool clients' secrets, their pool.
        _settings_changed(zone.router)
    if switch_diff:
        audit_record(actor=actor, action="periodic_tasks.changed", obj=zone, changes=switch_diff)
    return zone


@transaction.atomic
def zone_delete(*, actor: User | None, zone: Zone) -> None:
    """Remove a zone that has no clients."""
    zone_fields_check(actor=actor)
    if zone.clients.exists():
        raise ValidationError(_("This zone still has clients; move them to another zone first."))
    audit_record(actor=actor, action="zone.deleted", obj=zone, changes={"name": [zone.name, None]})
    zone.delete()
