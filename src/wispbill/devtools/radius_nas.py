"""The routers' side of a RADIUS benchmark, without Django: a storm of requests sent at a fixed
rate to FreeRADIUS and timed one by one, and a router's CoA port answering after a delay.

pyrad builds every packet (attributes, the PAP password's encryption, the accounting
authenticator); the storm sends them prepared, as raw UDP from a few sockets, and matches each
answer to its request by socket and identifier. Sending through pyrad's client instead waits
for each answer before the next request (one login at a time, as no router does), and building
a packet costs pyrad about a tenth of a millisecond (`build_us` measures it), which a sender of
1,000 a second cannot also spend on the send loop of a single Python thread and stay on time.
"""

import heapq
import io
import random
import selectors
import socket
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from pyrad import packet
from pyrad.dictionary import Dictionary

DICTIONARY = """
ATTRIBUTE	User-Name		1	string
ATTRIBUTE	User-Password		2	string	encrypt=1
ATTRIBUTE	NAS-Identifier		32	string
ATTRIBUTE	Framed-IP-Address	8	ipaddr
ATTRIBUTE	Acct-Status-Type	40	integer
VALUE		Acct-Status-Type	Start			1
VALUE		Acct-Status-Type	Stop			2
VALUE		Acct-Status-Type	Interim-Update		3
ATTRIBUTE	Acct-Input-Octets	42	integer
ATTRIBUTE	Acct-Output-Octets	43	integer
ATTRIBUTE	Acct-Session-Id		44	string
ATTRIBUTE	Error-Cause		101	integer
VENDOR		Mikrotik		14988
BEGIN-VENDOR	Mikrotik
ATTRIBUTE	Mikrotik-Rate-Limit	8	string
ATTRIBUTE	Mikrotik-Address-List	19	string
END-VENDOR	Mikrotik
"""
# Requests in flight are told apart by (socket, identifier): 256 identifiers per socket.
SOCKETS = 32
ACCESS_ACCEPT, ACCOUNTING_RESPONSE = 2, 5


def dictionary() -> Dictionary:
    return Dictionary(io.StringIO(DICTIONARY))


@dataclass(frozen=True)
class Prepared:
    socket: int
    ident: int
    data: bytes


def _slot(n: int) -> tuple[int, int]:
    return n % SOCKETS, (n // SOCKETS) % 256


def access_requests(secret: bytes, logins: Iterable[tuple[str, str]]) -> list[Prepared]:
    """PAP Access-Requests, one per (username, password)."""
    radius_dict, out = dictionary(), []
    for n, (username, password) in enumerate(logins):
        sock, ident = _slot(n)
        request = packet.AuthPacket(id=ident, secret=secret, dict=radius_dict)
        request["User-Name"] = username
        request["User-Password"] = request.PwCrypt(password)
        out.append(Prepared(sock, ident, request.RequestPacket()))
    return out


def accounting_requests(secret: bytes, status: str, sessions: Iterable[tuple]) -> list[Prepared]:
    """Accounting-Requests of one `status`, one per (username, session id, ip, input octets)."""
    radius_dict, out = dictionary(), []
    for n, (username, session_id, ip, octets) in enumerate(sessions):
        sock, ident = _slot(n)
        request = packet.AcctPacket(id=ident, secret=secret, dict=radius_dict)
        request["User-Name"] = username
        request["Acct-Status-Type"] = status
        request["Acct-Session-Id"] = session_id
        request["Framed-IP-Address"] = ip
        request["Acct-Input-Octets"] = octets
        request["Acct-Output-Octets"] = octets * 4
        out.append(Prepared(sock, ident, request.RequestPacket()))
    return out


def build_us(secret: bytes, count: int = 2_000) -> float:
    """What pyrad takes to build one PAP Access-Request, in microseconds (median of 5 runs)."""
    logins = [(f"user{n}", "password") for n in range(count)]
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        access_requests(secret, logins)
        runs.append((time.perf_counter() - start) / count * 1e6)
    return statistics.median(runs)


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def storm(address: tuple[str, int], requests: list[Prepared], rate: float, *, settle=3.0) -> dict:
    """Send `requests` at `rate` a second (each at its planned instant, whatever came back),
    and time each answer from its send. Returns the counts, the latency percentiles in ms,
    the rate answered, and the fewest answers in any whole second of the storm."""
    sockets = []
    selector = selectors.DefaultSelector()
    for n in range(SOCKETS):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        udp.connect(address)
        udp.setblocking(False)
        selector.register(udp, selectors.EVENT_READ, n)
        sockets.append(udp)
    in_flight: dict[tuple[int, int], float] = {}
    latencies: list[float] = []
    codes: Counter = Counter()
    per_second: Counter = Counter()
    late = 0.0  # how far behind its plan the sender ever fell
    total, sent = len(requests), 0
    start = time.perf_counter()
    try:
        while True:
            now = time.perf_counter()
            while sent < total and start + sent / rate <= now:
                item = requests[sent]
                late = max(late, now - (start + sent / rate))
                sockets[item.socket].send(item.data)
                in_flight[(item.socket, item.ident)] = time.perf_counter()
                sent += 1
            if sent == total:
                if not in_flight or now > start + total / rate + settle:
                    break
                timeout = 0.05
            else:
                timeout = max(0.0, start + sent / rate - time.perf_counter())
            for key, _events in selector.select(timeout):
                udp = sockets[key.data]  # registered with its index as its data
                while True:
                    try:
                        data = udp.recv(4096)
                    except (BlockingIOError, ConnectionRefusedError):
                        break
                    at = time.perf_counter()
                    sent_at = in_flight.pop((key.data, data[1]), None)
                    if sent_at is None:
                        continue
                    latencies.append(at - sent_at)
                    codes[data[0]] += 1
                    per_second[int(at - start)] += 1
    finally:
        for udp in sockets:
            selector.unregister(udp)
            udp.close()
        selector.close()
    whole = int(total / rate)
    return {
        "sent": total,
        "answered": len(latencies),
        "lost": total - len(latencies),
        "codes": dict(codes),
        "answered_per_s": len(latencies) / (total / rate),
        "fewest_in_a_second": min((per_second[s] for s in range(whole)), default=0),
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
        "sender_late_ms": late * 1000,
    }


def coa_listener(port_out, stop, counts, secret: bytes, delay: float) -> None:
    """A router's CoA port (run in a process of its own): acknowledges each CoA-Request and
    Disconnect-Request `delay` seconds after it came, many at once, as a busy router does.
    Puts its port in `port_out`; counts what it got in `counts` (CoA, Disconnect, bad, and
    the most requests it held at once, waiting for their answer)."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    udp.bind(("127.0.0.1", 0))
    port_out.put(udp.getsockname()[1])
    radius_dict = dictionary()
    due: list[tuple[float, int, bytes, tuple]] = []
    order = 0
    while not stop.is_set():
        timeout = 0.05 if not due else max(0.0, min(0.05, due[0][0] - time.monotonic()))
        udp.settimeout(max(timeout, 0.001))
        try:
            data, source = udp.recvfrom(4096)
        except (TimeoutError, BlockingIOError):
            data = None
        if data is not None:
            request = packet.CoAPacket(packet=data, secret=secret, dict=radius_dict)
            if not request.VerifyCoARequest():
                counts[2] += 1
            else:
                reply = request.CreateReply()
                if request.code == packet.CoARequest:
                    counts[0] += 1
                    reply.code = packet.CoAACK
                else:
                    counts[1] += 1
                    reply.code = packet.DisconnectACK
                order += 1
                heapq.heappush(due, (time.monotonic() + delay, order, reply.ReplyPacket(), source))
                counts[3] = max(counts[3], len(due))
        while due and due[0][0] <= time.monotonic():
            _at, _order, raw, source = heapq.heappop(due)
            udp.sendto(raw, source)
    udp.close()


def shuffled(items: list, seed: int = 21) -> list:
    out = list(items)
    random.Random(seed).shuffle(out)
    return out
