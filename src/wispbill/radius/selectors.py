from django.db.models import QuerySet

from wispbill.radius.models import Session


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
