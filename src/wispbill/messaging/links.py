"""The signed link to a client's own page: it names one client and when it stops working."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "wispbill.portal.link"


@dataclass(frozen=True)
class PortalLink:
    url: str
    expires_at: datetime


def portal_token(client_id: int, *, now: datetime | None = None) -> tuple[str, datetime]:
    """A token carrying the client id and its expiry (PORTAL_LINK_DAYS from now)."""
    now = now or datetime.now(UTC)
    expires = (now + timedelta(days=settings.PORTAL_LINK_DAYS)).replace(microsecond=0)
    token = signing.dumps({"c": client_id, "x": int(expires.timestamp())}, salt=SALT)
    return token, expires


def portal_client_id(token: str) -> int | None:
    """The client id an intact, unexpired token names; None for any other token."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    client_id, expires = data.get("c"), data.get("x")
    if not isinstance(client_id, int) or not isinstance(expires, int):
        return None
    return client_id if expires > time.time() else None


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
    client_id: int, *, company, request=None, now: datetime | None = None
) -> PortalLink:
    """An absolute, signed link to the client's page."""
    token, expires = portal_token(client_id, now=now)
    path = reverse("portal:page", args=[token])
    return PortalLink(url=f"{base_url(company, request)}{path}", expires_at=expires)
