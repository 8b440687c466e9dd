"""What the reconcile needs from a router, whatever kind it is."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from wispbill.network.inventory import Adoption, Inventory
from wispbill.network.provisioning import Provisioned, ProvisioningPlan
from wispbill.network.reconcile import Entry, Plan


class DriverError(Exception):
    """The router could not be reached or refused the whole operation."""


@dataclass
class ApplyResult:
    added: int = 0
    removed: int = 0
    failed: list[tuple[Entry, str]] = field(default_factory=list)


@dataclass
class ProvisioningResult:
    """What a provisioning write did. `changed` counts sets, enables, disables and adoptions,
    one per object; `failed` pairs each object the router refused (a Secret, Queue, Change,
    Session or Adoption) with the router's message."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    sessions_dropped: int = 0
    failed: list[tuple[object, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Rule:
    """A firewall rule the baseline installs: its table, its identity tag, its fields."""

    table: str  # "filter" or "nat"
    tag: str
    fields: tuple[tuple[str, str], ...]


class Driver:
    """One connection's worth of work on one router: open it with `with`."""

    def __init__(self, router):
        self.router = router

    def __enter__(self) -> "Driver":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass

    def read_owned(self, lists: tuple[str, ...]) -> list[Entry]:
        raise NotImplementedError

    def apply(self, plan: Plan) -> ApplyResult:
        raise NotImplementedError

    def health(self) -> dict:
        raise NotImplementedError

    def read_rules(self) -> list[tuple[str, str, str]]:
        """(table, .id, comment) of the firewall rules wispbill owns."""
        raise NotImplementedError

    def add_rules(self, rules: list[Rule]) -> None:
        raise NotImplementedError

    def remove_rules(self, table: str, ids: list[str]) -> None:
        raise NotImplementedError

    def read_provisioning(self) -> Provisioned:
        """Every PPP secret and static simple queue, and who is online, in one round trip."""
        raise NotImplementedError

    def apply_provisioning(self, plan: ProvisioningPlan) -> ProvisioningResult:
        """Write a provisioning plan, pipelined; disabled secrets' sessions are dropped last."""
        raise NotImplementedError

    def drop_sessions(self, names: Iterable[str]) -> ProvisioningResult:
        """End the live PPPoE sessions of these secret names (`/ppp/active`)."""
        raise NotImplementedError

    def read_session_addresses(self) -> dict[str, str]:
        """Secret name → the address of its live PPPoE session (`/ppp/active`)."""
        raise NotImplementedError

    def read_inventory(self, lists: tuple[str, ...]) -> Inventory:
        """Everything an import proposes from: secrets, profiles, static queues, static
        leases and the entries of `lists`, owned or not."""
        raise NotImplementedError

    def adopt(self, adoptions: list[Adoption]) -> ProvisioningResult:
        """Mark router objects as wispbill's by setting their comments, pipelined."""
        raise NotImplementedError
