from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from wispbill.radius.models import Sent, Session


def session_list(
    *, client: int | None = None, router: int | None = None, active: bool | None = None
) -> QuerySet[Session]:
    """The accounted sessions, newest first: of a client, of a router, online or ended."""
    qs = Session.objects.all()
    if client is not None:
        qs = qs.filter(client_id=client)
    if router is not None:
        qs = qs.filter(router_id=router)
    if active is not None:
        qs = qs.filter(stopped_at__isnull=active)
    return qs


def client_radius_status(client_id: int) -> dict[str, Any]:
    """Whether the client is online (an open session: since when, at which address, through
    which router), and the last change of authorization sent to its session with what came
    of it (docs/contract.md, "RADIUS routers")."""
    session = session_list(client=client_id, active=True).select_related("router").first()
    sent: Mapping[str, Any] = (
        Sent.objects.filter(pk=client_id).values("coa_at", "coa_result").first() or {}
    )
    return {
        "online": session is not None,
        "online_since": session.started_at if session else None,
        "online_ip": session.ip if session else None,
        "online_router": session.router.name if session and session.router else None,
        "last_coa_at": sent.get("coa_at"),
        "last_coa_result": sent.get("coa_result") or None,
    }
