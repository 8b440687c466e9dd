"""`wispbill backup FILE`: a consistent copy of the whole database, while the product runs."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from wispbill.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the whole database to FILE (readable by its owner only), "
        "while wispbill keeps running: SQLite's online backup, or pg_dump on PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write the backup; an existing file is replaced.")

    def handle(self, *args, file: str, **options):
        target = Path(file)
        try:
            backup(target)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backup written to {target.resolve()}")
