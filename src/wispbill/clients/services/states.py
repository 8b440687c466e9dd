"""A client's state changes, one client or many at once, through the same rules: the pipeline
(`models.TRANSITIONS`, `transition_check`), the days a change marks (`state_marks`), the
audit event that names the change, and the client's router following it. Staff's cut and
reactivation, a payment's, a promise's and the daily run's cut, throttle and come-back all go
through here; a client edit marks its days with `state_marks_apply` too."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db.models import F
from django.utils import timezone

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record, audit_record_many
from wispbill.clients.enforcement import clients_changed, routers_changed
from wispbill.clients.models import RESTRICTED, Client, ClientState, transition_check
from wispbill.core.clock import business_day
from wispbill.core.db import among


@dataclass(frozen=True)
class Marks:
    """What a state change records besides the state: the day of the last suspension and
    of the last reactivation (billing after a cut: only a suspension stops the invoices; a
    throttled client still has service and is billed), and, for a client cancelled, its
    client-page links revoked (they would open its account forever)."""

    suspended: bool
    reactivated: bool
    links_revoked: bool


def state_marks(before: str, after: str) -> Marks:
    return Marks(
        suspended=after == ClientState.SUSPENDED and before != ClientState.SUSPENDED,
        reactivated=before == ClientState.SUSPENDED and after == ClientState.ACTIVE,
        links_revoked=after == ClientState.CANCELLED and before != ClientState.CANCELLED,
    )


def state_marks_apply(client: Client, before: str, day: date) -> None:
    """Mark, on a client (in memory) that went from `before` to its state, what the change
    records, as of `day`."""
    marks = state_marks(before, client.state)
    if marks.links_revoked:
        client.portal_links_revision += 1
    if marks.suspended:
        client.suspended_on = day
    if marks.reactivated:
        client.reactivated_on = day


def _marks_set(marks: Marks, day: date) -> dict[str, Any]:
    """`state_marks_apply` for an UPDATE of many rows."""
    values: dict[str, Any] = {}
    if marks.links_revoked:
        values["portal_links_revision"] = F("portal_links_revision") + 1
    if marks.suspended:
        values["suspended_on"] = day
    if marks.reactivated:
        values["reactivated_on"] = day
    return values


def client_state_set(
    *,
    actor: User | None,
    client: Client,
    to_state: str,
    action: AuditAction,
    reason: str,
    suspension_reason: str = "",
) -> None:
    """Move a (locked) client to another state, audited, and have its router follow."""
    client.check_transition(to_state)
    before = client.state
    client.state = to_state
    client.suspension_reason = suspension_reason if to_state in RESTRICTED else ""
    state_marks_apply(client, before, business_day())
    client.save(
        update_fields=[
            "state",
            "suspension_reason",
            "suspended_on",
            "reactivated_on",
            "portal_links_revision",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor, action=action, obj=client, changes={"state": [before, to_state]}, reason=reason
    )
    routers_changed([client.zone.router_id])


class StateChange(NamedTuple):
    """A client a bulk transition moves: its id and name (for the audit), the state it was
    read in, and its audit reason's own values."""

    client_id: int
    name: str
    before: str
    reason_args: dict[str, Any] | None = None


@dataclass(frozen=True)
class Transition:
    """Where a group of clients goes, and what their audit events say."""

    to_state: str
    action: AuditAction
    reason: str
    suspension_reason: str = ""


class StateChanged(Exception):
    """A client of a bulk transition was no longer in the state its caller read (the caller
    holds the rows locked, so this is a bug there): the caller's transaction rolls back."""


def clients_transition(
    *,
    actor: User | None,
    day: date,
    moves: Iterable[tuple[Transition, Sequence[StateChange]]],
) -> list[int]:
    """Move many (locked) clients at once, each group of `moves` to its transition's state,
    by the rules `client_state_set` applies to one: the pipeline refuses the whole call, the
    days are marked as of `day`, one audit event per client, and their routers follow. One
    UPDATE per group and state before, one audit insert per group, one router push for all.
    Returns the clients moved."""
    now = timezone.now()
    moved: list[int] = []
    for transition, rows in moves:
        if not rows:
            continue
        to_state = transition.to_state
        reason = transition.suspension_reason if to_state in RESTRICTED else ""
        by_before: dict[str, list[int]] = {}
        for row in rows:
            by_before.setdefault(row.before, []).append(row.client_id)
        for before, ids in by_before.items():
            transition_check(before, to_state)
            updated = Client.objects.filter(pk__in=among(ids), state=before).update(
                state=to_state,
                suspension_reason=reason,
                updated_at=now,
                **_marks_set(state_marks(before, to_state), day),
            )
            if updated != len(ids):
                raise StateChanged(f"{len(ids) - updated} clients left {before} since read")
        audit_record_many(
            actor=actor,
            action=transition.action,
            object_type="client",
            rows=(
                (row.client_id, row.name, {"state": [row.before, to_state]}, row.reason_args or {})
                for row in rows
            ),
            reason=transition.reason,
        )
        moved += [row.client_id for row in rows]
    if moved:
        clients_changed(moved)
    return moved
