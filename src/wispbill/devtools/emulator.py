"""A RouterOS API emulator on loopback, for tests, benchmarks and trying wispbill without a
router: the real wire protocol (length-prefixed words,
sentences, !re/!done/!trap/!fatal, .tag, the post-6.43 login, the query language), in-memory
menus (address lists, firewall tables, PPP secrets, profiles and live sessions, simple queues,
DHCP leases) that print and trap as RouterOS does, counts of writes and round trips, and faults
to inject. Written from the protocol, not from any client."""

import contextlib
import hashlib
import heapq
import ipaddress
import itertools
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from decimal import Decimal


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x4000:
        return (n | 0x8000).to_bytes(2, "big")
    if n < 0x200000:
        return (n | 0xC00000).to_bytes(3, "big")
    if n < 0x10000000:
        return (n | 0xE0000000).to_bytes(4, "big")
    return b"\xf0" + n.to_bytes(4, "big")


def encode_word(word: str) -> bytes:
    """A router keeps bytes, not text: words travel as the bytes they arrived as (read as
    Latin-1, which maps every byte to one character). Text a test seeds beyond Latin-1 goes
    out as UTF-8, as if a UTF-8 client (WebFig, the REST API) had typed it."""
    try:
        return word.encode("latin-1")
    except UnicodeEncodeError:
        return word.encode("utf-8")


def encode_sentence(words: list[str]) -> bytes:
    out = bytearray()
    for word in words:
        data = encode_word(word)
        out += encode_length(len(data)) + data
    return bytes(out + b"\x00")


class _Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buffer = bytearray()

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("peer closed")
            self.buffer += chunk
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def length(self) -> int:
        first = self._take(1)[0]
        if first < 0x80:
            return first
        if first < 0xC0:
            return ((first & 0x3F) << 8) | self._take(1)[0]
        if first < 0xE0:
            return ((first & 0x1F) << 16) | int.from_bytes(self._take(2), "big")
        if first < 0xF0:
            return ((first & 0x0F) << 24) | int.from_bytes(self._take(3), "big")
        return int.from_bytes(self._take(4), "big")

    def sentence(self) -> list[str]:
        words: list[str] = []
        while True:
            n = self.length()
            if n == 0:
                return words
            words.append(self._take(n).decode("latin-1"))


# Properties RouterOS prints as true/false, whatever yes/no/true/false they were given as.
BOOLEAN = frozenset({"disabled", "dynamic", "invalid", "blocked", "radius"})
# Verbs that change a router: each one received is counted in `writes`.
WRITES = frozenset({"add", "set", "remove", "enable", "disable"})


class Trap(Exception):
    pass


def _boolean(key: str, value: str) -> str:
    if value.lower() in ("yes", "true"):
        return "true"
    if value.lower() in ("no", "false"):
        return "false"
    raise Trap(f"value of {key} must be yes or no")


# Rates are parsed here, not with wispbill's own speeds module, so that a bug there cannot
# hide behind the same bug in the router that tests it.
def _bps(key: str, text: str) -> str:
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([kKmMgG]?)", text)
    if match is None:
        raise Trap(f"invalid value for argument {key}")
    scale = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[match[2].lower()]
    return str(int(Decimal(match[1]) * scale))


def _rate_pair(key: str, text: str) -> str:
    """RouterOS keeps `10M/2M` as `10000000/2000000`; one rate stands for both directions."""
    parts = text.split("/")
    if len(parts) > 2:
        raise Trap(f"invalid value for argument {key}")
    return "/".join(_bps(key, part) for part in (parts * 2)[:2])


def _time_pair(key: str, text: str) -> str:
    parts = text.split("/")
    if len(parts) > 2 or not all(re.fullmatch(r"[0-9]+[smhdw]?", p) for p in parts):
        raise Trap(f"invalid value for argument {key}")
    return "/".join(p if p[-1].isalpha() else f"{p}s" for p in (parts * 2)[:2])


def _is_address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _target(key: str, text: str) -> str:
    """A bare IPv4 address in a queue's target is kept with its /32."""
    parts = [p if "/" in p or p.count(".") != 3 else f"{p}/32" for p in text.split(",")]
    return ",".join(parts)


class Table:
    """One RouterOS menu: rows with .id in the router's order, add/set/remove/print, unique
    keys with the trap RouterOS sends for a duplicate, defaults, and values kept the way
    RouterOS prints them."""

    def __init__(
        self,
        *,
        unique: tuple[str, ...] = (),
        duplicate: str = "failure: already have such entry",
        defaults: dict[str, str] | None = None,
        fields: dict[str, Callable[[str, str], str]] | None = None,
        auto_name: str = "",
        first_id: int = 1,
    ):
        self.rows: dict[str, dict] = {}
        self.unique = unique
        self.duplicate = duplicate
        self.defaults = defaults or {}
        self.fields = fields or {}
        self.auto_name = auto_name
        self.ids = itertools.count(first_id)
        self.keys: set[tuple] = set()

    def _key(self, row: dict) -> tuple:
        return tuple(row.get(k) for k in self.unique)

    def normalise(self, key: str, value: str) -> str:
        if key in BOOLEAN:
            return _boolean(key, value)
        convert = self.fields.get(key)
        return convert(key, value) if convert else value

    def add(self, attrs: dict) -> str:
        attrs = dict(attrs)
        before = attrs.pop("place-before", None)
        attrs.pop(".id", None)
        row = {**self.defaults, **{k: self.normalise(k, v) for k, v in attrs.items()}}
        if self.auto_name and not row.get("name"):
            taken = {r.get("name") for r in self.rows.values()}
            row["name"] = next(
                f"{self.auto_name}{n}"
                for n in itertools.count(1)
                if f"{self.auto_name}{n}" not in taken
            )
        if self.unique and self._key(row) in self.keys:
            raise Trap(self.duplicate)
        if before is not None and before not in self.rows:
            raise Trap("no such item")
        rid = f"*{next(self.ids):X}"
        row = {".id": rid, **row}
        if self.unique:
            self.keys.add(self._key(row))
        if before is None:
            self.rows[rid] = row
        else:
            # Rule order matters in firewall chains: rebuild the table with the row in place.
            rows = list(self.rows.items())
            index = next(i for i, (key, _r) in enumerate(rows) if key == before)
            rows.insert(index, (rid, row))
            self.rows = dict(rows)
        return rid

    def _existing(self, ids: list[str]) -> list[dict]:
        if not ids or any(i not in self.rows for i in ids):
            raise Trap("no such item")
        return [self.rows[i] for i in ids]

    def set(self, ids: list[str], attrs: dict) -> None:
        changes = {k: self.normalise(k, v) for k, v in attrs.items()}
        for row in self._existing(ids):
            if self.unique:
                old, new = self._key(row), self._key({**row, **changes})
                if new != old:
                    if new in self.keys:
                        raise Trap(self.duplicate)
                    self.keys.discard(old)
                    self.keys.add(new)
            row.update(changes)

    def remove(self, ids: list[str]) -> list[dict]:
        gone = self._existing(ids)
        for row in gone:
            del self.rows[row[".id"]]
            self.keys.discard(self._key(row))
        return gone

    def find(self, queries: list[str]) -> list[dict]:
        return [row for row in self.rows.values() if self._matches(row, queries)]

    def _matches(self, row: dict, queries: list[str]) -> bool:
        """The API's query language: a stack of true/false pushed by `?name`, `?-name`,
        `?name=x` (or `?=name=x`), `?<name=x`, `?>name=x`, combined by `?#` operations
        (`!` not, `&` and, `|` or, `.` drop); the row matches when every value left is true."""
        stack: list[bool] = []
        try:
            for query in queries:
                if query.startswith("#"):
                    for op in query[1:]:
                        if op == "!":
                            stack.append(not stack.pop())
                        elif op in "&|":
                            right, left = stack.pop(), stack.pop()
                            stack.append(left and right if op == "&" else left or right)
                        elif op == ".":
                            stack.pop()
                        else:
                            raise Trap(f"unknown query operation {op}")
                    continue
                if query.startswith("-"):
                    stack.append(query[1:] not in row)
                    continue
                op = query[0] if query[:1] in ("=", "<", ">") else "="
                key, sep, value = (query[1:] if query[:1] in ("=", "<", ">") else query).partition(
                    "="
                )
                if not sep:
                    stack.append(key in row)
                    continue
                stack.append(_compare(op, row.get(key), self._query_value(key, value)))
        except IndexError:
            raise Trap("invalid query") from None
        return all(stack)

    def _query_value(self, key: str, value: str) -> str | None:
        try:
            return self.normalise(key, value)
        except Trap:
            return None  # a value the property cannot hold matches nothing


def _compare(op: str, have: str | None, want: str | None) -> bool:
    if have is None or want is None:
        return False
    if op == "=":
        return have == want
    if have.isdigit() and want.isdigit():
        low, high = (int(have), int(want)) if op == "<" else (int(want), int(have))
        return low < high
    return have < want if op == "<" else have > want


class RouterOSEmulator:
    def __init__(
        self,
        *,
        username: str = "admin",
        password: str = "secret",
        rtt: float = 0.0,
        tls: bool = False,
    ):
        self.username, self.password = username, password
        self.rtt = rtt
        self.tls = tls
        self.lock = threading.Lock()
        self.address_list = Table(
            unique=("list", "address"), defaults={"dynamic": "false", "disabled": "false"}
        )
        self.filter = Table()
        self.nat = Table()
        self.ppp_secret = Table(
            unique=("name",),
            duplicate="failure: secret with the same name already exists",
            defaults={"service": "any", "password": "", "profile": "default", "disabled": "false"},
        )
        self.ppp_profile = Table(unique=("name",), duplicate="failure: already have such name")
        for profile in ("default", "default-encryption"):
            self.ppp_profile.add({"name": profile})
        # Session ids look like a real router's (*80000001...), far from the secrets' ids.
        self.ppp_active = Table(first_id=0x80000001)
        # Address pools (`ranges` as "10.80.0.2-10.80.0.254"): a secret whose remote-address
        # names one gets the first free address of it when its client dials in.
        self.ip_pool = Table(unique=("name",), duplicate="failure: already have such name")
        self.queue_simple = Table(
            unique=("name",),
            duplicate="failure: already have such name",
            auto_name="queue",
            defaults=dict(QUEUE_DEFAULTS),
            fields={
                "target": _target,
                "max-limit": _rate_pair,
                "limit-at": _rate_pair,
                "burst-limit": _rate_pair,
                "burst-threshold": _rate_pair,
                "burst-time": _time_pair,
            },
        )
        self.dhcp_lease = Table(
            defaults={
                "server": "all",
                "status": "waiting",
                "blocked": "false",
                "dynamic": "false",
                "disabled": "false",
            }
        )
        self.menus: dict[str, Table] = {
            "/ip/firewall/address-list": self.address_list,
            "/ip/firewall/filter": self.filter,
            "/ip/firewall/nat": self.nat,
            "/ppp/secret": self.ppp_secret,
            "/ppp/profile": self.ppp_profile,
            "/ppp/active": self.ppp_active,
            "/ip/pool": self.ip_pool,
            "/queue/simple": self.queue_simple,
            "/ip/dhcp-server/lease": self.dhcp_lease,
        }
        self.commands: list[str] = []  # every command word received, for assertions
        # Every add/set/remove/enable/disable received, on any menu, even one that trapped:
        # a preview that must not write can be held to zero.
        self.writes = 0
        self.write_log: list[tuple[str, dict]] = []
        self.connections = 0
        self.logins = 0  # /login sentences received: where a password would have been sent
        # The most commands received and not yet answered at once: above 1 means the client
        # pipelines. A command that arrives when nothing is in flight starts a round trip.
        self.in_flight = 0
        self.max_in_flight = 0
        self.round_trips = 0
        # PPPoE clients: a session removed while its secret is enabled dials again, and the
        # new session is there before the next command is handled (or the next `sessions()`).
        self.redial = True
        self._redials: list[dict] = []
        self._session_start: dict[str, float] = {}
        self._dialled = itertools.count(1)
        # Faults
        self.drop_after: int | None = None  # close a connection after this many commands
        self.trap_when: Callable[[str, dict], str | None] | None = None
        self.fatal_login = False
        # Quirks of simpler implementations: answering untagged, ignoring ?queries.
        self.untagged = False
        self.ignore_queries = False
        self._server: socket.socket | None = None
        self.port: int | None = None
        self._threads: list[threading.Thread] = []

    # -- life ----------------------------------------------------------------------------

    def start(self, port: int = 0) -> "RouterOSEmulator":
        """Listen on loopback: on `port`, or on a free one (see `.port`)."""
        self._listen(port)
        return self

    def _listen(self, port: int) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen(16)
        self._server = server
        self.port = server.getsockname()[1]
        thread = threading.Thread(target=self._accept, args=(server,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def go_down(self) -> None:
        """Stop listening: connections are refused until `come_back`."""
        if self._server is not None:
            # shutdown wakes the thread blocked in accept(); close alone leaves it listening.
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None

    def come_back(self) -> None:
        if self.port is None:
            raise RuntimeError("the emulator was never started: it has no port to come back on")
        self._listen(self.port)

    def stop(self) -> None:
        self.go_down()

    def _accept(self, server) -> None:
        while True:
            try:
                sock, _addr = server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _tls_context(self):
        from wispbill.devtools.emulator_certs import server_context

        return server_context()

    @property
    def tls_fingerprint(self) -> str:
        """SHA-256 of the certificate the TLS port shows, lowercase hex."""
        from wispbill.devtools.emulator_certs import certificate_der

        return hashlib.sha256(certificate_der()).hexdigest()

    # -- a connection --------------------------------------------------------------------

    def _serve(self, sock) -> None:
        if self.tls:
            # Handshake here, not in the accept loop: a client that gives up on it (as one
            # with a pinned certificate may) must not stop the router from accepting others.
            try:
                sock = self._tls_context().wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError):
                sock.close()
                return
        reader = _Reader(sock)
        outbox: list = []
        cond = threading.Condition()
        closed = threading.Event()
        seq = itertools.count()

        def writer():
            # No timed waits on the condition: under libfaketime (a test run at a faked
            # instant) they stall, and the client's socket timed out. The connection's end
            # notifies (the handler's `finally`); the round trip is slept, outside the lock
            # (answers are due in the order they were queued, so the first is the next).
            while not closed.is_set():
                with cond:
                    while not outbox and not closed.is_set():
                        cond.wait()
                    if closed.is_set():
                        return
                    due, _n, data = outbox[0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        heapq.heappop(outbox)
                if wait > 0:
                    time.sleep(wait)
                    continue
                try:
                    if data is None:
                        sock.close()
                        closed.set()
                        return
                    # Answered before it is sent: a client that waits for this reply can only
                    # send its next command after this count has dropped.
                    if data.startswith(encode_sentence(["!done"])[:-1]):
                        with self.lock:
                            self.in_flight -= 1
                    sock.sendall(data)
                except OSError:
                    closed.set()
                    return

        threading.Thread(target=writer, daemon=True).start()

        def send(sentences: list[list[str]], close: bool = False) -> None:
            due = time.monotonic() + self.rtt
            with cond:
                for words in sentences:
                    heapq.heappush(outbox, (due, next(seq), encode_sentence(words)))
                if close:
                    heapq.heappush(outbox, (due, next(seq), None))
                cond.notify()

        logged_in = False
        handled = 0
        try:
            while not closed.is_set():
                words = reader.sentence()
                if not words:
                    continue
                command, attrs, queries, tag = _split(words)
                if self.drop_after is not None and handled >= self.drop_after:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                    closed.set()
                    return
                handled += 1
                with self.lock:
                    if self.in_flight == 0:
                        self.round_trips += 1
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                suffix = [f".tag={tag}"] if tag is not None and not self.untagged else []
                if command == "/login":
                    with self.lock:
                        self.logins += 1
                    if self.fatal_login:
                        send([["!fatal", "not logged in"]], close=True)
                        return
                    if attrs.get("name") == self.username and (
                        attrs.get("password") == self.password
                    ):
                        logged_in = True
                        send([["!done", *suffix]])
                    else:
                        send(
                            [
                                ["!trap", "=message=invalid user name or password (6)", *suffix],
                                ["!done", *suffix],
                            ]
                        )
                    continue
                if not logged_in:
                    send([["!fatal", "not logged in"]], close=True)
                    return
                if command == "/quit":
                    send([["!fatal", "session terminated on request"]], close=True)
                    return
                with self.lock:
                    self.commands.append(command)
                    if command.rpartition("/")[2] in WRITES:
                        self.writes += 1
                        self.write_log.append((command, dict(attrs)))
                    try:
                        message = self.trap_when(command, attrs) if self.trap_when else None
                        if message:
                            raise Trap(message)
                        rows = self._run(command, attrs, queries)
                    except Trap as trap:
                        send([["!trap", f"=message={trap}", *suffix], ["!done", *suffix]])
                        continue
                send(
                    [
                        *(
                            ["!re", *(f"={k}={v}" for k, v in row.items()), *suffix]
                            for row in rows["re"]
                        ),
                        ["!done", *(f"={k}={v}" for k, v in rows["done"].items()), *suffix],
                    ]
                )
        except (ConnectionError, OSError):
            # The line is gone (or a test cut it): the client sees it closed at once.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        finally:
            closed.set()
            with cond:
                cond.notify()

    def _table(self, command: str) -> tuple[Table, str]:
        menu, _sep, verb = command.rpartition("/")
        if menu not in self.menus:
            raise Trap("no such command prefix")
        return self.menus[menu], verb

    def _run(self, command: str, attrs: dict, queries: list[str]) -> dict:
        self._dial_again()
        if command == "/system/resource/print":
            return {
                "re": [{"version": "7.16 (stable)", "uptime": "1w2d", "board-name": "emulator"}],
                "done": {},
            }
        if command == "/system/identity/print":
            return {"re": [{"name": "emulated-router"}], "done": {}}
        table, verb = self._table(command)
        # Sessions are made by clients dialling in: the API can list and end them, no more.
        if table is self.ppp_active and verb not in ("print", "remove"):
            raise Trap("no such command")
        if verb == "print":
            if table is self.ppp_active:
                self._tick_uptimes()
            rows = list(table.rows.values()) if self.ignore_queries else table.find(queries)
            props = attrs.get(".proplist")
            if props:
                keys = props.split(",")
                rows = [{k: row[k] for k in keys if k in row} for row in rows]
            return {"re": rows, "done": {}}
        if verb == "add":
            if table is self.dhcp_lease:
                attrs = {**attrs, "dynamic": "false"}  # a lease added by hand is static
            return {"re": [], "done": {"ret": table.add(attrs)}}
        ids = _ids(attrs)
        if verb == "remove":
            gone = table.remove(ids)
            if table is self.ppp_active:
                self._hang_up(gone)
            return {"re": [], "done": {}}
        if verb == "set":
            table.set(ids, {k: v for k, v in attrs.items() if k not in (".id", "numbers")})
            return {"re": [], "done": {}}
        if verb in ("enable", "disable"):
            table.set(ids, {"disabled": "true" if verb == "disable" else "false"})
            return {"re": [], "done": {}}
        raise Trap("no such command")

    # -- PPPoE clients -------------------------------------------------------------------

    def _secret(self, name: str) -> dict | None:
        return next((r for r in self.ppp_secret.rows.values() if r.get("name") == name), None)

    def _open_session(self, name: str, address: str, caller_id: str) -> str:
        sid = self.ppp_active.add(
            {
                "name": name,
                "service": "pppoe",
                "caller-id": caller_id,
                "address": address,
                "uptime": "0s",
                "radius": "false",
            }
        )
        self._session_start[sid] = time.monotonic()
        return sid

    def _hang_up(self, sessions: list[dict]) -> None:
        for session in sessions:
            self._session_start.pop(session[".id"], None)
            if self.redial:
                self._redials.append(session)

    def _dial_again(self) -> None:
        """Clients whose session was removed dial again, if their secret still lets them."""
        redials, self._redials = self._redials, []
        online = {row["name"] for row in self.ppp_active.rows.values()}
        for session in redials:
            secret = self._secret(session["name"])
            if secret is None or secret["disabled"] == "true" or session["name"] in online:
                continue
            self._open_session(session["name"], session["address"], session["caller-id"])
            online.add(session["name"])

    def _tick_uptimes(self) -> None:
        now = time.monotonic()
        for sid, row in self.ppp_active.rows.items():
            row["uptime"] = _uptime(now - self._session_start.get(sid, now))

    # -- what tests look at and do by hand -----------------------------------------------

    def entries(self, list_name: str) -> dict[str, str]:
        """address → comment of a list."""
        with self.lock:
            return {
                row["address"]: row.get("comment", "")
                for row in self.address_list.rows.values()
                if row.get("list") == list_name
            }

    def add_by_hand(self, list_name: str, address: str, comment: str = "") -> str:
        with self.lock:
            return self.address_list.add(
                {"list": list_name, "address": address, "comment": comment}
            )

    def remove_by_hand(self, list_name: str, address: str) -> None:
        with self.lock:
            for rid, row in list(self.address_list.rows.items()):
                if row.get("list") == list_name and row.get("address") == address:
                    self.address_list.remove([rid])

    def set_by_hand(self, menu: str, name: str, **props: str) -> None:
        """An admin's edit of the object named `name` in a menu such as `/ppp/secret`;
        properties as keywords, `_` for `-` (remote_address="10.0.0.9", disabled="yes")."""
        with self.lock:
            table = self.menus[menu]
            ids = [row[".id"] for row in table.find([f"name={name}"])]
            table.set(ids, {key.replace("_", "-"): value for key, value in props.items()})

    def remove_named(self, menu: str, name: str) -> None:
        """An admin removes the object named `name` from a menu."""
        with self.lock:
            table = self.menus[menu]
            table.remove([row[".id"] for row in table.find([f"name={name}"])])

    def add_secret(
        self,
        name: str,
        password: str = "",
        *,
        service: str = "pppoe",
        remote_address: str = "",
        comment: str = "",
        disabled: bool = False,
        profile: str = "default",
    ) -> str:
        """A PPP secret made by the router's admin; its .id."""
        attrs = {"name": name, "password": password, "service": service, "profile": profile}
        attrs |= {"disabled": "true" if disabled else "false"}
        attrs |= {"remote-address": remote_address} if remote_address else {}
        attrs |= {"comment": comment} if comment else {}
        with self.lock:
            return self.ppp_secret.add(attrs)

    def secrets(self) -> dict[str, dict]:
        """name → row of every PPP secret."""
        with self.lock:
            return {row["name"]: dict(row) for row in self.ppp_secret.rows.values()}

    def add_profile(self, name: str, rate_limit: str = "") -> str:
        """A PPP profile, such as one whose `rate-limit` gives a plan's speed; its .id."""
        with self.lock:
            return self.ppp_profile.add(
                {"name": name, **({"rate-limit": rate_limit} if rate_limit else {})}
            )

    def connect(self, name: str, address: str | None = None) -> str:
        """The client of an enabled secret dials in: its session's .id (the one it has, if it
        is already online). The address is the secret's remote-address unless given."""
        with self.lock:
            self._dial_again()
            secret = self._secret(name)
            if secret is None:
                raise ValueError(f"no PPP secret is named {name!r}")
            if secret["disabled"] == "true":
                raise ValueError(f"the secret {name!r} is disabled: its client cannot connect")
            for row in self.ppp_active.rows.values():
                if row["name"] == name:
                    return row[".id"]
            n = next(self._dialled)
            remote = secret.get("remote-address", "")
            if remote and not _is_address(remote):
                remote = self._from_pool(remote)
            address = address or remote or f"10.254.{n >> 8 & 255}.{n & 255}"
            return self._open_session(
                name, address, f"02:00:00:{n >> 16 & 255:02X}:{n >> 8 & 255:02X}:{n & 255:02X}"
            )

    def _from_pool(self, name: str) -> str:
        """The first address of the pool `name` no live session holds."""
        pool = next((r for r in self.ip_pool.rows.values() if r.get("name") == name), None)
        if pool is None:
            raise ValueError(f"no IP pool is named {name!r}")
        taken = {row.get("address") for row in self.ppp_active.rows.values()}
        for part in pool.get("ranges", "").split(","):
            first, _, last = part.strip().partition("-")
            low = ipaddress.IPv4Address(first)
            high = ipaddress.IPv4Address(last or first)
            for number in range(int(low), int(high) + 1):
                if str(ipaddress.IPv4Address(number)) not in taken:
                    return str(ipaddress.IPv4Address(number))
        raise ValueError(f"the IP pool {name!r} has no free address")

    def add_pool(self, name: str, ranges: str) -> str:
        """An IP pool (/ip pool), as "10.80.0.2-10.80.0.254"; its .id."""
        with self.lock:
            return self.ip_pool.add({"name": name, "ranges": ranges})

    def disconnect(self, name: str) -> None:
        """The client of `name` hangs up (it does not dial again by itself)."""
        with self.lock:
            gone = [sid for sid, row in self.ppp_active.rows.items() if row["name"] == name]
            for sid in gone:
                self._session_start.pop(sid, None)
            self.ppp_active.remove(gone)

    def sessions(self) -> dict[str, dict]:
        """name → row of every live `/ppp/active` session, after any client redialled."""
        with self.lock:
            self._dial_again()
            self._tick_uptimes()
            return {row["name"]: dict(row) for row in self.ppp_active.rows.values()}

    def add_queue(
        self, name: str, target: str, max_limit: str = "0/0", comment: str = "", **more: str
    ) -> str:
        """A simple queue made by hand (more properties as keywords: burst_limit="20M/20M");
        its .id."""
        attrs = {"name": name, "target": target, "max-limit": max_limit}
        attrs |= {"comment": comment} if comment else {}
        attrs |= {key.replace("_", "-"): value for key, value in more.items()}
        with self.lock:
            return self.queue_simple.add(attrs)

    def queues(self) -> dict[str, dict]:
        """name → row of every simple queue, in the router's order."""
        with self.lock:
            return {row["name"]: dict(row) for row in self.queue_simple.rows.values()}

    def add_lease(
        self,
        address: str,
        mac_address: str,
        *,
        host_name: str = "",
        comment: str = "",
        server: str = "dhcp1",
        dynamic: bool = False,
    ) -> str:
        """A DHCP lease: static (made by the admin) or dynamic (handed out); its .id."""
        attrs = {"address": address, "mac-address": mac_address, "server": server}
        attrs |= {"dynamic": "true" if dynamic else "false", "status": "bound"}
        attrs |= {"host-name": host_name} if host_name else {}
        attrs |= {"comment": comment} if comment else {}
        with self.lock:
            return self.dhcp_lease.add(attrs)

    def leases(self) -> list[dict]:
        """Every DHCP lease, static and dynamic."""
        with self.lock:
            return [dict(row) for row in self.dhcp_lease.rows.values()]


QUEUE_DEFAULTS = {
    "parent": "none",
    "priority": "8/8",
    "queue": "default-small/default-small",
    "limit-at": "0/0",
    "max-limit": "0/0",
    "burst-limit": "0/0",
    "burst-threshold": "0/0",
    "burst-time": "0s/0s",
    "bucket-size": "0.1/0.1",
    "dynamic": "false",
    "invalid": "false",
    "disabled": "false",
}


def _ids(attrs: dict) -> list[str]:
    """The items a command names: `.id` (or the console's `numbers`), comma-separated."""
    return [i for i in (attrs.get(".id") or attrs.get("numbers") or "").split(",") if i]


def _uptime(seconds: float) -> str:
    """RouterOS's way of writing a duration: 1w2d3h4m5s, 0s."""
    left, out = int(seconds), ""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if left >= size:
            out += f"{left // size}{unit}"
            left %= size
    return out + (f"{left}s" if left or not out else "")


def _split(words: list[str]) -> tuple[str, dict, list[str], str | None]:
    command, attrs, queries, tag = words[0], {}, [], None
    for word in words[1:]:
        if word.startswith("="):
            key, _sep, value = word[1:].partition("=")
            attrs[key] = value
        elif word.startswith("?"):
            queries.append(word[1:])
        elif word.startswith(".tag="):
            tag = word[5:]
    return command, attrs, queries, tag


# A network built by hand before wispbill, for trying the import: IPs the demo's clients do
# not use (172.20.x.x), PPPoE and static clients, a router's own objects to leave alone.
HAND_MADE = [
    ("pppoe", "rocio.mendez", "Rocío Méndez", "172.20.0.2", "2M/10M"),
    ("pppoe", "jorge.ruiz", "Jorge Ruiz", "172.20.0.3", "2M/10M"),
    ("pppoe", "papeleria.luz", "Papelería La Luz", "172.20.0.4", "4M/20M"),
    ("pppoe", "tienda.don.beto", "", "172.20.0.5", "1M/6M"),
    ("static", "", "Casa Aguilar", "172.20.1.2", "1M/5M"),
    ("static", "", "Escuela Primaria", "172.20.1.3", "10M/50M"),
]


def seed_hand_made(emulator: RouterOSEmulator) -> None:
    """Fill the emulator with a network made by hand before wispbill (`--seed-demo`)."""
    emulator.add_secret("enlace-torre-norte", "backhaul", service="l2tp", comment="enlace")
    emulator.add_queue("total", "172.16.0.0/12", "500M/500M", comment="ancho de banda total")
    for access, username, name, ip, speed in HAND_MADE:
        if access == "pppoe":
            emulator.add_secret(username, "clave-" + ip.rsplit(".", 1)[1], remote_address=ip,
                                comment=name)  # fmt: skip
        else:
            emulator.add_lease(ip, f"AA:BB:CC:00:01:{ip.rsplit('.', 1)[1]:0>2}", comment=name)
        emulator.add_queue(name or username, f"{ip}/32", speed)
    emulator.add_by_hand("Moroso", "172.20.0.3", "debe")
    emulator.add_by_hand("Aviso", "172.20.1.2")
