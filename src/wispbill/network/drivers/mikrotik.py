"""MikroTik RouterOS API (8728, or 8729 with TLS; the post-6.43 login).

librouteros opens the connection, logs in and encodes the words. It reads one reply per call
and cannot parse tagged replies, so batches of changes go through a thin layer of ours on the
same connection: many tagged sentences are written, then their replies are read, so a router
behind a 50 ms VPN takes a round trip per window of changes, not per change.
"""

import contextlib
import hashlib
import hmac
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import librouteros
from django.utils.translation import gettext
from librouteros.exceptions import ConnectionClosed, LibRouterosError, TrapError

from wispbill.core.wire import has_control
from wispbill.network.drivers.base import (
    ApplyResult,
    Driver,
    DriverError,
    ProvisioningResult,
    Rule,
)
from wispbill.network.hosts import resolve_for_router
from wispbill.network.inventory import Adoption, Inventory, Lease, Profile
from wispbill.network.provisioning import Provisioned, ProvisioningPlan, Queue, Secret, Session
from wispbill.network.reconcile import PREFIX, Entry, Plan
from wispbill.network.tls import normalise_fingerprint

ADDRESS_LIST = "/ip/firewall/address-list"
SECRETS = "/ppp/secret"
SESSIONS = "/ppp/active"
PROFILES = "/ppp/profile"
QUEUES = "/queue/simple"
LEASES = "/ip/dhcp-server/lease"
MENUS = {"secret": SECRETS, "queue": QUEUES, "address": ADDRESS_LIST, "lease": LEASES}
SECRET_PROPS = "=.proplist=.id,name,password,service,profile,remote-address,comment,disabled"
QUEUE_PROPS = "=.proplist=.id,name,target,max-limit,comment,disabled,dynamic"
WINDOW = 200  # sentences in flight before their replies are read
REMOVE_CHUNK = 100  # ids per batched remove
# Traps that mean the router already is as we want it.
HARMLESS = ("already have such entry", "no such item")
TIMEOUT = 10
# RouterOS stores bytes and names no encoding (Winbox writes the Windows codepage): Latin-1
# maps each byte to one character, so names read from a router are written back byte for
# byte, and "Díaz" typed in Winbox reads as "Díaz". librouteros's default, ASCII, dropped
# such letters on reading and failed on writing.
ENCODING = "latin-1"


def _harmless(message: str) -> bool:
    return any(text in message for text in HARMLESS)


class MikrotikDriver(Driver):
    def __init__(self, router):
        super().__init__(router)
        self.api = None

    def __enter__(self):
        router = self.router
        wrapper = None
        # The second wall: whatever the database holds (a row from before the checks, an
        # edit that skipped them), nothing is written to a peer that is not allowed, and no
        # word that could end a line-based service's line.
        if has_control(router.username) or has_control(router.password):
            raise DriverError(f"{_where(router)}: {CONTROL_IN_LOGIN}")
        try:
            address = resolve_for_router(
                router.host, router.api_port, allow_local=router.allow_local_host
            )
        except ValueError as exc:
            raise DriverError(f"{_where(router)}: {exc}; not connecting") from None
        try:
            pin = normalise_fingerprint(router.tls_fingerprint)
        except ValueError as exc:
            raise DriverError(
                f"{router.host}:{router.api_port}: pinned certificate: {exc}"
            ) from exc
        if pin and not router.use_tls:
            raise DriverError(
                f"{router.host}:{router.api_port}: a pinned certificate needs TLS; "
                "refusing to send the password in the clear"
            )
        if router.use_tls:
            context = ssl.create_default_context()
            # RouterOS ships self-signed certificates: a pinned fingerprint is what proves the
            # peer; without one, the API password is all that authenticates.
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE

            def wrapper(sock):
                wrapped = context.wrap_socket(sock, server_hostname=router.host)
                if pin:
                    _check_pin(wrapped, pin, router)
                return wrapped

        try:
            self.api = librouteros.connect(
                address,
                router.username,
                router.password,
                port=router.api_port,
                timeout=TIMEOUT,
                ssl_wrapper=wrapper,
                encoding=ENCODING,
            )
        except (OSError, LibRouterosError) as exc:
            raise DriverError(_describe(exc, router)) from exc
        self.api.protocol.transport = _BufferedTransport(self.api.protocol.transport.sock)
        return self

    def close(self) -> None:
        if self.api is not None:
            with contextlib.suppress(OSError):
                self.api.close()
            self.api = None

    # -- the pipelined layer -------------------------------------------------------------

    def _pipeline(
        self, sentences: Sequence[tuple[str, ...]]
    ) -> list[tuple[list[dict], str | None]]:
        """Send every sentence tagged, a window at a time; for each, its rows and its trap
        message (None when it succeeded)."""
        results: list[tuple[list[dict], str | None]] = []
        protocol = self.api.protocol
        for sentence in sentences:
            if any(has_control(word) for word in sentence):
                raise DriverError(f"{sentence[0]}: {CONTROL_IN_WORD}")
        try:
            for start in range(0, len(sentences), WINDOW):
                window = sentences[start : start + WINDOW]
                for offset, (command, *words) in enumerate(window):
                    protocol.writeSentence(command, *words, f".tag={start + offset}")
                pending: dict[int, tuple[list[dict], str | None]] = {
                    start + offset: ([], None) for offset in range(len(window))
                }
                done: dict[int, tuple[list[dict], str | None]] = {}
                while len(done) < len(window):
                    reply, words = protocol.readSentence()
                    attrs, tag = _parse(words)
                    if tag is None:
                        # A router that answers untagged still answers in order.
                        tag = min(t for t in pending if t not in done)
                    if tag not in pending or tag in done:
                        continue
                    rows, trap = pending[tag]
                    if reply == "!re":
                        rows.append(attrs)
                    elif reply == "!trap":
                        pending[tag] = (rows, attrs.get("message", "trap"))
                    elif reply == "!done":
                        done[tag] = pending[tag]
                results += [done[start + offset] for offset in range(len(window))]
        except (OSError, LibRouterosError) as exc:
            raise DriverError(_describe(exc, self.router)) from exc
        return results

    def _one(self, *sentence: str) -> list[dict]:
        rows, trap = self._pipeline([sentence])[0]
        if trap:
            raise DriverError(trap)
        return rows

    # -- address lists -------------------------------------------------------------------

    def read_owned(self, lists: tuple[str, ...]) -> list[Entry]:
        replies = self._pipeline(
            [
                (f"{ADDRESS_LIST}/print", "=.proplist=.id,list,address,comment", f"?list={name}")
                for name in lists
            ]
        )
        entries: dict[str, Entry] = {}
        for rows, trap in replies:
            if trap:
                raise DriverError(trap)
            for row in rows:
                # Filter and de-duplicate here too: a router that ignored the query or the
                # property list must not make one entry look like two.
                if row.get("list") in lists and row.get(".id"):
                    entries[row[".id"]] = Entry(
                        row["list"], row.get("address", ""), row.get("comment", ""), row[".id"]
                    )
        return list(entries.values())

    def apply(self, plan: Plan) -> ApplyResult:
        result = ApplyResult()
        adds = [
            (
                f"{ADDRESS_LIST}/add",
                f"=list={e.list}",
                f"=address={e.address}",
                f"=comment={e.comment}",
            )
            for e in plan.adds
        ]
        for entry, (_rows, trap) in zip(plan.adds, self._pipeline(adds), strict=True):
            if trap and not _harmless(trap):
                result.failed.append((entry, trap))
            else:
                result.added += 1
        chunks = [
            plan.removes[i : i + REMOVE_CHUNK] for i in range(0, len(plan.removes), REMOVE_CHUNK)
        ]
        batched = [
            (f"{ADDRESS_LIST}/remove", "=.id=" + ",".join(e.id for e in chunk)) for chunk in chunks
        ]
        retry: list[Entry] = []
        for chunk, (_rows, trap) in zip(chunks, self._pipeline(batched), strict=True):
            if trap:
                retry += chunk  # one of them was gone: take the rest one by one
            else:
                result.removed += len(chunk)
        singles = [(f"{ADDRESS_LIST}/remove", f"=.id={e.id}") for e in retry]
        for entry, (_rows, trap) in zip(retry, self._pipeline(singles), strict=True):
            if trap and not _harmless(trap):
                result.failed.append((entry, trap))
            else:
                result.removed += 1
        return result

    def health(self) -> dict:
        rows = self._one("/system/resource/print")
        identity = self._one("/system/identity/print")
        info = rows[0] if rows else {}
        return {
            "identity": (identity[0] if identity else {}).get("name", ""),
            "version": info.get("version", ""),
            "uptime": info.get("uptime", ""),
            "board": info.get("board-name", ""),
        }

    # -- PPPoE secrets, simple queues, sessions ------------------------------------------

    def read_provisioning(self) -> Provisioned:
        replies = self._pipeline(
            [
                (f"{SECRETS}/print", SECRET_PROPS),
                (f"{QUEUES}/print", QUEUE_PROPS),
                (f"{SESSIONS}/print", "=.proplist=.id,name"),
            ]
        )
        secrets, queues, sessions = (_rows(rows, trap) for rows, trap in replies)
        return Provisioned(
            secrets=tuple(_secret(row) for row in secrets),
            queues=tuple(_queue(row) for row in queues if row.get("dynamic") != "true"),
            sessions=tuple(dict.fromkeys(row["name"] for row in sessions if row.get("name"))),
        )

    def apply_provisioning(self, plan: ProvisioningPlan) -> ProvisioningResult:
        result = ProvisioningResult()
        self._run_jobs(
            [
                *(_Job(_add_secret(s), [s], "added", forgiving=False) for s in plan.secret_adds),
                *(_Job(_add_queue(q), [q], "added", forgiving=False) for q in plan.queue_adds),
                *(_Job(_set(c), [c], "changed") for c in (*plan.secret_sets, *plan.queue_sets)),
                *_batches(f"{SECRETS}/enable", plan.secret_enables, "changed"),
                *_batches(f"{SECRETS}/disable", plan.secret_disables, "changed"),
            ],
            result,
        )
        self._run_jobs(
            [
                *_batches(f"{SECRETS}/remove", plan.secret_removes, "removed", forgiving=True),
                *_batches(f"{QUEUES}/remove", plan.queue_removes, "removed", forgiving=True),
            ],
            result,
        )
        # Last: the secrets are disabled by now, so a dropped client cannot dial back in.
        dropped = self.drop_sessions(plan.drop_sessions)
        result.sessions_dropped = dropped.sessions_dropped
        result.failed += dropped.failed
        return result

    def drop_sessions(self, names: Iterable[str]) -> ProvisioningResult:
        result = ProvisioningResult()
        names = set(names)
        if not names:
            return result
        rows = self._one(f"{SESSIONS}/print", "=.proplist=.id,name,address")
        sessions = {
            row[".id"]: Session(row["name"], row[".id"], row.get("address", ""))
            for row in rows
            if row.get("name") in names and row.get(".id")
        }
        self._run_jobs(
            _batches(f"{SESSIONS}/remove", list(sessions.values()), "sessions_dropped", True),
            result,
        )
        return result

    def read_session_addresses(self) -> dict[str, str]:
        rows = self._one(f"{SESSIONS}/print", "=.proplist=name,address")
        return {
            row["name"]: row["address"] for row in rows if row.get("name") and row.get("address")
        }

    # -- import ----------------------------------------------------------------------------

    def read_inventory(self, lists: tuple[str, ...]) -> Inventory:
        replies = self._pipeline(
            [
                (f"{SECRETS}/print", SECRET_PROPS),
                (f"{PROFILES}/print", "=.proplist=.id,name,rate-limit"),
                (f"{QUEUES}/print", QUEUE_PROPS),
                (
                    f"{LEASES}/print",
                    "=.proplist=.id,address,mac-address,host-name,comment,server,disabled,dynamic",
                    "?dynamic=false",
                ),
                *(
                    (f"{ADDRESS_LIST}/print", "=.proplist=.id,list,address,comment", f"?list={n}")
                    for n in lists
                ),
            ]
        )
        secrets, profiles, queues, leases, *entries = (_rows(r, t) for r, t in replies)
        return Inventory(
            secrets=tuple(_secret(row) for row in secrets),
            profiles=tuple(
                Profile(row.get("name", ""), row.get("rate-limit", ""), row[".id"])
                for row in profiles
            ),
            queues=tuple(_queue(row) for row in queues if row.get("dynamic") != "true"),
            leases=tuple(
                Lease(
                    address=row.get("address", ""),
                    mac_address=row.get("mac-address", ""),
                    host_name=row.get("host-name", ""),
                    comment=row.get("comment", ""),
                    server=row.get("server", ""),
                    disabled=row.get("disabled") == "true",
                    id=row[".id"],
                )
                for row in leases
                if row.get("dynamic") != "true"
            ),
            entries=tuple(
                {
                    row[".id"]: Entry(
                        row["list"], row.get("address", ""), row.get("comment", ""), row[".id"]
                    )
                    for rows in entries
                    for row in rows
                    if row.get("list") in lists
                }.values()
            ),
        )

    def adopt(self, adoptions: list[Adoption]) -> ProvisioningResult:
        result = ProvisioningResult()
        self._run_jobs(
            [
                _Job(
                    (f"{MENUS[a.kind]}/set", f"=.id={a.id}", f"=comment={a.comment}"),
                    [a],
                    "changed",
                )
                for a in adoptions
            ],
            result,
        )
        return result

    def _run_jobs(self, jobs: list["_Job"], result: ProvisioningResult) -> None:
        """Send every job's sentence in one pipeline and count its objects; a batch that
        trapped is tried again one object at a time, to find the one the router refused."""
        retry = []
        sendable = []
        for job in jobs:
            if any(has_control(word) for word in job.sentence):
                result.failed += [(subject, CONTROL_IN_WORD) for subject in job.subjects]
            elif _encodable(job.sentence):
                sendable.append(job)
            else:
                result.failed += [(subject, UNENCODABLE) for subject in job.subjects]
        replies = self._pipeline([job.sentence for job in sendable])
        for job, (_found, trap) in zip(sendable, replies, strict=True):
            if trap and len(job.subjects) > 1:
                retry += [
                    _Job((job.sentence[0], f"=.id={s.id}"), [s], job.tally, job.forgiving)
                    for s in job.subjects
                ]
            elif trap and not (job.forgiving and _harmless(trap)):
                result.failed += [(subject, trap) for subject in job.subjects]
            else:
                setattr(result, job.tally, getattr(result, job.tally) + len(job.subjects))
        if retry:
            self._run_jobs(retry, result)

    # -- firewall rules ------------------------------------------------------------------

    def read_rules(self) -> list[tuple[str, str, str]]:
        replies = self._pipeline(
            [
                (f"/ip/firewall/{table}/print", "=.proplist=.id,comment")
                for table in ("filter", "nat")
            ]
        )
        rules = []
        for table, (rows, trap) in zip(("filter", "nat"), replies, strict=True):
            if trap:
                raise DriverError(trap)
            rules += [
                (table, row.get(".id", ""), row.get("comment", ""))
                for row in rows
                if row.get("comment", "").startswith(PREFIX)
            ]
        return rules

    def add_rules(self, rules: list[Rule]) -> None:
        """Add rules in order, ahead of the router's own rules in the same chain: a cut must
        not be let through by an earlier "accept established" rule."""
        anchors = {}
        for table, chain in {(r.table, dict(r.fields).get("chain")) for r in rules}:
            rows = self._one(
                f"/ip/firewall/{table}/print", "=.proplist=.id,comment", f"?chain={chain}"
            )
            theirs = [
                row[".id"]
                for row in rows
                if not row.get("comment", "").startswith(PREFIX) and row.get(".id")
            ]
            anchors[(table, chain)] = theirs[0] if theirs else None
        sentences = []
        for rule in rules:
            anchor = anchors[(rule.table, dict(rule.fields).get("chain"))]
            sentences.append(
                (
                    f"/ip/firewall/{rule.table}/add",
                    *(f"={k}={v}" for k, v in rule.fields),
                    f"=comment={rule.tag}",
                    *((f"=place-before={anchor}",) if anchor else ()),
                )
            )
        for rule, (_rows, trap) in zip(rules, self._pipeline(sentences), strict=True):
            if trap:
                raise DriverError(f"{rule.tag}: {trap}")

    def remove_rules(self, table: str, ids: list[str]) -> None:
        if ids:
            self._one(f"/ip/firewall/{table}/remove", "=.id=" + ",".join(ids))


class _BufferedTransport:
    """librouteros asks the socket for each word's length byte, length and body apart: three
    system calls per word, 30 per printed row. This reads what has arrived in one call and
    serves the words from memory, so reading 10,000 rows is not 300,000 calls."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = bytearray()

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, length: int) -> bytes:
        while len(self.buffer) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionClosed("Connection unexpectedly closed.")
            self.buffer += chunk
        data = bytes(self.buffer[:length])
        del self.buffer[:length]
        return data

    def close(self) -> None:
        self.sock.close()


@dataclass
class _Job:
    """One sentence of a provisioning write and the objects it covers."""

    sentence: tuple[str, ...]
    subjects: list
    tally: str  # the ProvisioningResult count it adds to
    # True where "already there" or "already gone" means the router is as wanted.
    forgiving: bool = False


def _batches(command: str, subjects, tally: str, forgiving: bool = False) -> list[_Job]:
    """One command for up to REMOVE_CHUNK objects by id, as RouterOS accepts."""
    subjects = list(subjects)
    return [
        _Job(
            (command, "=.id=" + ",".join(s.id for s in subjects[i : i + REMOVE_CHUNK])),
            subjects[i : i + REMOVE_CHUNK],
            tally,
            forgiving,
        )
        for i in range(0, len(subjects), REMOVE_CHUNK)
    ]


UNENCODABLE = "has characters a RouterOS router cannot store (only Latin-1 letters)"
CONTROL_IN_WORD = "has a line break or another control character; not sent"
CONTROL_IN_LOGIN = "the username or password has a line break or another control character"
CONTROL_IN_LOGIN += "; not connecting"


def _encodable(sentence: tuple[str, ...]) -> bool:
    try:
        for word in sentence:
            word.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _add_secret(secret: Secret) -> tuple[str, ...]:
    return (
        f"{SECRETS}/add",
        f"=name={secret.name}",
        f"=password={secret.password}",
        f"=service={secret.service}",
        *((f"=remote-address={secret.remote_address}",) if secret.remote_address else ()),
        f"=comment={secret.comment}",
        f"=disabled={_yes(secret.disabled)}",
    )


def _add_queue(queue: Queue) -> tuple[str, ...]:
    return (
        f"{QUEUES}/add",
        f"=name={queue.name}",
        f"=target={queue.target}",
        f"=max-limit={queue.max_limit}",
        f"=comment={queue.comment}",
        *(("=disabled=yes",) if queue.disabled else ()),
    )


def _set(change) -> tuple[str, ...]:
    menu = SECRETS if change.kind == "secret" else QUEUES
    return (f"{menu}/set", f"=.id={change.id}", *(f"={k}={v}" for k, v in change.fields))


def _rows(rows: list[dict], trap: str | None) -> list[dict]:
    """A print's rows, once per .id: a router that ignored the query or the property list
    must not make one object look like two."""
    if trap:
        raise DriverError(trap)
    return list({row[".id"]: row for row in rows if row.get(".id")}.values())


def _secret(row: dict) -> Secret:
    return Secret(
        name=row.get("name", ""),
        password=row.get("password", ""),
        remote_address=row.get("remote-address", ""),
        disabled=row.get("disabled") in ("true", "yes"),
        comment=row.get("comment", ""),
        service=row.get("service", ""),
        profile=row.get("profile", ""),
        id=row[".id"],
    )


def _queue(row: dict) -> Queue:
    return Queue(
        name=row.get("name", ""),
        target=row.get("target", ""),
        max_limit=row.get("max-limit", ""),
        comment=row.get("comment", ""),
        disabled=row.get("disabled") in ("true", "yes"),
        id=row[".id"],
    )


def _check_pin(sock: ssl.SSLSocket, pin: str, router) -> None:
    """Refuse a peer whose certificate is not the pinned one, before any password is sent."""
    seen = hashlib.sha256(sock.getpeercert(binary_form=True) or b"").hexdigest()
    if not hmac.compare_digest(seen, pin):
        sock.close()
        raise DriverError(
            f"{router.host}:{router.api_port}: the router's certificate (SHA-256 {seen}) is not "
            f"the pinned one ({pin}); not logging in"
        )


def _parse(words: tuple[str, ...]) -> tuple[dict, int | None]:
    attrs: dict = {}
    tag = None
    for word in words:
        if word.startswith(".tag="):
            tag = int(word[5:])
        elif word.startswith("="):
            key, _sep, value = word[1:].partition("=")
            attrs[key] = value
    return attrs, tag


def _where(router) -> str:
    return f"{router.host}:{router.api_port}"


def _describe(exc: Exception, router) -> str:
    """One text for every way a connection fails: a port refused, filtered, closed after a
    few bytes or answered by something that is not RouterOS reads the same, so the
    connection test cannot scan ports. Only a RouterOS refusal (a wrong password) says so."""
    if isinstance(exc, TrapError):
        return gettext("%(where)s: the router refused: %(error)s") % {
            "where": _where(router),
            "error": exc,
        }
    return gettext("could not connect to %(where)s") % {"where": _where(router)}
