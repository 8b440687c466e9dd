"""MikroTik RouterOS API (8728, or 8729 with TLS; the post-6.43 login).

librouteros opens the connection, logs in and encodes the words. It reads one reply per call
and cannot parse tagged replies, so batches of changes go through a thin layer of ours on the
same connection: many tagged sentences are written, then their replies are read, so a router
behind a 50 ms VPN takes a round trip per window of changes, not per change.
"""

import contextlib
import socket
import ssl

import librouteros
from librouteros.exceptions import LibRouterosError

from wispbill.network.drivers.base import ApplyResult, Driver, DriverError, Rule
from wispbill.network.reconcile import PREFIX, Entry, Plan

ADDRESS_LIST = "/ip/firewall/address-list"
WINDOW = 200  # sentences in flight before their replies are read
REMOVE_CHUNK = 100  # ids per batched remove
# Traps that mean the router already is as we want it.
HARMLESS = ("already have such entry", "no such item")
TIMEOUT = 10


def _harmless(message: str) -> bool:
    return any(text in message for text in HARMLESS)


class MikrotikDriver(Driver):
    def __init__(self, router):
        super().__init__(router)
        self.api = None

    def __enter__(self):
        router = self.router
        wrapper = None
        if router.use_tls:
            context = ssl.create_default_context()
            # RouterOS ships self-signed certificates; the API password is what authenticates.
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            wrapper = lambda sock: context.wrap_socket(sock, server_hostname=router.host)  # noqa: E731
        try:
            self.api = librouteros.connect(
                router.host,
                router.username,
                router.password,
                port=router.api_port,
                timeout=TIMEOUT,
                ssl_wrapper=wrapper,
            )
        except (OSError, LibRouterosError) as exc:
            raise DriverError(_describe(exc, router)) from exc
        return self

    def close(self) -> None:
        if self.api is not None:
            with contextlib.suppress(OSError):
                self.api.close()
            self.api = None

    # -- the pipelined layer -------------------------------------------------------------

    def _pipeline(self, sentences: list[tuple[str, ...]]) -> list[tuple[list[dict], str | None]]:
        """Send every sentence tagged, a window at a time; for each, its rows and its trap
        message (None when it succeeded)."""
        results: list[tuple[list[dict], str | None]] = []
        protocol = self.api.protocol
        try:
            for start in range(0, len(sentences), WINDOW):
                window = sentences[start : start + WINDOW]
                for offset, (command, *words) in enumerate(window):
                    protocol.writeSentence(command, *words, f".tag={start + offset}")
                pending = {start + offset: ([], None) for offset in range(len(window))}
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
        retry = []
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


def _describe(exc: Exception, router) -> str:
    where = f"{router.host}:{router.api_port}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}"
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"no answer from {where} (timed out)"
    if isinstance(exc, LibRouterosError):
        return f"{where}: {exc}"
    return f"{where}: {exc.__class__.__name__}: {exc}"
