"""The router diff, as plain values: what a router should hold, what it holds, what to change."""

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

PREFIX = "wispbill:"


@dataclass(frozen=True)
class Entry:
    """An address-list entry on a router."""

    list: str
    address: str
    comment: str = ""
    id: str = ""

    @property
    def owned(self) -> bool:
        return self.comment.startswith(PREFIX)


@dataclass(frozen=True)
class Plan:
    """Adds go first: a client moving from the notice list to the cut list is never unlisted."""

    adds: tuple[Entry, ...]
    removes: tuple[Entry, ...]

    @property
    def empty(self) -> bool:
        return not self.adds and not self.removes


def client_comment(client_id: int) -> str:
    """The comment that marks a router entry as wispbill's, for one client."""
    return f"{PREFIX}client:{client_id}"


def plan_changes(*, desired: AbstractSet[Entry], actual: list[Entry]) -> Plan:
    """Entries to add and owned entries to remove; entries without the prefix are never
    touched, and duplicates of an owned entry are removed."""
    wanted = {(e.list, e.address): e for e in desired}
    kept: set[tuple[str, str]] = set()
    removes = []
    present = set()
    for entry in actual:
        key = (entry.list, entry.address)
        present.add(key)
        if not entry.owned:
            continue
        if key in wanted and key not in kept:
            kept.add(key)
        else:
            removes.append(entry)
    adds = [entry for key, entry in sorted(wanted.items()) if key not in present]
    return Plan(adds=tuple(adds), removes=tuple(removes))
