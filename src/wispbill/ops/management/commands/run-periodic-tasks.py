import json
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.core.clock import date_option
from wispbill.network.models import Zone


class Command(BaseCommand):
    help = (
        "Run the invoice, notice and cut tasks now, as of a day (default: today in the "
        "ISP's time zone), as the system."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD; a future day needs --dry-run or --force")
        parser.add_argument(
            "--zone", type=int, help="Only this zone (and its own-billing clients)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Compute and report, change nothing."
        )
        parser.add_argument("--force", action="store_true", help="Allow a future date.")
        parser.add_argument(
            "--json", action="store_true", help="End with the summary as one JSON line."
        )

    def handle(self, *args, **options):
        day = date_option(options["date"])
        zone = None
        if options["zone"] is not None:
            zone = Zone.objects.filter(pk=options["zone"]).first()
            if zone is None:
                raise CommandError(_("There is no zone %(id)s.") % {"id": options["zone"]})
        started = time.perf_counter()
        try:
            summary = periodic_tasks_run(
                actor=None, day=day, zone=zone, dry_run=options["dry_run"], force=options["force"]
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        data = {**summary.as_dict(), "seconds": round(time.perf_counter() - started, 3)}
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        self.stdout.write(
            f"{data['date']}{' (dry run)' if summary.dry_run else ''}: "
            f"{summary.invoices_created} invoices, {summary.notices_shown} notices, "
            f"{summary.clients_cut} cuts, {summary.clients_reactivated} reactivations, "
            f"{len(summary.errors)} errors" + (" — a no-cut day" if summary.no_cut_day else "")
        )
        for error in summary.errors:
            self.stderr.write(f"  {error.scope} {error.task}: {error.error}")
