"""What a router already holds, as plain values, for importing a network that exists: its PPP
secrets and profiles, simple queues, static DHCP leases and address-list entries, owned by
wispbill or not, each with its `.id` so an import can take it over instead of recreating it."""

from dataclasses import dataclass

from wispbill.network.provisioning import Queue, Secret
from wispbill.network.reconcile import PREFIX, Entry


@dataclass(frozen=True)
class Lease:
    """A static `/ip/dhcp-server/lease`: a fixed address for a MAC."""

    address: str
    mac_address: str
    host_name: str = ""
    comment: str = ""
    server: str = ""
    disabled: bool = False
    id: str = ""


@dataclass(frozen=True)
class Profile:
    """A `/ppp/profile`; its `rate_limit` (`UP/DOWN` and burst values) may carry a speed."""

    name: str
    rate_limit: str = ""
    id: str = ""


@dataclass(frozen=True)
class Inventory:
    """Every secret, profile, (static) simple queue and static lease of a router, and the
    entries of the address lists asked for, in the router's order."""

    secrets: tuple[Secret, ...] = ()
    profiles: tuple[Profile, ...] = ()
    queues: tuple[Queue, ...] = ()
    leases: tuple[Lease, ...] = ()
    entries: tuple[Entry, ...] = ()


def readable(text: str) -> str:
    """Router text as a person wrote it. The driver reads bytes one to a character (Latin-1,
    which is also what Winbox on a Spanish or Portuguese Windows writes); text a UTF-8 client
    wrote (WebFig, the REST API) is valid UTF-8 and is decoded as such."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


# Which router menu an adoption names.
ADOPTABLE = ("secret", "queue", "address", "lease")


@dataclass(frozen=True)
class Adoption:
    """Take one router object over: its comment becomes `comment` (which must start with
    `wispbill:`), so reconciles own it from then on instead of adding a duplicate. With
    `undo`, give it back: `comment` is the one it had before."""

    kind: str  # one of ADOPTABLE
    id: str
    comment: str
    undo: bool = False

    def __post_init__(self):
        if self.kind not in ADOPTABLE:
            raise ValueError(f"cannot adopt a {self.kind!r}: only {', '.join(ADOPTABLE)}")
        if not self.undo and not self.comment.startswith(PREFIX):
            raise ValueError(f"an adopted object's comment must start with {PREFIX!r}")
