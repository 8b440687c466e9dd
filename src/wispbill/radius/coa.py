"""Changes of authorization (RFC 5176) for live sessions: when a RADIUS client's state, plan or
notice changes, its router gets a CoA-Request with the new attributes; on a CoA-NAK or no
answer, a Disconnect-Request, so the client logs in again and gets them from FreeRADIUS.

The sweep compares, set-based, what each client should have now (the `radius_user` view) with
what its session was last given (`Sent`), so every path that changes a client, a bulk daily
run included, is covered without a hook in it. It runs in `wispbill radius`, after the
commits it reads, one sweep at a time (never two requests at once for one client), and what
gets no answer is tried again at the next sweep."""

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from django.db import connection
from django.utils import timezone
from pyrad import packet
from pyrad.client import Client as PyradClient
from pyrad.client import Timeout
from pyrad.dictionary import Dictionary

from wispbill.clients.models import Access, Client
from wispbill.network.hosts import resolve_for_router
from wispbill.network.models import Aaa, Router
from wispbill.radius.models import CoaResult, Sent

DICTIONARY = """
ATTRIBUTE	User-Name		1	string
ATTRIBUTE	Framed-IP-Address	8	ipaddr
ATTRIBUTE	Error-Cause		101	integer
VENDOR		Mikrotik		14988
BEGIN-VENDOR	Mikrotik
ATTRIBUTE	Mikrotik-Rate-Limit	8	string
ATTRIBUTE	Mikrotik-Address-List	19	string
END-VENDOR	Mikrotik
"""
TIMEOUT_SECONDS, TRIES = 2, 2
_DICTIONARY = Dictionary(io.StringIO(DICTIONARY))
# Requests in flight at once, over all routers (one at most per client).
CONCURRENT = 64


@dataclass(frozen=True)
class Session:
    """What a client's session should carry."""

    router_id: int
    login: str
    allowed: bool
    ip: str = ""
    rate_limit: str = ""
    address_list: str = ""


def _wanted() -> dict[int, Session]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, ip, rate_limit, address_list FROM radius_user")
        live = {cid: (ip or "", rate, lists) for cid, ip, rate, lists in cursor.fetchall()}
    clients = Client.objects.filter(access=Access.PPPOE, zone__router__aaa=Aaa.RADIUS)
    return {
        cid: Session(router_id, login, cid in live, *live.get(cid, ()))
        for cid, router_id, login in clients.values_list("pk", "zone__router_id", "pppoe_username")
    }


def _session(row: Sent) -> Session:
    return Session(row.router_id, row.login, row.allowed, row.ip, row.rate_limit, row.address_list)


def _needs_new_login(before: Session, now: Session) -> bool:
    """What a CoA cannot do: end the service, move the session, take an address or a list
    away (RouterOS keeps an address list a CoA no longer names)."""
    return (
        not now.allowed
        or (before.router_id, before.login, before.ip) != (now.router_id, now.login, now.ip)
        or bool(before.address_list and not now.address_list)
    )


class Nas:
    """One router's CoA port. Each request has its own socket, so a router's sessions can be
    told concurrently; after a silence the router is taken as down for the rest of the sweep."""

    def __init__(self, router: Router):
        # Checked again where it leaves: a host name may have come to point at this server.
        self.server: str | None
        try:
            self.server = resolve_for_router(
                router.host, router.coa_port, allow_local=router.allow_local_host, coa=True
            )
        except ValueError:
            self.server = None
        self.port, self.secret = router.coa_port, router.radius_secret.encode()
        self.reachable = self.server is not None

    def send(self, code: int, session: Session) -> bool | None:
        """True for an ACK, False for a NAK, None for no answer."""
        if not self.reachable:
            return None
        client = PyradClient(
            server=self.server,
            coaport=self.port,
            secret=self.secret,
            dict=_DICTIONARY,
            retries=TRIES,
            timeout=TIMEOUT_SECONDS,
        )
        request = client.CreateCoAPacket(code=code)
        request["User-Name"] = session.login
        if code == packet.CoARequest:
            if session.ip:
                request["Framed-IP-Address"] = session.ip
            request["Mikrotik-Rate-Limit"] = session.rate_limit
            if session.address_list:
                request["Mikrotik-Address-List"] = session.address_list
        try:
            reply = client.SendPacket(request)
        except (Timeout, OSError):
            self.reachable = False
            return None
        finally:
            client._CloseSocket()  # one socket per request: no descriptor outlives it
        return reply.code in (packet.CoAACK, packet.DisconnectACK)

    def change(self, before: Session, now: Session) -> CoaResult:
        """Bring the session from `before` to `now`: a CoA, or a Disconnect when a CoA cannot
        do it or is refused (a NAK to both means the router has no such session: the next
        login gets `now` anyway)."""
        if not _needs_new_login(before, now):
            answer = self.send(packet.CoARequest, now)
            if answer:
                return CoaResult.ACKNOWLEDGED
            if answer is None:
                return CoaResult.NO_ANSWER
        if self.send(packet.DisconnectRequest, before) is None:
            return CoaResult.NO_ANSWER
        return CoaResult.DISCONNECTED


def coa_sweep() -> int:
    """Send each RADIUS client's router what changed for it since its session was last told,
    all at once (a plan's new speed reaches its thousand sessions in a few round trips, not
    a thousand). Returns how many sessions were told. Each client has one request in flight
    at most, with what it should have now, so changes in a row coalesce into one; what gets
    no answer is tried at the next sweep."""
    wanted = _wanted()
    Sent.objects.exclude(
        client_id__in=Client.objects.filter(
            access=Access.PPPOE, zone__router__aaa=Aaa.RADIUS
        ).values("pk")
    ).delete()
    known = {row.client_id: row for row in Sent.objects.all()}
    # A session never seen is as its login made it: FreeRADIUS answered it from the same data.
    Sent.objects.bulk_create(
        Sent(client_id=cid, **asdict(session))
        for cid, session in wanted.items()
        if cid not in known
    )
    routers = {r.pk: r for r in Router.objects.filter(aaa=Aaa.RADIUS)}
    nases: dict[int, Nas] = {}
    jobs: dict[int, tuple[Nas, Session, Session]] = {}
    for cid, now in wanted.items():
        row = known.get(cid)
        if row is None or _session(row) == now:
            continue
        before = _session(row)
        router = routers.get(before.router_id)
        if router is None:  # its old router left RADIUS: nothing to tell it
            Sent.objects.filter(pk=cid).update(**asdict(now))
            continue
        jobs[cid] = (nases.setdefault(router.pk, Nas(router)), before, now)
    if not jobs:
        return 0
    with ThreadPoolExecutor(max_workers=min(CONCURRENT, len(jobs))) as pool:
        results = dict(
            zip(
                jobs,
                pool.map(lambda job: job[0].change(job[1], job[2]), jobs.values()),
                strict=True,
            )
        )
    at = timezone.now()
    for cid, result in results.items():
        told = {} if result == CoaResult.NO_ANSWER else asdict(jobs[cid][2])
        Sent.objects.filter(pk=cid).update(coa_at=at, coa_result=result, **told)
    return sum(result != CoaResult.NO_ANSWER for result in results.values())
