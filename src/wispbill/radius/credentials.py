"""Each PPPoE client of a RADIUS router has its `Credential` while it has a password: written
with the client (its post_save, inside the service's transaction), refreshed for a router
that turns to RADIUS, and swept by `wispbill radius` for the clients that bulk imports create
without signals. The `radius_user` view serves a credential only while it still matches its
client, so whatever the sweep has not reached yet fails closed."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from wispbill.clients.models import Access, Client
from wispbill.core.db import among
from wispbill.core.secrets import decrypt
from wispbill.network.models import Aaa
from wispbill.radius.models import Credential

# What rlm_sql copies into a query as it is (FreeRADIUS's default list, set in the generated
# configuration too); any other character of one byte becomes `=XX`, its hex code, and
# characters of several UTF-8 bytes pass whole (none of their bytes is a quote).
SAFE_CHARACTERS = "@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_: /"
_CREDENTIAL_FIELDS = {"access", "pppoe_username", "pppoe_password_encrypted", "zone"}
BATCH = 2000


def sql_escape(text: str) -> str:
    """A username as rlm_sql writes it into its query: what the view's `username` holds, so a
    quote, a `%` or a space a router sends is compared, never executed."""
    out = []
    for ch in text:
        if len(ch.encode()) > 1 or (ch in SAFE_CHARACTERS and ch >= " "):
            out.append(ch)
        else:
            out.append(f"={ord(ch):02X}")
    return "".join(out)


def _credential(client_id: int, username: str, encrypted: str) -> Credential:
    return Credential(
        client_id=client_id,
        login=username,
        username=sql_escape(username),
        password=decrypt(encrypted),
        source=encrypted,
    )


def _radius_clients() -> QuerySet[Client]:
    return Client.objects.filter(access=Access.PPPOE, zone__router__aaa=Aaa.RADIUS).exclude(
        pppoe_password_encrypted=""
    )


def on_client_saved(
    sender: object,
    instance: Client,
    update_fields: Iterable[str] | None = None,
    **kwargs: Any,
) -> None:
    if update_fields is not None and not _CREDENTIAL_FIELDS & set(update_fields):
        return
    credentials_refresh(client_ids=[instance.pk])


@transaction.atomic
def credentials_refresh(
    *, router_ids: Iterable[int] | None = None, client_ids: Iterable[int] | None = None
) -> int:
    """Make the credentials of these routers' (or clients', or everybody's) clients match them:
    removed where a client is no longer a PPPoE client of a RADIUS router with a password,
    written where missing or stale. Returns how many were written."""
    clients = Q()  # the clients in scope
    if router_ids is not None:
        clients &= Q(zone__router_id__in=among(list(router_ids)))
    if client_ids is not None:
        clients &= Q(pk__in=among(list(client_ids)))
    in_scope = Client.objects.filter(clients).values("pk")
    wanted = _radius_clients()
    Credential.objects.filter(client__in=in_scope).exclude(client__in=wanted.values("pk")).delete()
    current = Credential.objects.filter(
        client=OuterRef("pk"),
        login=OuterRef("pppoe_username"),
        source=OuterRef("pppoe_password_encrypted"),
    )
    stale = list(
        wanted.filter(clients)
        .exclude(Exists(current))
        .values_list("pk", "pppoe_username", "pppoe_password_encrypted")
    )
    for start in range(0, len(stale), BATCH):
        chunk = stale[start : start + BATCH]
        Credential.objects.filter(client_id__in=[pk for pk, _u, _p in chunk]).delete()
        Credential.objects.bulk_create(_credential(*row) for row in chunk)
    return len(stale)


def on_router_settings_changed(sender: object, *, router_ids: set[int], **kwargs: Any) -> None:
    """A router turned to RADIUS gets its clients' credentials; one turned back loses them."""
    credentials_refresh(router_ids=router_ids)
