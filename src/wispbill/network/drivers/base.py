"""What the reconcile needs from a router, whatever kind it is."""

from dataclasses import dataclass, field

from wispbill.network.reconcile import Entry, Plan


class DriverError(Exception):
    """The router could not be reached or refused the whole operation."""


@dataclass
class ApplyResult:
    added: int = 0
    removed: int = 0
    failed: list[tuple[Entry, str]] = field(default_factory=list)


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
