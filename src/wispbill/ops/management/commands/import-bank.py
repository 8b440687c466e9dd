from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from wispbill.payments.models import StatementFormat, UnmatchedReason
from wispbill.payments.services import bank_statement_import, bank_statement_preview
from wispbill.payments.statements import size_check


class Command(BaseCommand):
    help = (
        "Import a bank statement: each line carrying a client's payment reference becomes its "
        "payment (method transfer); the others are kept to assign by hand. Without --yes it "
        "only shows what it would do; a line imported before is never applied again."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--format", default=StatementFormat.GENERIC, choices=StatementFormat.values
        )
        parser.add_argument("--yes", action="store_true", help="Import (all lines or none).")

    def handle(self, *args, file, format, yes, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"There is no file {file}.")
        call = bank_statement_import if yes else bank_statement_preview
        try:
            size_check(path.stat().st_size)
            result = call(actor=None, data=path.read_bytes(), fmt=format, filename=path.name)
        except ValidationError as exc:
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError("The statement was refused; nothing was imported.") from exc
        reasons = dict(UnmatchedReason.choices)
        for line, client in result.matched:
            self.stdout.write(f"line {line.line}: {line.amount:.2f} -> client {client}")
        for line, reason in result.unmatched:
            self.stdout.write(
                f"line {line.line}: {line.amount:.2f} not matched ({reasons.get(reason, reason)})"
            )
        summary = (
            f"{result.lines} lines: {len(result.matched)} matched, {len(result.unmatched)} "
            f"unmatched, {len(result.duplicates)} imported before."
        )
        if yes:
            self.stdout.write(
                f"{summary} {len(result.payments)} payments registered; "
                f"{len(result.unmatched)} lines kept to assign."
            )
        else:
            self.stdout.write(f"{summary} Nothing was written; run again with --yes to import.")
