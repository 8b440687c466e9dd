"""A RouterOS API emulator on loopback, for tests, benchmarks and trying wispbill without a
router: the real wire protocol (length-prefixed words,
sentences, !re/!done/!trap/!fatal, .tag, the post-6.43 login), in-memory address lists and
firewall tables, and faults to inject. Written from the protocol, not from any client."""

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable


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


def encode_sentence(words: list[str]) -> bytes:
    out = bytearray()
    for word in words:
        data = word.encode()
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
        words = []
        while True:
            n = self.length()
            if n == 0:
                return words
            words.append(self._take(n).decode())


class Table:
    """One RouterOS menu: rows with .id, add/remove/set/print."""

    def __init__(self, unique: tuple[str, ...] = ()):
        self.rows: dict[str, dict] = {}
        self.unique = unique
        self.ids = itertools.count(1)
        self.keys: set[tuple] = set()

    def _key(self, row: dict) -> tuple:
        return tuple(row.get(k) for k in self.unique)

    def add(self, attrs: dict) -> str:
        if self.unique:
            if self._key(attrs) in self.keys:
                raise Trap("failure: already have such entry")
            self.keys.add(self._key(attrs))
        rid = f"*{next(self.ids):X}"
        before = attrs.pop("place-before", None)
        row = {**attrs, ".id": rid}
        if before is None:
            self.rows[rid] = row
        elif before not in self.rows:
            raise Trap("no such item")
        else:
            # Rule order matters in firewall chains: rebuild the table with the row in place.
            rows = list(self.rows.items())
            index = next(i for i, (key, _r) in enumerate(rows) if key == before)
            rows.insert(index, (rid, row))
            self.rows = dict(rows)
        return rid

    def remove(self, ids: list[str]) -> None:
        if any(i not in self.rows for i in ids):
            raise Trap("no such item")
        for i in ids:
            self.keys.discard(self._key(self.rows.pop(i)))


class Trap(Exception):
    pass


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
        self.address_list = Table(unique=("list", "address"))
        self.filter = Table()
        self.nat = Table()
        self.commands: list[str] = []  # every command word received, for assertions
        self.connections = 0
        # The most commands received and not yet answered at once: above 1 means the client
        # pipelines.
        self.in_flight = 0
        self.max_in_flight = 0
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

    def start(self) -> "RouterOSEmulator":
        self._listen(0)
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
        self._listen(self.port)

    def stop(self) -> None:
        self.go_down()

    def _accept(self, server) -> None:
        while True:
            try:
                sock, _addr = server.accept()
            except OSError:
                return
            if self.tls:
                sock = self._tls_context().wrap_socket(sock, server_side=True)
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _tls_context(self):
        from wispbill.network.emulator_certs import server_context

        return server_context()

    # -- a connection --------------------------------------------------------------------

    def _serve(self, sock) -> None:
        reader = _Reader(sock)
        outbox: list = []
        cond = threading.Condition()
        closed = threading.Event()
        seq = itertools.count()

        def writer():
            while not closed.is_set():
                with cond:
                    while not outbox and not closed.is_set():
                        cond.wait(0.1)
                    if closed.is_set():
                        return
                    due, _n, data = outbox[0]
                    wait = due - time.monotonic()
                    if wait > 0:
                        cond.wait(wait)
                        continue
                    heapq.heappop(outbox)
                try:
                    if data is None:
                        sock.close()
                        closed.set()
                        return
                    sock.sendall(data)
                    if data.startswith(encode_sentence(["!done"])[:-1]):
                        with self.lock:
                            self.in_flight -= 1
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
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                suffix = [f".tag={tag}"] if tag is not None and not self.untagged else []
                if command == "/login":
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
            pass
        finally:
            closed.set()
            with cond:
                cond.notify()

    def _table(self, command: str) -> tuple[Table, str]:
        menu, _sep, verb = command.rpartition("/")
        tables = {
            "/ip/firewall/address-list": self.address_list,
            "/ip/firewall/filter": self.filter,
            "/ip/firewall/nat": self.nat,
        }
        if menu not in tables:
            raise Trap("no such command prefix")
        return tables[menu], verb

    def _run(self, command: str, attrs: dict, queries: dict) -> dict:
        if command == "/system/resource/print":
            return {
                "re": [{"version": "7.16 (stable)", "uptime": "1w2d", "board-name": "emulator"}],
                "done": {},
            }
        if command == "/system/identity/print":
            return {"re": [{"name": "emulated-router"}], "done": {}}
        table, verb = self._table(command)
        if verb == "print":
            props = attrs.get(".proplist")
            rows = [
                row
                for row in table.rows.values()
                if self.ignore_queries or all(row.get(k) == v for k, v in queries.items())
            ]
            if props:
                keys = props.split(",")
                rows = [{k: row[k] for k in keys if k in row} for row in rows]
            return {"re": rows, "done": {}}
        if verb == "add":
            return {"re": [], "done": {"ret": table.add(attrs)}}
        if verb == "remove":
            table.remove(attrs.get(".id", "").split(","))
            return {"re": [], "done": {}}
        if verb == "set":
            row = table.rows.get(attrs.get(".id"))
            if row is None:
                raise Trap("no such item")
            row.update({k: v for k, v in attrs.items() if k != ".id"})
            return {"re": [], "done": {}}
        raise Trap("no such command")

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


def _split(words: list[str]) -> tuple[str, dict, dict, str | None]:
    command, attrs, queries, tag = words[0], {}, {}, None
    for word in words[1:]:
        if word.startswith("="):
            key, _sep, value = word[1:].partition("=")
            attrs[key] = value
        elif word.startswith("?"):
            key, _sep, value = word[1:].partition("=")
            queries[key] = value
        elif word.startswith(".tag="):
            tag = word[5:]
    return command, attrs, queries, tag
