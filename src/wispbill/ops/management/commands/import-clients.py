from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wispbill.billing.imports import file_preview_next_invoices
from wispbill.clients.services.file_import import (
    MAX_BYTES,
    clients_file_import,
    clients_file_preview,
    day_from,
)
from wispbill.core.formatting import money, short_date
from wispbill.network.models import Zone


class Command(BaseCommand):
    help = (
        "Import clients from a CSV or XLSX file (columns: name, ip, zone, plan, email, phone, "
        "address, access, pppoe_username, pppoe_password, billing_type, start_date, paid_until). "
        "Without "
        "--yes it only checks every row; with it, it imports all rows or none."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--zone", type=int, help="The zone of rows that name none.")
        parser.add_argument(
            "--paid-until",
            help="The day the rows without a paid_until paid for until (DD/MM/YYYY or "
            "YYYY-MM-DD): no cycle ending by then is invoiced automatically.",
        )
        parser.add_argument("--yes", action="store_true", help="Import (all rows or none).")

    def handle(self, *args, file, zone, yes, paid_until=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("There is no file %(path)s.") % {"path": file})
        target = None
        if zone is not None:
            target = Zone.objects.filter(pk=zone).first()
            if target is None:
                raise CommandError(_("There is no zone %(id)s.") % {"id": zone})
        try:
            paid_until = day_from(paid_until or "")
        except ValidationError as exc:
            raise CommandError("--paid-until: " + " ".join(exc.messages)) from exc
        with path.open("rb") as source:
            data = source.read(MAX_BYTES + 1)  # one byte more than allowed is enough to refuse
        given = {"zone": target, "paid_until": paid_until}
        preview = clients_file_preview(actor=None, data=data, filename=path.name, **given)
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
        for row in file_preview_next_invoices(preview).rows:
            self.stdout.write(f"row {row.line}: {row.values.get('name', '')} · {_next(row)}")
        if not yes:
            self.stdout.write(
                f"{len(preview.rows)} rows are ready to import. Nothing was written; run again "
                "with --yes to import them."
            )
            return
        try:
            clients = clients_file_import(actor=None, data=data, filename=path.name, **given)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"{len(clients)} clients imported.")


def _next(row) -> str:
    invoice = row.next_invoice
    if invoice is None:
        return "-"
    return _("Next invoice: %(start)s–%(end)s, %(amount)s, on %(day)s") % {
        "start": short_date(invoice.cycle.period_start),
        "end": short_date(invoice.cycle.period_end),
        "amount": money(invoice.amount),
        "day": short_date(invoice.on),
    }
