"""The signed link to a client's own page: it names one client, when it stops working, and the
client's link revision when it was made (revoking the links raises the revision)."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.urls import reverse

from wispbill.clients.models import Client, ClientState

SALT = "wispbill.portal.link"


@dataclass(frozen=True)
class PortalLink:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class PortalAccess:
    """What a token opens: its client, or None; `revoked` when the token was genuine and
    unexpired but its links were withdrawn (the client was told so, not "incomplete")."""

    client: Client | None
    revoked: bool = False


def portal_token(
    client_id: int, *, revision: int = 0, now: datetime | None = None
) -> tuple[str, datetime]:
    """A token carrying the client id, its expiry (PORTAL_LINK_DAYS from now) and the
    client's link revision (`Client.portal_links_revision`)."""
    now = now or datetime.now(UTC)
    expires = (now + timedelta(days=settings.PORTAL_LINK_DAYS)).replace(microsecond=0)
    data = {"c": client_id, "x": int(expires.timestamp()), "r": revision}
    return signing.dumps(data, salt=SALT), expires


def portal_access(token: str, clients: QuerySet[Client] | None = None) -> PortalAccess:
    """The client an intact, unexpired, unrevoked token names (from `clients`, default every
    client); a cancelled client's links open nothing."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return PortalAccess(None)
    if not isinstance(data, dict):
        return PortalAccess(None)
    # Links made before revisions existed carry none: revision 0.
    client_id, expires, revision = data.get("c"), data.get("x"), data.get("r", 0)
    if not (isinstance(client_id, int) and isinstance(expires, int) and isinstance(revision, int)):
        return PortalAccess(None)
    if expires <= time.time():
        return PortalAccess(None)
    client = (Client.objects.all() if clients is None else clients).filter(pk=client_id).first()
    if client is None:
        return PortalAccess(None)
    if client.portal_links_revision != revision or client.state == ClientState.CANCELLED:
        return PortalAccess(None, revoked=True)
    return PortalAccess(client)


def base_url(company, request=None) -> str:
    """Where clients reach wispbill: the company's public address, else the request's host,
    else the notice page's host (WISPBILL_NOTICE_HOST winning over the setting, as for the
    routers) and port, which clients of the ISP's network always reach. On the notice port
    the request's host is the site the client asked for, so it is never used there (and
    never checked against the panel's allowed hosts)."""
    if company.public_url:
        return company.public_url.rstrip("/")
    if request is not None and not getattr(request, "is_notice", False):
        return f"{request.scheme}://{request.get_host()}"
    host = settings.NOTICE_HOST or company.notice_host
    if host:
        return host.rstrip("/") if "://" in host else f"http://{host}:{settings.NOTICE_PORT}"
    return ""


def portal_link(
    client: Client, *, company, request=None, now: datetime | None = None, page: str = "page"
) -> PortalLink:
    """An absolute, signed link to the client's page (`page` "pay-page": to its pay buttons)."""
    token, expires = portal_token(client.pk, revision=client.portal_links_revision, now=now)
    path = reverse(f"portal:{page}", args=[token])
    return PortalLink(url=f"{base_url(company, request)}{path}", expires_at=expires)
