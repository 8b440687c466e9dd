"""The client's debt life, one place per rule: the notice, the cut (or, where the governing
schedule says so, the throttle: reduced speed instead of no service), the reactivation and
the payment promise. Each rule has a bulk entry point over a queryset (for the engine: a few
queries per batch) and a single-row one (for staff actions and payments), and both use the
same selection, so the panel, the API and the daily run can never disagree.

"Overdue" is `Invoice.objects.overdue_on(day)`: pending and due on or before `day`.
"""

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import actor_name_of, audit_record, audit_record_many
from wispbill.billing.models import Invoice, InvoiceQuerySet
from wispbill.billing.selectors import owed_subquery
from wispbill.billing.services.charges import reconnection_fees_add
from wispbill.billing.signals import run_batch_starting
from wispbill.clients.enforcement import clients_changed, routers_changed
from wispbill.clients.models import (
    RESTRICTED,
    WITH_SERVICE,
    Client,
    ClientQuerySet,
    ClientState,
    Promise,
    PromiseEndReason,
)
from wispbill.clients.models import SuspensionReason as Why
from wispbill.clients.services.states import (
    StateChange,
    Transition,
    client_state_set,
    clients_transition,
)
from wispbill.clients.signals import reactivated_by_hand
from wispbill.core.clock import business_day, today
from wispbill.core.db import among, locked
from wispbill.core.models import CompanySettings, CutAction
from wispbill.core.switches import Task
from wispbill.network.models import Zone
from wispbill.staff.permissions import (
    CUT_AND_REACTIVATE,
    REGISTER_PAYMENTS,
    require_permission_of_person,
)

BATCH = 500
# Called inside a batch's transaction with its (client id, invoice id) pairs, so what the
# caller adds (the messages the task sends) commits or rolls back with the batch.
BatchHook = Callable[[list[tuple[int, int]]], None]
# Called when a batch failed (its transaction rolled back), with the clients it held and the
# error; the bulk rule then goes on with the next batch.
BatchFailed = Callable[[list[int], Exception], None]
_T = TypeVar("_T")
MAX_PROMISE_DAYS = 90
NOTICE_REASON = gettext_noop("automatic: invoice unpaid on its notice date")
CUT_REASON = gettext_noop("automatic: invoice %(id)s overdue since %(date)s")
THROTTLE_REASON = gettext_noop(
    "automatic: invoice %(id)s overdue since %(date)s; speed reduced instead of a cut"
)
COMEBACK_REASON = gettext_noop("automatic: nothing overdue left")
# The daily run's state changes (through `clients.services.states`, as staff's are).
SUSPEND = Transition(ClientState.SUSPENDED, AuditAction.CLIENT_CUT, CUT_REASON, Why.AUTOMATIC)
THROTTLE = Transition(
    ClientState.THROTTLED, AuditAction.CLIENT_THROTTLED, THROTTLE_REASON, Why.AUTOMATIC
)
COMEBACK = Transition(ClientState.ACTIVE, AuditAction.CLIENT_REACTIVATED, COMEBACK_REASON)


def _batches(rows: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _invoices_of(**conditions: Any) -> InvoiceQuerySet:
    return Invoice.objects.filter(client=OuterRef("pk"), **conditions)


# --- who each rule selects -------------------------------------------------------------------


# The rules start from the few invoices that call for an action today (partial indexes keep
# them cheap to find), not from every client.


# Each rule is split in what the client row says and which of its invoices call for the
# action: the run reads both for every client at once, and each batch reads them again for
# its own clients only (a query per side, by the batch's ids), whatever the planner believes
# of the invoices just written.


def _notice_calling(day: date) -> InvoiceQuerySet:
    """The invoices that call for a notice: unpaid on their notice date, none shown yet."""
    return Invoice.objects.noticeable_on(day).filter(notice_shown_on__isnull=True)


def _noticeable(clients: ClientQuerySet) -> ClientQuerySet:
    """The clients of `clients` a notice can be shown to: active, governed by the task."""
    return clients.governed_by(Task.NOTICES).filter(state=ClientState.ACTIVE)


def notice_due(clients: ClientQuerySet, day: date) -> ClientQuerySet:
    """Active clients governed by the notices task with an invoice unpaid on its notice date
    that no notice was shown for yet."""
    return _noticeable(clients.filter(pk__in=_notice_calling(day).values("client_id")))


def _cut_calling(day: date) -> Q:
    """Among a client's pending invoices, those that call for a cut: overdue, and nobody cut
    for them or exempted them."""
    return Q(due_date__lte=day, cut_on__isnull=True, cut_exempt=False)


def _cuttable(clients: ClientQuerySet, day: date) -> ClientQuerySet:
    """The clients of `clients` the cut can take: active, governed by the task, without a
    running promise."""
    return (
        clients.governed_by(Task.CUTS)
        .filter(state=ClientState.ACTIVE)
        .filter(Q(promise_until__isnull=True) | Q(promise_until__lt=day))
    )


def cut_due(clients: ClientQuerySet, day: date, company: CompanySettings) -> ClientQuerySet:
    """Active clients governed by the cuts task with an invoice overdue that nobody cut for
    or exempted, no running promise, and a debt above the company's minimum."""
    calling = Invoice.objects.pending().filter(_cut_calling(day))
    return (
        _cuttable(clients.filter(pk__in=calling.values("client_id")), day)
        .annotate(debt=owed_subquery() - F("credit"))
        .filter(debt__gt=company.min_debt_to_cut)
    )


def comeback_due(clients: ClientQuerySet, day: date) -> ClientQuerySet:
    """Clients the automatic cut suspended or throttled who want the service back on payment
    and owe nothing overdue any more (a payment, an invoice cancelled)."""
    return clients.filter(
        state__in=RESTRICTED,
        suspension_reason=Why.AUTOMATIC,
        auto_activate_on_payment=True,
    ).exclude(Exists(_invoices_of().overdue_on(day)))


# --- bulk entry points, for the engine -------------------------------------------------------


def batch_hold(ids: list[int]) -> None:
    """Lock a batch's zones (for share) and then its clients (for update), in the order a
    mass update takes them: a switch, payment or promise of these rows has then either
    committed before the batch reads them again, or waits until the batch has committed.
    SQLite's IMMEDIATE transaction already holds the database's write lock."""
    if not connection.features.has_select_for_update:
        return
    clients, zones = Client._meta.db_table, Zone._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {zones} WHERE id IN "
            f"(SELECT zone_id FROM {clients} WHERE id = ANY(%s)) ORDER BY id FOR SHARE",
            [ids],
        )
        cursor.execute(f"SELECT id FROM {clients} WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids])


def batches_act(
    task: str,
    eligible: list[int],
    act: Callable[[list[int]], list[_T]],
    on_error: BatchFailed | None,
) -> list[_T]:
    """Run `act` on each batch of the clients a rule read, each in its own transaction with
    the batch held (`batch_hold`), so `act` decides on committed data; what it returns is
    gathered. A batch that fails is rolled back and reported to `on_error` (raised without
    one); the next batch goes on."""
    done: list[_T] = []
    for batch in _batches(eligible):
        run_batch_starting.send(sender=Client, task=task, ids=batch)
        try:
            done += _batch_act(batch, act)
        except Exception as exc:
            if on_error is None:
                raise
            on_error(batch, exc)
    return done


def _batch_act(
    batch: list[int], act: Callable[[list[int]], list[_T]], again: bool = True
) -> list[_T]:
    """One batch in its transaction; once more if the database gave up on it (a deadlock
    with a write that locks an invoice before its client, a lock that waited too long):
    by then the other side has committed."""
    try:
        with transaction.atomic():
            batch_hold(batch)
            return act(batch)
    except OperationalError:
        if not again or connection.in_atomic_block:
            raise
    return _batch_act(batch, act, again=False)


def notices_show(
    clients: ClientQuerySet,
    day: date,
    *,
    on_batch: BatchHook | None = None,
    on_error: BatchFailed | None = None,
) -> list[int]:
    """Show the notice to every client `notice_due` selects; marks the invoices so each is
    warned for once. Each batch asks the rule again for the rows it holds, so a payment or
    a switch committed since the run read them wins. `on_batch` gets, inside each batch's
    transaction, the (client, invoice) pairs of the clients newly warned. Returns them."""
    eligible = list(notice_due(clients, day).order_by("id").values_list("id", flat=True))

    def act(batch: list[int]) -> list[int]:
        calling = _notice_calling(day).filter(client_id__in=among(batch))
        first = dict(
            calling.values("client_id").annotate(first=Min("id")).values_list("client_id", "first")
        )
        rows = [
            (*row, first[row[0]])
            for row in _noticeable(Client.objects.filter(pk__in=among(batch)))
            .order_by("id")
            .values_list("id", "name", "notice_active")
            if row[0] in first
        ]
        calling.filter(client_id__in=among([row[0] for row in rows])).update(notice_shown_on=day)
        newly = [row for row in rows if not row[2]]
        newly_ids = [row[0] for row in newly]
        Client.objects.filter(pk__in=among(newly_ids)).update(
            notice_active=True, updated_at=timezone.now()
        )
        audit_record_many(
            actor=None,
            action=AuditAction.NOTICE_SHOWN,
            object_type="client",
            rows=((row[0], row[1], {"notice_active": [False, True]}) for row in newly),
            reason=NOTICE_REASON,
        )
        clients_changed(newly_ids)
        if on_batch:
            on_batch([(row[0], row[3]) for row in newly])
        return newly_ids

    return batches_act(Task.NOTICES, eligible, act, on_error)


def clients_cut(
    clients: ClientQuerySet,
    day: date,
    company: CompanySettings,
    *,
    on_batch: BatchHook | None = None,
    on_error: BatchFailed | None = None,
) -> tuple[list[int], list[int]]:
    """Suspend every client `cut_due` selects — or reduce its speed, where its governing
    schedule's `cut_action` is to throttle — once per invoice. Each batch asks the rule
    again on the rows it holds, so a payment, a promise or a switch committed since the run
    read them wins. `on_batch` gets, inside each batch's transaction, the (client, oldest
    overdue invoice) pairs of both (the cut message reads which it was from the client's
    state). Returns the clients suspended and the clients throttled."""
    eligible = list(cut_due(clients, day, company).order_by("id").values_list("id", flat=True))
    overdue = Invoice.objects.overdue_on(day)

    def act(batch: list[int]) -> list[tuple[int, str]]:
        debts = {
            row[0]: row[1:]
            for row in Invoice.objects.pending()
            .filter(client_id__in=among(batch))
            .values("client_id")
            .annotate(
                owed=Sum(F("total") - F("paid_amount")),
                calling=Count("id", filter=_cut_calling(day)),
                invoice=Min("id", filter=Q(due_date__lte=day)),
                since=Min("due_date", filter=Q(due_date__lte=day)),
            )
            .values_list("client_id", "owed", "calling", "invoice", "since")
        }
        rows = [
            (client_id, name, how, *debts[client_id][2:])
            for client_id, name, how, credit in _cuttable(
                Client.objects.filter(pk__in=among(batch)), day
            )
            .with_cut_action()
            .order_by("id")
            # eff_cut_action is with_cut_action()'s annotation, which the plugin cannot see.
            .values_list("id", "name", "eff_cut_action", "credit")  # type: ignore[misc]
            if client_id in debts
            and debts[client_id][1]
            and debts[client_id][0] - credit > company.min_debt_to_cut
        ]
        ids = [row[0] for row in rows]
        overdue.filter(client_id__in=among(ids)).update(cut_on=day)
        moves: dict[Transition, list[StateChange]] = {SUSPEND: [], THROTTLE: []}
        for client_id, name, how, invoice, since in rows:
            moves[THROTTLE if how == CutAction.THROTTLE else SUSPEND].append(
                StateChange(
                    client_id, name, ClientState.ACTIVE, {"id": invoice, "date": since.isoformat()}
                )
            )
        clients_transition(actor=None, day=day, moves=moves.items())
        if on_batch:
            on_batch([(row[0], row[3]) for row in rows])
        return [(row[0], row[2]) for row in rows]

    acted = batches_act(Task.CUTS, eligible, act, on_error)
    return (
        [i for i, how in acted if how != CutAction.THROTTLE],
        [i for i, how in acted if how == CutAction.THROTTLE],
    )


def clients_come_back(
    clients: ClientQuerySet, day: date, *, on_error: BatchFailed | None = None
) -> list[int]:
    """Give the service back to every client `comeback_due` selects (asked again by each
    batch on the rows it holds). Returns them."""
    eligible = list(comeback_due(clients, day).order_by("id").values_list("id", flat=True))

    def act(batch: list[int]) -> list[int]:
        rows = list(
            comeback_due(Client.objects.filter(pk__in=among(batch)), day)
            .order_by("id")
            .values_list("id", "name", "state")
        )
        ids = clients_transition(
            actor=None,
            day=day,
            moves=[(COMEBACK, [StateChange(*row) for row in rows])],
        )
        reconnection_fees_add(
            actor=None, clients=[row[:2] for row in rows if row[2] == ClientState.SUSPENDED]
        )
        return ids

    return batches_act("reactivations", eligible, act, on_error)


# --- single-row entry points, for staff and payments -----------------------------------------


def _locked_client(client: Client) -> Client:
    return locked(Client.objects.select_related("zone__router", "plan")).get(pk=client.pk)


@transaction.atomic
def client_cut(*, actor: User | None, client: Client, reason: str = "") -> Client:
    """Suspend the service by hand, whatever the switches say (a throttled client too)."""
    require_permission_of_person(actor, CUT_AND_REACTIVATE)
    client = _locked_client(client)
    if client.state not in WITH_SERVICE:
        raise ValidationError(_("Only an active client, or one at reduced speed, can be cut."))
    client_state_set(
        actor=actor,
        client=client,
        to_state=ClientState.SUSPENDED,
        action=AuditAction.CLIENT_CUT,
        reason=reason or gettext_noop("manual cut"),
        suspension_reason=Why.MANUAL,
    )
    return client


@transaction.atomic
def client_reactivate(*, actor: User | None, client: Client, reason: str = "") -> Client:
    """Give the service (or its full speed) back by hand. The automatic cut will not cut it
    again for the invoices overdue now (unless a promise for them runs out unpaid)."""
    require_permission_of_person(actor, CUT_AND_REACTIVATE)
    client = _locked_client(client)
    if client.state not in RESTRICTED:
        raise ValidationError(
            _("Only a suspended client, or one at reduced speed, can be reactivated.")
        )
    _service_back(actor=actor, client=client, reason=reason or gettext_noop("manual reactivation"))
    reactivated_by_hand.send(sender=Client, client=client)
    return client


def _service_back(*, actor: User | None, client: Client, reason: str) -> None:
    """Give a (locked) client its service back, other than by a promise: one that was cut
    (suspended, not throttled) owes the company's reconnection fee on its next invoice."""
    was_cut = client.state == ClientState.SUSPENDED
    client_state_set(
        actor=actor,
        client=client,
        to_state=ClientState.ACTIVE,
        action=AuditAction.CLIENT_REACTIVATED,
        reason=reason,
    )
    if was_cut:
        reconnection_fees_add(actor=actor, clients=[(client.pk, client.name)])


def exempt_overdue_from_cut(sender: object, *, client: Client, **kwargs: Any) -> None:
    """Staff gave the service back by hand: what is overdue now is not cut for again."""
    Invoice.objects.overdue_on(business_day()).filter(client=client).update(cut_exempt=True)


def _notice_set(*, actor: User | None, client: Client, active: bool, reason: str) -> Client:
    if client.notice_active != active:
        client.notice_active = active
        # A notice shown again is shown, even if the client dismissed the last one today.
        client.notice_dismissed_on = None
        client.save(update_fields=["notice_active", "notice_dismissed_on", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.NOTICE_SHOWN if active else AuditAction.NOTICE_CLEARED,
            obj=client,
            changes={"notice_active": [not active, active]},
            reason=reason,
        )
        routers_changed([client.zone.router_id])
    return client


@transaction.atomic
def client_show_notice(*, actor: User | None, client: Client) -> Client:
    """Show the payment notice by hand."""
    require_permission_of_person(actor, CUT_AND_REACTIVATE)
    client = _locked_client(client)
    if client.state in (ClientState.CANCELLED, ClientState.FREE):
        raise ValidationError(_("No notice is shown to a cancelled or free client."))
    return _notice_set(
        actor=actor, client=client, active=True, reason=gettext_noop("manual notice")
    )


@transaction.atomic
def client_clear_notice(*, actor: User | None, client: Client) -> Client:
    """Take the payment notice away by hand; it is not shown again for the same invoices."""
    require_permission_of_person(actor, CUT_AND_REACTIVATE)
    client = _locked_client(client)
    return _notice_set(actor=actor, client=client, active=False, reason=gettext_noop("manual"))


@transaction.atomic
def client_dismiss_notice(*, actor: User | None, client: Client) -> Client:
    """The client read its notice and keeps browsing ("Understood"): its router stops
    sending it to the notice page for the rest of the day; the notice comes back tomorrow if
    it still owes. Only a client that still has its service (active, or at reduced speed)
    can dismiss it (the client, from its notice page, acts as the system: actor None)."""
    client = _locked_client(client)
    day = today()
    if client.state not in WITH_SERVICE or not client.notice_active:
        raise ValidationError(_("There is no notice to dismiss."))
    if client.notice_dismissed_on != day:
        client.notice_dismissed_on = day
        client.save(update_fields=["notice_dismissed_on", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.NOTICE_DISMISSED,
            obj=client,
            changes={"notice_dismissed_on": [None, day.isoformat()]},
            reason=gettext_noop("dismissed by the client on its notice page"),
        )
        routers_changed([client.zone.router_id])
    return client


def notice_dismissals_expire(clients: ClientQuerySet, day: date) -> list[int]:
    """Dismissals from days before `day` are over: those clients' notices come back (their
    routers are pushed). Returns them."""
    expired = clients.filter(notice_dismissed_on__lt=day)
    ids = list(expired.values_list("id", flat=True))
    if ids:
        Client.objects.filter(pk__in=ids).update(notice_dismissed_on=None)
        clients_changed(ids)
    return ids


def client_next_cut(*, client: Client, day: date, company: CompanySettings) -> date | None:
    """The day the automatic cut would suspend this client if it paid nothing more, by the
    rules of `cut_due`: None when it will not come (not active, its cuts switched off,
    nothing unpaid that can be cut for, a debt not above the company's minimum)."""
    if client.state != ClientState.ACTIVE or not client.effective_switches.cuts:
        return None
    cuttable = Invoice.objects.pending().filter(
        client=client, cut_on__isnull=True, cut_exempt=False
    )
    first_due: date | None = cuttable.aggregate(first=Min("due_date"))["first"]
    if first_due is None:
        return None
    debt = Client.objects.filter(pk=client.pk).annotate(debt=owed_subquery() - F("credit"))
    if not debt.filter(debt__gt=company.min_debt_to_cut).exists():
        return None
    cut = max(first_due, day)
    if client.promise_until and client.promise_until >= cut:
        cut = client.promise_until + timedelta(days=1)
    for _skip in range(366):  # no cut day in a year: every weekday is a no-cut day
        if not company.is_no_cut_day(cut):
            return cut
        cut += timedelta(days=1)
    return None


@transaction.atomic
def client_promise(*, actor: User | None, client: Client, until: date) -> Client:
    """A payment promise: no cut until that date; a suspended or throttled client gets its
    service back now. If the promise runs out unpaid, the overdue invoices can be cut for
    again."""
    require_permission_of_person(actor, REGISTER_PAYMENTS)
    client = _locked_client(client)
    today = business_day()
    if until < today:
        raise ValidationError({"until": [_("A promise cannot end in the past.")]})
    if until > today + timedelta(days=MAX_PROMISE_DAYS):
        raise ValidationError(
            {"until": [_("A promise can last at most %(days)s days.") % {"days": MAX_PROMISE_DAYS}]}
        )
    if client.state not in (ClientState.ACTIVE, *RESTRICTED):
        raise ValidationError(
            _("Only an active, suspended or reduced-speed client can make a promise.")
        )
    Promise.objects.filter(client=client, ended_on__isnull=True).update(
        ended_on=today, end_reason=PromiseEndReason.REPLACED
    )
    Promise.objects.create(client=client, until=until, actor_name=actor_name_of(actor))
    Invoice.objects.overdue_on(today).filter(client=client).update(cut_on=None, cut_exempt=False)
    before = client.promise_until
    client.promise_until = until
    client.save(update_fields=["promise_until", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.PROMISE,
        obj=client,
        changes={"promise_until": [before and before.isoformat(), until.isoformat()]},
    )
    if client.state in RESTRICTED:
        client_state_set(
            actor=actor,
            client=client,
            to_state=ClientState.ACTIVE,
            action=AuditAction.CLIENT_REACTIVATED,
            reason=gettext_noop("payment promise until %(date)s"),
        )
    return client


def debt_changed(*, actor: User | None, client: Client, activate_service: bool | None) -> None:
    """What a payment or a cancelled invoice sets in motion for one (locked) client: the
    rule of `debts_changed`."""
    debts_changed(actor=actor, clients=[client], activate={client.pk: activate_service})


def debts_changed(
    *, actor: User | None, clients: list[Client], activate: dict[int, bool | None]
) -> None:
    """What payments or a cancelled invoice set in motion for (locked) clients, a few queries
    for any number of them: the notice goes when no invoice calls for it, a settled debt ends
    the promise, and the service comes back — at once for a payment that asks for it
    (`activate[id]` True); by the same rule as the daily run when the debt disappeared
    otherwise (None). A payment registered without reactivation (False) keeps the client cut
    (or throttled) until someone gives the service back. The clients' objects follow."""
    day = business_day()
    now = timezone.now()
    routers: set[int | None] = set()
    warned = [client for client in clients if client.notice_active]
    if warned:
        calling = set(
            Invoice.objects.pending()
            .noticeable_on(day)
            .filter(client_id__in=among([client.pk for client in warned]))
            .values_list("client_id", flat=True)
        )
        cleared = [client for client in warned if client.pk not in calling]
        Client.objects.filter(pk__in=among([client.pk for client in cleared])).update(
            notice_active=False, notice_dismissed_on=None, updated_at=now
        )
        for client in cleared:
            client.notice_active, client.notice_dismissed_on = False, None
            routers.add(client.zone.router_id)
        audit_record_many(
            actor=actor,
            action=AuditAction.NOTICE_CLEARED,
            object_type="client",
            rows=((client.pk, str(client), {"notice_active": [True, False]}) for client in cleared),
            reason=gettext_noop("nothing left to warn"),
        )
    promised = [client for client in clients if client.promise_until]
    if promised:
        owing = set(
            Invoice.objects.pending()
            .filter(client_id__in=among([client.pk for client in promised]))
            .values_list("client_id", flat=True)
        )
        kept = [client.pk for client in promised if client.pk not in owing]
        Promise.objects.filter(client_id__in=among(kept), ended_on__isnull=True).update(
            ended_on=day, end_reason=PromiseEndReason.PAID
        )
        Client.objects.filter(pk__in=among(kept)).update(promise_until=None, updated_at=now)
        for client in promised:
            if client.pk not in owing:
                client.promise_until = None
    restricted = [client for client in clients if client.state in RESTRICTED]
    held = [
        client
        for client in restricted
        if activate.get(client.pk) is False and client.suspension_reason == Why.AUTOMATIC
    ]
    # "Solo registrar": the operator keeps the client cut; the daily run must not undo it.
    Client.objects.filter(pk__in=among([client.pk for client in held])).update(
        suspension_reason=Why.HELD, updated_at=now
    )
    for client in held:
        client.suspension_reason = Why.HELD
    asked = [client for client in restricted if activate.get(client.pk)]
    undecided = [client.pk for client in restricted if activate.get(client.pk) is None]
    due = set(
        comeback_due(Client.objects.filter(pk__in=among(undecided)), day).values_list(
            "id", flat=True
        )
        if undecided
        else ()
    )
    for group, reason in (
        (asked, gettext_noop("payment with reactivation")),
        ([client for client in restricted if client.pk in due], COMEBACK_REASON),
    ):
        # Their routers follow already (clients_transition): marked once, pushed once.
        routers -= _services_back(actor=actor, clients=group, day=day, reason=reason)
    routers_changed(routers)


def _services_back(
    *, actor: User | None, clients: list[Client], day: date, reason: str
) -> set[int | None]:
    """Give (locked) clients, suspended or throttled, their service back by `client_state_set`'s
    rule in bulk: audited, the reactivation day kept for a suspension, which also owes the
    company's reconnection fee. Returns their routers, which `clients_transition` has made
    follow."""
    if not clients:
        return set()
    suspended = [client for client in clients if client.state == ClientState.SUSPENDED]
    # The clients' own transition rule, in bulk: the pipeline, the days marked, the audit.
    clients_transition(
        actor=actor,
        day=day,
        moves=[
            (
                Transition(ClientState.ACTIVE, AuditAction.CLIENT_REACTIVATED, reason),
                [StateChange(client.pk, str(client), client.state) for client in clients],
            )
        ],
    )
    reconnection_fees_add(actor=actor, clients=[(client.pk, client.name) for client in suspended])
    for client in clients:
        if client.state == ClientState.SUSPENDED:
            client.reactivated_on = day
        client.state, client.suspension_reason = ClientState.ACTIVE, ""
    return {client.zone.router_id for client in clients}
