"""A client's access to the network: static IP, or PPPoE with a username unique on its
router and a password kept encrypted."""

import secrets

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wispbill.clients.models import Access, Client
from wispbill.core.db import locked
from wispbill.core.wire import has_control
from wispbill.network.models import Router

# RouterOS keeps text as bytes, one per character: a name outside Latin-1 cannot be stored.
PPPOE_MAX = 64
# What a PPPoE password field says to have wispbill make one.
GENERATE = "generate"
# Letters and digits a person reads aloud over the phone without confusion (no 0/O, 1/l/I).
READABLE = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_LENGTH = 12


def pppoe_password_generate() -> str:
    """A new PPPoE password: 12 readable characters from the system's secure random source."""
    return "".join(secrets.choice(READABLE) for _n in range(GENERATED_LENGTH))


def pppoe_password_resolve(password: str) -> tuple[str, bool]:
    """The password to store for what was typed, and whether wispbill generated it."""
    if password == GENERATE:
        return pppoe_password_generate(), True
    return password, False


def _pppoe_text_error(value: str) -> str | None:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return _("Use only letters a router can store (no emoji or non-Latin scripts).")
    if has_control(value) or any(ch.isspace() for ch in value):
        return _("No spaces or control characters.")
    if len(value) > PPPOE_MAX:
        return _("At most %(n)s characters.") % {"n": PPPOE_MAX}
    return None


# Why a new PPPoE client without a password is refused: a secret its router refuses. The
# panel and the API can have wispbill generate one and show it once; a file has nowhere to
# show it, so a file's row must carry its password.
PASSWORD_NEEDED = gettext_lazy(
    "A PPPoE client needs its password: type one, or have wispbill generate it."
)
PASSWORD_NEEDED_IN_FILE = gettext_lazy(
    "A PPPoE client needs its password: write it in the pppoe_password column."
)


def access_errors(
    client: Client, *, password: str = "", require_password: bool = False, needed=PASSWORD_NEEDED
) -> dict[str, list]:
    """Hold a client's access to its rules without reading the database: a PPPoE client has
    a username a router can store (and, with `require_password`, a password; `needed` says
    so when it has none); a static client has neither username nor password. `password` is
    a new password, if any. Returns the errors by field."""
    errors: dict[str, list] = {}
    if client.access != Access.PPPOE:
        client.pppoe_username = ""
        client.pppoe_password = ""
        return errors
    client.pppoe_username = (client.pppoe_username or "").strip()
    if not client.pppoe_username:
        errors["pppoe_username"] = [_("A PPPoE client needs its PPPoE username.")]
    elif problem := _pppoe_text_error(client.pppoe_username):
        errors["pppoe_username"] = [problem]
    if password and (problem := _pppoe_text_error(password)):
        errors["pppoe_password"] = [problem]
    elif require_password and not password and not client.pppoe_password_encrypted:
        errors["pppoe_password"] = [str(needed)]
    return errors


def username_taken_message(*, client_name: str, username: str, router_name: str) -> str:
    return _(
        "«%(client)s» already uses the PPPoE username %(username)s on the router %(router)s."
    ) % {
        "client": client_name,
        "username": username,
        "router": router_name,
    }


def access_check(client: Client, *, password: str = "", require_password: bool = False) -> None:
    """`access_errors`, and a PPPoE username no other client of the router uses (the router
    row is locked, so two requests cannot both take it)."""
    errors = access_errors(client, password=password, require_password=require_password)
    if client.access == Access.PPPOE and "pppoe_username" not in errors:
        router = locked(Router.objects.filter(pk=client.zone.router_id)).get()
        taken = (
            Client.objects.filter(
                access=Access.PPPOE,
                pppoe_username=client.pppoe_username,
                zone__router_id=router.pk,
            )
            .exclude(pk=client.pk)
            .values_list("name", flat=True)
            .first()
        )
        if taken is not None:
            errors["pppoe_username"] = [
                username_taken_message(
                    client_name=taken, username=client.pppoe_username, router_name=router.name
                )
            ]
    if errors:
        raise ValidationError(errors)
