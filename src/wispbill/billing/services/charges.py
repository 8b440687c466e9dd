"""One-off charges: added (by staff, or the reconnection fee after a cut), deleted while
pending, and taken by the invoice writers — the engine's and the manual one — as lines of
the client's next invoice."""

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.audit.models import AuditAction
from wispbill.audit.services import actor_name_of, audit_record, audit_record_many
from wispbill.billing.models import Charge, ChargeOrigin, ChargeStatus
from wispbill.clients.models import Client, ClientState
from wispbill.core.db import among, bulk_insert, locked
from wispbill.core.formatting import money
from wispbill.core.models import MAX_MONEY, CompanySettings
from wispbill.core.wire import has_control
from wispbill.staff.permissions import MANAGE_INVOICES, require_permission_of_person

ZERO = Decimal("0.00")
NOT_INVOICED = (ClientState.FREE, ClientState.CANCELLED)
RECONNECTION_REASON = gettext_noop("reconnection after a cut")


def pending_charges_total(client_id: int) -> Decimal:
    """What the client's pending charges add to its next invoice."""
    return Charge.objects.filter(client_id=client_id, status=ChargeStatus.PENDING).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0.00")


def _checked(description: str, amount: Decimal) -> str:
    errors = {}
    description = (description or "").strip()
    if not description:
        errors["description"] = [_("Say what the charge is for.")]
    elif len(description) > 200 or has_control(description):
        errors["description"] = [_("The description must be one line of at most 200 characters.")]
    if amount == 0:
        errors["amount"] = [_("The amount cannot be zero.")]
    elif abs(amount) > MAX_MONEY or amount != amount.quantize(Decimal("0.01")):
        errors["amount"] = [
            _("The amount must have at most two decimals and be at most %(max)s.")
            % {"max": money(MAX_MONEY)}
        ]
    if errors:
        raise ValidationError(errors)
    return description


@transaction.atomic
def charge_create(
    *, actor: User | None, client: Client, description: str, amount: Decimal
) -> Charge:
    """Add a one-off charge (negative: a discount) to the client's next invoice. A discount
    that would leave that invoice (the plan's price and the pending charges) below zero is
    refused."""
    require_permission_of_person(actor, MANAGE_INVOICES)
    description = _checked(description, amount)
    client = locked(Client.objects.select_related("plan")).get(pk=client.pk)
    if client.state in NOT_INVOICED:
        raise ValidationError(
            _("A client that is %(state)s is not invoiced.")
            % {"state": client.get_state_display().lower()}
        )
    next_total = client.plan.price + pending_charges_total(client.pk) + amount
    if next_total > MAX_MONEY:
        raise ValidationError(
            {
                "amount": [
                    _("With it, the next invoice would be more than %(max)s.")
                    % {"max": money(MAX_MONEY)}
                ]
            }
        )
    if amount < 0 and next_total < 0:
        raise ValidationError(
            {
                "amount": [
                    _(
                        "A discount cannot make an invoice negative: with it, the next "
                        "invoice (the plan's %(price)s and the pending charges) would be "
                        "%(total)s."
                    )
                    % {"price": money(client.plan.price), "total": money(next_total)}
                ]
            }
        )
    charge = Charge.objects.create(
        client=client, description=description, amount=amount, actor_name=actor_name_of(actor)
    )
    audit_record(
        actor=actor,
        action=AuditAction.CHARGE_ADDED,
        obj=client,
        changes={
            "charge": [None, charge.pk],
            "description": [None, description],
            "amount": [None, str(amount)],
        },
    )
    return charge


@transaction.atomic
def charge_delete(*, actor: User | None, charge: Charge) -> None:
    """Delete a charge that no invoice holds yet."""
    require_permission_of_person(actor, MANAGE_INVOICES)
    charge = locked(Charge.objects.select_related("client")).get(pk=charge.pk)
    if charge.status != ChargeStatus.PENDING:
        raise ValidationError(
            _("This charge is already on an invoice; cancel the invoice instead.")
        )
    audit_record(
        actor=actor,
        action=AuditAction.CHARGE_DELETED,
        obj=charge.client,
        changes={
            "charge": [charge.pk, None],
            "description": [charge.description, None],
            "amount": [str(charge.amount), None],
        },
    )
    charge.delete()


def reconnection_fees_add(*, actor: User | None, clients: Iterable[tuple[int, str]]) -> int:
    """Add the company's reconnection fee, as a pending charge, to each (client id, name)
    whose service came back after a cut; call it inside the transaction of the
    reactivation, once per reactivation. Returns how many were added (none without a fee)."""
    rows = list(clients)
    fee = CompanySettings.load().reconnection_fee if rows else ZERO
    if fee <= 0:
        return 0
    description, name, now = _("Reconnection"), actor_name_of(actor), timezone.now()
    bulk_insert(
        Charge,
        ("client", "description", "amount", "status", "origin", "created_at", "actor_name"),
        (
            (
                client_id,
                description,
                fee,
                ChargeStatus.PENDING,
                ChargeOrigin.RECONNECTION,
                now,
                name,
            )
            for client_id, _name in rows
        ),
    )
    changes = {"description": [None, description], "amount": [None, str(fee)]}
    return audit_record_many(
        actor=actor,
        action=AuditAction.CHARGE_ADDED,
        object_type="client",
        rows=((client_id, client_name, changes) for client_id, client_name in rows),
        reason=RECONNECTION_REASON,
    )


# --- for the invoice writers -----------------------------------------------------------------


def charges_to_invoice(
    bases: dict[int, Decimal], *, lock: bool = True
) -> dict[int, list[tuple[int, str, Decimal]]]:
    """Per client of `bases` (client id → what its new invoice bills without them), the
    pending charges (id, description, amount) its invoice takes (locked, for a writer):
    every charge, and each discount while the invoice stays at zero or more (the rest
    waits for the next)."""
    if not bases:
        return {}
    pending = Charge.objects.filter(client_id__in=among(list(bases)), status=ChargeStatus.PENDING)
    rows = (
        (locked(pending) if lock else pending)
        .order_by("id")
        .values_list("client_id", "id", "description", "amount")
    )
    by_client: dict[int, list[tuple[int, str, Decimal]]] = {}
    for client_id, charge_id, description, amount in rows:
        by_client.setdefault(client_id, []).append((charge_id, description, amount))
    taken: dict[int, list[tuple[int, str, Decimal]]] = {}
    for client_id, charges in by_client.items():
        total = bases[client_id]
        chosen: list[tuple[int, str, Decimal]] = []
        for charge in sorted(charges, key=lambda c: c[2] < 0):  # charges, then discounts
            if total + charge[2] >= 0:
                total += charge[2]
                chosen.append(charge)
        if chosen:
            taken[client_id] = chosen
    return taken


def charges_invoiced(
    invoice_of: dict[int, int], taken: Mapping[int, Sequence[tuple[int, str, Decimal]]]
) -> None:
    """Mark the charges `charges_to_invoice` took as invoiced, each by its client's invoice
    (`invoice_of`: client id → invoice id)."""
    for client_id, charges in taken.items():
        Charge.objects.filter(pk__in=[charge[0] for charge in charges]).update(
            status=ChargeStatus.INVOICED, invoice_id=invoice_of[client_id]
        )
