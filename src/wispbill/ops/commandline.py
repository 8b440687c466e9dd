"""The `wispbill` command as a tool a person uses: its own commands first, in the user's
language; a data dir it does not invent where none is; and a known mistake said in one line,
never as a traceback."""

import gettext as catalogues
import os
import sys
from pathlib import Path

# Read without Django: where there is no data dir, Django cannot start (its task queue
# opens a file there), and the person must still read why in their language.
LOCALE = Path(__file__).resolve().parents[1] / "locale"
_catalogue = catalogues.NullTranslations()


def _(message: str) -> str:
    return _catalogue.gettext(message)


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogue; translated where it is printed."""
    return message


def use_language(language: str) -> None:
    """Speak `language` in this module's messages."""
    global _catalogue
    _catalogue = catalogues.translation(
        "django", localedir=LOCALE, languages=[language], fallback=True
    )


# The product's commands, in the order an operator meets them, with one line each.
PRODUCT_COMMANDS = {
    "serve": gettext_noop("Run wispbill on this machine: web, notice page and task consumer."),
    "migrate": gettext_noop("Create or update the database's tables."),
    "demo": gettext_noop("Load a demo ISP into an empty database."),
    "import-clients": gettext_noop("Import clients from a CSV or XLSX file."),
    "import-router": gettext_noop("Import the clients a router already has."),
    "import-bank": gettext_noop("Apply a bank statement's transfers to the clients they name."),
    "reconcile-routers": gettext_noop("Push to the routers now what they must hold."),
    "install-router-rules": gettext_noop("Install the firewall rules the cut and notices need."),
    "run-periodic-tasks": gettext_noop("Run the invoice, notice and cut tasks now."),
    "send-messages": gettext_noop("Send the messages of the outbox that are due."),
    "stamp-cfdi": gettext_noop("Stamp the CFDI documents that are due at the PAC."),
    "cfdi-global": gettext_noop("Issue the global CFDI of the last period for the public."),
    "radius": gettext_noop("Run FreeRADIUS for the RADIUS routers, answering from wispbill."),
    "radius-config": gettext_noop("Write FreeRADIUS's configuration for a system service."),
    "create-api-key": gettext_noop("Create an API key for a staff user."),
    "unlock-login": gettext_noop("Lift the lockout of a user after failed logins."),
    "backup": gettext_noop("Write a consistent copy of the database to a file."),
    "restore": gettext_noop("Replace the database with a backup."),
    "worker": gettext_noop("Run a task consumer (scale-out)."),
    "routeros-emulator": gettext_noop("Run the RouterOS API emulator on loopback."),
    "pac-stand-in": gettext_noop("Run a stand-in for the PAC on loopback (test stamps)."),
    "benchmark": gettext_noop("Time the product on a throwaway database of many clients."),
}
# Commands that may start a data dir where there is none: setting up, restoring into it, and
# those that read no data but need Django running (whose task queue opens a file there).
STARTS_DATA = {
    "serve",
    "migrate",
    "demo",
    "restore",
    "routeros-emulator",
    "pac-stand-in",
    "help",
    "--version",
}
HELP = {"help", "--help", "-h"}


def user_language(default: str) -> str:
    """The language the person at the terminal reads, from the locale variables."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(name, "").lower()
        if value.startswith(("es", "en")):
            return value[:2]
        if value:
            break
    return default


def missing_data_dir(command: str, root: Path) -> bool:
    """Whether `command` needs a data dir that is not there and may not make one: the
    default ./var of whatever folder the person happens to be in. A data dir named in
    WISPBILL_DATA_DIR (a server's units name theirs) is made where it was asked for."""
    if command in STARTS_DATA or os.environ.get("WISPBILL_DATA_DIR"):
        return False
    return not root.is_dir()


def no_data_dir_message(root: Path) -> str:
    return _(
        "There is no wispbill data dir at %(path)s (WISPBILL_DATA_DIR, or ./var in the current "
        "folder). Run wispbill where its data is, set WISPBILL_DATA_DIR to it, or start one "
        "there with `wispbill migrate`."
    ) % {"path": root}


def product_help(root: Path) -> str:
    """`wispbill --help`: the product's commands first, then where Django's are."""
    width = max(len(name) for name in PRODUCT_COMMANDS) + 2
    lines = [
        _("wispbill: billing, payment notices and cuts for wireless ISPs."),
        "",
        _("Usage: wispbill COMMAND [options]   (wispbill help COMMAND shows its options)"),
        "",
        _("Commands:"),
        *(f"  {name.ljust(width)}{_(text)}" for name, text in PRODUCT_COMMANDS.items()),
        "",
        _("Data dir: %(path)s") % {"path": root},
        _("Django's own commands (for administrators): wispbill help --django"),
    ]
    return "\n".join(lines) + "\n"


def database_problem(exc: Exception) -> str:
    """A database error a person can act on, in one line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return _("The database has no tables yet: run `wispbill migrate` first.")
    return _(
        "The database cannot be used (%(error)s): check DATABASE_URL and that its server runs."
    ) % {"error": text}


def fail(message: str, code: int = 2) -> None:
    sys.stderr.write(f"wispbill: {message}\n")
    sys.exit(code)
