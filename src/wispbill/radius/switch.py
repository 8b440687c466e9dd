"""A router's guided switch between API mode and RADIUS mode, leaving no client without a way
to log in. Turning a router to RADIUS keeps the PPPoE secrets wispbill put on it (RouterOS
tries its own secrets first, so its clients log in as before); they are removed only once
FreeRADIUS is seen accepting a sample of the router's clients, asked as the router through
`wispbill radius`'s probe. Back to API mode, the secrets are pushed again at once."""

import io
import random
from dataclasses import dataclass, field, fields
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from pyrad import packet
from pyrad.client import Client as PyradClient
from pyrad.client import Timeout
from pyrad.dictionary import Dictionary

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.clients.enforcement import routers_changed
from wispbill.clients.models import Access, Client, ClientState
from wispbill.core.db import locked
from wispbill.core.secrets import decrypt
from wispbill.network.models import Aaa, RadiusCut, Router
from wispbill.radius.freeradius import nas_clients, read_probe
from wispbill.staff.permissions import MANAGE_ROUTERS, require_permission_of_person

SAMPLE = 20
PROBE_DICTIONARY = """
ATTRIBUTE	User-Name		1	string
ATTRIBUTE	User-Password		2	string	encrypt=1
ATTRIBUTE	NAS-Identifier		32	string
"""


@dataclass(frozen=True)
class SwitchPreview:
    """What a switch of `router` to `to` changes, before anything does."""

    router: Router
    to: str
    pppoe_clients: int
    secrets_removed: int  # wispbill's secrets taken off the router once RADIUS answers
    secrets_added: int  # wispbill's secrets put back on the router (to API mode)
    without_password: list[str] = field(default_factory=list)  # cannot log in by RADIUS
    commands: list[str] = field(default_factory=list)  # to run on the router, by hand
    # What in `commands` the operator fills in, and with what (wispbill cannot know it).
    placeholders: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "router"}


@dataclass(frozen=True)
class SwitchCheck:
    """What FreeRADIUS answered for a sample of the router's clients."""

    tried: list[str]
    refused: list[str]
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and not self.refused


def _pppoe(router: Router) -> QuerySet[Client]:
    return Client.objects.filter(zone__router=router, access=Access.PPPOE)


def _should_log_in(router: Router) -> QuerySet[Client]:
    """The PPPoE clients FreeRADIUS must accept: every one with service, and the cut ones
    unless the router rejects them."""
    clients = _pppoe(router).exclude(state=ClientState.CANCELLED)
    if router.radius_cut == RadiusCut.REJECT:
        clients = clients.exclude(state=ClientState.SUSPENDED)
    return clients


def switch_preview(*, router: Router, to: str) -> SwitchPreview:
    """What turning `router` to `to` (`"radius"` or `"api"`) will change, on it and here."""
    pppoe = _pppoe(router)
    count = pppoe.count()
    secrets = pppoe.exclude(state=ClientState.CANCELLED).count() if router.provisioning else 0
    if to == Aaa.RADIUS:
        # Translators: placeholders in a RouterOS command: capitals, no spaces or accents.
        server, secret = _("SERVER-ADDRESS"), _("SHARED-SECRET")
        return SwitchPreview(
            router=router,
            to=to,
            pppoe_clients=count,
            secrets_removed=secrets,
            secrets_added=0,
            without_password=sorted(
                pppoe.filter(pppoe_password_encrypted="").values_list("name", flat=True)
            ),
            commands=[
                f'/radius add service=ppp address={server} secret="{secret}" '
                "authentication-port=1812 accounting-port=1813",
                "/ppp aaa set use-radius=yes accounting=yes interim-update=5m",
                f"/radius incoming set accept=yes port={router.coa_port}",
            ],
            placeholders={
                server: _(
                    "the address at which the router reaches the machine running wispbill radius"
                ),
                secret: _("the shared secret set in this router's form"),
            },
        )
    return SwitchPreview(
        router=router,
        to=to,
        pppoe_clients=count,
        secrets_removed=0,
        secrets_added=secrets if router.aaa == Aaa.RADIUS and not router.pushes_secrets else 0,
        commands=["/ppp aaa set use-radius=no", "/radius incoming set accept=no"],
    )


def radius_check(*, router: Router, sample: int = SAMPLE) -> SwitchCheck:
    """Ask FreeRADIUS, as the router, to log in a sample of its clients with their passwords:
    which it refused. A problem instead when FreeRADIUS cannot be asked or does not answer
    the router."""
    if router.pk not in {nas.router_id for nas in nas_clients()[0]}:
        return SwitchCheck([], [], _("FreeRADIUS does not answer this router yet."))
    probe = read_probe(settings.DATA_DIR / "radius")
    if probe is None:
        return SwitchCheck([], [], _("FreeRADIUS is not running here (wispbill radius)."))
    rows = list(
        _should_log_in(router)
        .exclude(pppoe_password_encrypted="")
        .values_list("name", "pppoe_username", "pppoe_password_encrypted")
    )
    rows = random.sample(rows, min(sample, len(rows)))
    radius = PyradClient(
        server="127.0.0.1",
        authport=probe.port,
        secret=probe.secret.encode(),
        dict=Dictionary(io.StringIO(PROBE_DICTIONARY)),
        retries=2,
        timeout=2,
    )
    tried: list[str] = []
    refused: list[str] = []
    for name, username, encrypted in rows:
        request = radius.CreateAuthPacket(code=packet.AccessRequest)
        request["User-Name"] = username
        request["User-Password"] = request.PwCrypt(decrypt(encrypted))
        request["NAS-Identifier"] = str(router.pk)
        try:
            reply = radius.SendPacket(request)
        except (Timeout, OSError):
            return SwitchCheck(tried, refused, _("FreeRADIUS did not answer."))
        tried.append(name)
        if reply.code != packet.AccessAccept:
            refused.append(name)
    return SwitchCheck(sorted(tried), sorted(refused))


@transaction.atomic
def router_radius_confirm(*, actor: User | None, router: Router) -> SwitchCheck:
    """The last step of a switch to RADIUS: when FreeRADIUS accepts the router's clients,
    wispbill's PPPoE secrets leave the router (with its next push). ValidationError, changing
    nothing, when it does not."""
    require_permission_of_person(actor, MANAGE_ROUTERS)
    router = locked(Router.objects).get(pk=router.pk)
    if router.aaa != Aaa.RADIUS or not router.radius_secrets_kept:
        raise ValidationError(
            {"aaa": [_("This router is not waiting to finish a switch to RADIUS.")]}
        )
    check = radius_check(router=router)
    if not check.ok:
        reason = check.problem or _(
            "FreeRADIUS refused %(names)s: their secrets stay on the router."
        ) % {"names": ", ".join(check.refused)}
        raise ValidationError({"aaa": [reason]})
    router.radius_secrets_kept = False
    router.save(update_fields=["radius_secrets_kept", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.ROUTER_CHANGED,
        obj=router,
        changes={"radius_secrets_kept": [True, False]},
    )
    routers_changed([router.pk])
    return check
