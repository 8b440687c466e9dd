"""The provisioning diff, as plain values: the PPPoE secrets and simple queues a router should
hold for its clients, what it holds, and what to change. Like the address lists, wispbill owns
only objects whose comment starts with `wispbill:`; the router's other objects are never
changed, and one that holds a name wispbill wants is reported as a conflict instead."""

from collections.abc import Iterable
from dataclasses import dataclass

from wispbill.core.wire import CONTROL
from wispbill.network.reconcile import PREFIX
from wispbill.network.speeds import SpeedError, parse_max_limit


@dataclass(frozen=True)
class Secret:
    """A `/ppp/secret`: one wispbill wants, or one a router holds (then with its `.id`)."""

    name: str
    password: str = ""
    remote_address: str = ""
    disabled: bool = False
    comment: str = ""
    service: str = "pppoe"
    profile: str = ""  # read from routers for import; wispbill leaves a secret's profile alone
    id: str = ""

    @property
    def owned(self) -> bool:
        return self.comment.startswith(PREFIX)


@dataclass(frozen=True)
class Queue:
    """A `/queue/simple`; `max_limit` is `upload/download` as written or as a router prints it."""

    name: str
    target: str
    max_limit: str
    comment: str = ""
    disabled: bool = False
    id: str = ""

    @property
    def owned(self) -> bool:
        return self.comment.startswith(PREFIX)


@dataclass(frozen=True)
class Session:
    """A live PPPoE session (`/ppp/active`) of the secret `name`."""

    name: str
    id: str = ""
    address: str = ""


@dataclass(frozen=True)
class Provisioned:
    """What a router holds that provisioning compares: every secret and static simple queue,
    owned or not (others are never changed, but they show conflicts), and the names of the
    secrets with a live session."""

    secrets: tuple[Secret, ...] = ()
    queues: tuple[Queue, ...] = ()
    sessions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """RouterOS properties to set on one object wispbill owns, found by its `.id`."""

    kind: str  # "secret" or "queue"
    id: str
    name: str
    comment: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ProvisioningPlan:
    """What to write. Secrets are enabled and disabled by id lists (one command for many);
    `drop_sessions` names the live `/ppp/active` sessions to end once their secrets are
    disabled, since disabling a secret leaves its session up. `conflicts` are router objects
    without the prefix that hold a name wispbill wants: left alone, reported."""

    secret_adds: tuple[Secret, ...] = ()
    secret_sets: tuple[Change, ...] = ()
    secret_enables: tuple[Secret, ...] = ()
    secret_disables: tuple[Secret, ...] = ()
    secret_removes: tuple[Secret, ...] = ()
    queue_adds: tuple[Queue, ...] = ()
    queue_sets: tuple[Change, ...] = ()
    queue_removes: tuple[Queue, ...] = ()
    drop_sessions: tuple[str, ...] = ()
    conflicts: tuple[Secret | Queue, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.secret_adds,
                self.secret_sets,
                self.secret_enables,
                self.secret_disables,
                self.secret_removes,
                self.queue_adds,
                self.queue_sets,
                self.queue_removes,
                self.drop_sessions,
            )
        )


def plan_provisioning(
    *,
    secrets: Iterable[Secret],
    queues: Iterable[Queue],
    actual_secrets: Iterable[Secret],
    actual_queues: Iterable[Queue],
    sessions: Iterable[str] = (),
) -> ProvisioningPlan:
    """Adds, sets (only the fields that differ), enables, disables and removes that make the
    owned objects match the desired ones, matched by name. Owned objects no longer wanted, and
    owned duplicates of a name, are removed. `sessions` are the names with a live session on
    the router: a desired-disabled secret's session is dropped when it is up or when the
    secret is being disabled now. Desired names must be unique per kind (ValueError)."""
    wanted_secrets = _by_name(secrets, "secret")
    wanted_queues = _by_name(queues, "queue")
    secret_plan = _diff(wanted_secrets, list(actual_secrets), _secret_fields)
    queue_plan = _diff(wanted_queues, list(actual_queues), _queue_fields)

    enables: list[Secret] = []
    disables: list[Secret] = []
    for kept in secret_plan.kept:
        wanted = wanted_secrets[kept.name].disabled
        if wanted != kept.disabled:
            (disables if wanted else enables).append(kept)
    live = set(sessions)
    turning_off = {s.name for s in disables} | {s.name for s in secret_plan.adds if s.disabled}
    drop = [
        name
        for name, secret in wanted_secrets.items()
        if secret.disabled and (name in live or name in turning_off)
    ]
    return ProvisioningPlan(
        secret_adds=tuple(secret_plan.adds),
        secret_sets=tuple(secret_plan.sets),
        secret_enables=tuple(enables),
        secret_disables=tuple(disables),
        secret_removes=tuple(secret_plan.removes),
        queue_adds=tuple(queue_plan.adds),
        queue_sets=tuple(queue_plan.sets),
        queue_removes=tuple(queue_plan.removes),
        drop_sessions=tuple(drop),
        conflicts=(*secret_plan.conflicts, *queue_plan.conflicts),
    )


def queue_name(client_id: int, name: str) -> str:
    """The name of a client's new simple queue: its name, for whoever reads the router's
    queue list, and its id, so it is unique. Letters a router cannot store become `?`. A
    queue keeps the name it was created or adopted with (its comment says whose it is)."""
    readable = " ".join(CONTROL.sub(" ", name).split())[:60]
    readable = readable.encode("latin-1", "replace").decode("latin-1")
    return f"{readable} ({client_id})" if readable else f"wispbill-{client_id}"


def normalise_target(target: str) -> tuple[str, ...]:
    """A queue target as RouterOS keeps it: a bare IPv4 address gets its `/32`."""
    parts = []
    for part in target.split(","):
        part = part.strip()
        if part and "/" not in part and part.count(".") == 3:
            part += "/32"
        if part:
            parts.append(part)
    return tuple(parts)


def same_max_limit(a: str, b: str) -> bool:
    """Whether two `max-limit` values are the same speeds however they are written."""
    try:
        return parse_max_limit(a) == parse_max_limit(b)
    except SpeedError:
        return a == b


@dataclass
class _Diff:
    adds: list
    sets: list[Change]
    removes: list
    kept: list
    conflicts: list


def _by_name(objects: Iterable, kind: str) -> dict:
    wanted: dict = {}
    for obj in objects:
        if obj.name in wanted:
            raise ValueError(f"two desired {kind}s are named {obj.name!r}")
        wanted[obj.name] = obj
    return wanted


def _diff(wanted: dict, actual: list, fields) -> _Diff:
    kept: dict = {}
    removes = []
    for obj in actual:
        if not obj.owned:
            continue
        if obj.name in wanted and obj.name not in kept:
            kept[obj.name] = obj
        else:
            removes.append(obj)
    conflicts: dict = {}
    for obj in actual:
        if not obj.owned and obj.name in wanted and obj.name not in kept:
            conflicts.setdefault(obj.name, obj)
    sets = []
    for name, obj in kept.items():
        changes = fields(wanted[name], obj)
        if changes:
            kind = "secret" if isinstance(obj, Secret) else "queue"
            sets.append(Change(kind, obj.id, name, wanted[name].comment, tuple(changes)))
    return _Diff(
        adds=[obj for name, obj in wanted.items() if name not in kept and name not in conflicts],
        sets=sets,
        removes=removes,
        kept=list(kept.values()),
        conflicts=list(conflicts.values()),
    )


def _secret_fields(want: Secret, have: Secret) -> list[tuple[str, str]]:
    changes = []
    for key, mine, theirs in (
        ("password", want.password, have.password),
        ("service", want.service, have.service),
        ("remote-address", want.remote_address, have.remote_address),
        ("comment", want.comment, have.comment),
    ):
        if mine != theirs:
            changes.append((key, mine))
    return changes


def _queue_fields(want: Queue, have: Queue) -> list[tuple[str, str]]:
    changes = []
    if normalise_target(want.target) != normalise_target(have.target):
        changes.append(("target", want.target))
    if not same_max_limit(want.max_limit, have.max_limit):
        changes.append(("max-limit", want.max_limit))
    if want.comment != have.comment:
        changes.append(("comment", want.comment))
    if want.disabled != have.disabled:
        changes.append(("disabled", "yes" if want.disabled else "no"))
    return changes
