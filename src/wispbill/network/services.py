"""Routers (their billing zones' services are `clients.services.zones`: a zone's switches
govern its clients)."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.core.db import jsonable, locked, model_changes, model_update
from wispbill.core.wire import validate_one_line
from wispbill.network.models import (
    Aaa,
    Enforcement,
    PppoeCut,
    RadiusCut,
    Router,
    validate_radius_secret,
)
from wispbill.network.signals import router_settings_changed
from wispbill.network.tls import normalise_fingerprint
from wispbill.staff.changes import ANY, changes_authorize

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


def _meanings(router: Router, data: dict) -> set[str]:
    """The keys of the permission table (`staff.changes`) that what `data` does to the router
    means, beyond its fields: its enforcement turned off, a router allowed on this server or
    on a local-only address, or one so allowed moved."""
    keys = set()
    if (
        router.enforcement == Enforcement.MIKROTIK
        and data.get("enforcement", router.enforcement) != Enforcement.MIKROTIK
    ):
        keys.add("enforcement:off")
    if data.get("allow_local_host", router.allow_local_host) and not router.allow_local_host:
        keys.add("allow_local_host:on")
    if router.allow_local_host and any(
        f in data and _differs(router, f, data[f]) for f in WHERE_FIELDS
    ):
        keys.add("where:local_host")
    return keys


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
    # A new router is a change of every field, and may ask for an administrator.
    keys = {ANY, *_meanings(Router(), {"allow_local_host": allow_local_host})}
    changes_authorize(actor, "router", keys)
    if not enforcement:
        enforcement = Enforcement.MIKROTIK if username and password else Enforcement.NONE
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
        action=AuditAction.ROUTER_CREATED,
        obj=router,
        changes={f: [None, jsonable(getattr(router, f))] for f in ROUTER_FIELDS},
    )
    _settings_changed(router)
    return router


@transaction.atomic
def router_update(*, actor: User | None, router: Router, data: dict) -> Router:
    """Change a router's connection or lists (the `ROUTER_FIELDS` and `password` that `data`
    carries); a password left out or empty is kept, unless the connection changes: then it
    must come again. The whole change is authorized before anything is written (turning the
    enforcement off needs the switch permission too; `staff.changes`)."""
    router = locked(Router.objects).get(pk=router.pk)
    secrets = [f for f in ("password", "radius_secret") if data.get(f)]
    # The routers' permission even for a change that turns out to change nothing.
    keys = {ANY, *model_changes(instance=router, fields=ROUTER_FIELDS, data=data), *secrets}
    changes_authorize(actor, "router", keys | _meanings(router, data))
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
    aaa_before = router.aaa
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
    if router.aaa != aaa_before:
        # Its secrets stay until FreeRADIUS answers for them (wispbill.radius.switch); back
        # in API mode, they are pushed again at once.
        router.radius_secrets_kept = router.aaa == Aaa.RADIUS
        router.save(update_fields=["radius_secrets_kept", "updated_at"])
    if changes:
        audit_record(actor=actor, action=AuditAction.ROUTER_CHANGED, obj=router, changes=changes)
        _settings_changed(router)
    return router
