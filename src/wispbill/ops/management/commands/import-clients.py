from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wispbill.clients.services.file_import import (
    MAX_BYTES,
    clients_file_import,
    clients_file_preview,
)
from wispbill.network.models import Zone


class Command(BaseCommand):
    help = (
        "Import clients from a CSV or XLSX file (columns: name, ip, zone, plan, email, phone, "
        "address, access, pppoe_username, pppoe_password, billing_type, start_date). Without "
        "--yes it only checks every row; with it, it imports all rows or none."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--zone", type=int, help="The zone of rows that name none.")
        parser.add_argument("--yes", action="store_true", help="Import (all rows or none).")

    def handle(self, *args, file, zone, yes, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("There is no file %(path)s.") % {"path": file})
        target = None
        if zone is not None:
            target = Zone.objects.filter(pk=zone).first()
            if target is None:
                raise CommandError(_("There is no zone %(id)s.") % {"id": zone})
        with path.open("rb") as source:
            data = source.read(MAX_BYTES + 1)  # one byte more than allowed is enough to refuse
        preview = clients_file_preview(actor=None, data=data, filename=path.name, zone=target)
        for message in preview.errors:
            self.stderr.write(message)
        for row in preview.bad_rows:
            for field, messages in row.errors.items():
                where = "" if field == "__all__" else f" {field}:"
                for message in messages:
                    self.stderr.write(f"row {row.line}:{where} {message}")
        if not preview.ok:
            raise CommandError(
                f"{len(preview.bad_rows)} of {len(preview.rows)} rows have errors; "
                "nothing was imported."
            )
        if not yes:
            self.stdout.write(
                f"{len(preview.rows)} rows are ready to import. Nothing was written; run again "
                "with --yes to import them."
            )
            return
        try:
            clients = clients_file_import(actor=None, data=data, filename=path.name, zone=target)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"{len(clients)} clients imported.")
