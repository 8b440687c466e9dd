"""`wispbill restore FILE`: load a backup made by `wispbill backup` into an empty database."""

from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wispbill.ops.backup import BackupError, check_restorable, has_clients, restore


class Command(BaseCommand):
    help = (
        "Replace the database with the backup in FILE. Refuses a database that has clients "
        "unless --force. Stop wispbill (web and workers) while it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A file written by `wispbill backup`.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace the database even though it has clients: everything in it is lost.",
        )

    def handle(self, *args, file: str, force: bool, **options):
        source = Path(file)
        if not source.is_file():
            raise CommandError(_("There is no file %(path)s.") % {"path": source})
        try:
            check_restorable(source)
            if not force and has_clients():
                raise CommandError(
                    "This database already has clients; restoring would replace them. "
                    "Use --force to replace everything in it with the backup."
                )
            restore(source)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored {source.resolve()}.")
        self._warn_about_router_passwords()

    def _warn_about_router_passwords(self) -> None:
        """Router passwords are encrypted with the secret key: without the one the backup was
        made with they cannot be read, and the routers cannot be reached."""
        Router = apps.get_model("network", "Router")
        unreadable = [
            router.name
            for router in Router.objects.exclude(password_encrypted="")
            if not router.password
        ]
        if unreadable:
            names = ", ".join(unreadable[:5]) + ("…" if len(unreadable) > 5 else "")
            self.stderr.write(
                f"{len(unreadable)} router password(s) were encrypted with another secret key "
                f"({names}): set WISPBILL_SECRET_KEY (or the data dir's secret_key file) as it "
                "was where the backup was made, or enter them again."
            )
