"""Many clients at once, for the imports: every row goes through the same rules as
`client_create` (one construction, `client_new`), the checks that read the database are made
for all rows in a few queries, and then all rows are written, or none."""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record_many
from wispbill.clients.enforcement import routers_changed
from wispbill.clients.models import Access, Client
from wispbill.clients.references import payment_references_assign
from wispbill.clients.search import search_index_tidy
from wispbill.clients.services.access import username_taken_message
from wispbill.clients.services.clients import client_new, created_changes, needs_push
from wispbill.network.models import Router

CHUNK = 500  # keeps every IN (...) list under SQLite's bound-variable limit
TIDY_AFTER = 1000  # clients created at once, past which the search index is tidied


class RowErrors(ValidationError):
    """Rows refused, by their position: {index: {field: [message, ...]}}."""

    def __init__(self, rows: dict[int, dict[str, list[str]]]):
        self.rows = rows
        super().__init__(
            [
                f"{index + 1}: {field}: {message}"
                for index, fields in sorted(rows.items())
                for field, messages in fields.items()
                for message in messages
            ]
        )


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def clients_check_many(
    *, actor: User | None, rows: list[dict], numbers: list[int] | None = None
) -> tuple[list, dict]:
    """Build every row as `client_new` would (a missing permission refuses them all) and find
    what is wrong with each, the unique IP and PPPoE username included, against the database
    and against the other rows (named by `numbers`, such as a spreadsheet's row numbers;
    by position from 1 otherwise). Returns the unsaved clients (None where refused) and the
    errors by row."""
    numbers = numbers or list(range(1, len(rows) + 1))
    built: list[Client | None] = []
    errors: dict[int, dict[str, list[str]]] = {}
    for index, fields in enumerate(rows):
        try:
            client, _switches = client_new(actor=actor, validate=False, **fields)
        except ValidationError as exc:
            errors[index] = (
                exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            )
            built.append(None)
        else:
            built.append(client)

    def refuse(index: int, field: str, message: str) -> None:
        errors.setdefault(index, {}).setdefault(field, []).append(message)

    first_ip: dict[str, int] = {}
    first_user: dict[tuple[int, str], int] = {}
    for index, client_or_none in enumerate(built):
        if client_or_none is None:
            continue
        client = client_or_none
        if client.ip is None:  # no address (a file always names one): nothing to clash
            pass
        elif client.ip in first_ip:
            refuse(
                index,
                "ip",
                _("Row %(n)s has the same IP address.") % {"n": numbers[first_ip[client.ip]]},
            )
        else:
            first_ip[client.ip] = index
        if client.access == Access.PPPOE:
            key = (client.zone.router_id, client.pppoe_username)
            if key in first_user:
                refuse(
                    index,
                    "pppoe_username",
                    _("Row %(n)s has the same PPPoE username on this router.")
                    % {"n": numbers[first_user[key]]},
                )
            else:
                first_user[key] = index
    for chunk in _chunks(list(first_ip)):
        holders = dict(Client.objects.filter(ip__in=chunk).values_list("ip", "name"))
        for ip in chunk:
            if ip in holders:
                refuse(
                    first_ip[ip],
                    "ip",
                    _("«%(client)s» already has this IP address.") % {"client": holders[ip]},
                )
    routers = dict(
        Router.objects.filter(pk__in={k[0] for k in first_user}).values_list("id", "name")
    )
    for chunk in _chunks(list(first_user)):
        taken = Client.objects.filter(
            access=Access.PPPOE,
            zone__router_id__in={router for router, _u in chunk},
            pppoe_username__in={username for _r, username in chunk},
        ).values_list("zone__router_id", "pppoe_username", "name")
        for router, username, name in taken:
            if (router, username) in first_user:
                refuse(
                    first_user[(router, username)],
                    "pppoe_username",
                    username_taken_message(
                        client_name=name, username=username, router_name=routers[router]
                    ),
                )
    return built, errors


@transaction.atomic
def clients_create_many(
    *,
    actor: User | None,
    rows: list[dict],
    reason: str = "",
    reason_args: dict | None = None,
    push: bool = True,
) -> list[Client]:
    """Create every row (the fields of `client_new`), or none: a RowErrors names each bad
    row. Audited as `client_create` does, with `reason`. The routers that must hold
    something for them are pushed after the commit, unless the caller does it (`push`)."""
    built, errors = clients_check_many(actor=actor, rows=rows)
    if errors:
        raise RowErrors(errors)
    clients = Client.objects.bulk_create(built, batch_size=CHUNK)
    payment_references_assign(clients)
    if len(clients) > TIDY_AFTER:
        search_index_tidy()
    audit_record_many(
        actor=actor,
        action=AuditAction.CLIENT_CREATED,
        object_type="client",
        rows=((c.pk, c.name, created_changes(c)) for c in clients),
        reason=reason,
        reason_args=reason_args,
    )
    if push:
        routers_changed({c.zone.router_id for c in clients if needs_push(c)})
    return clients
