import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from wispbill.automation.engine import run_periodic_tasks
from wispbill.core.models import CompanySettings
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
        today = timezone.localdate()
        day = today
        if options["date"]:
            try:
                day = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date must be YYYY-MM-DD, not {options['date']!r}.") from None
        if day > today and not (options["dry_run"] or options["force"]):
            raise CommandError(
                f"{day} is in the future: add --dry-run to simulate it, or "
                "--force to really run it."
            )
        zone = None
        if options["zone"] is not None:
            zone = Zone.objects.filter(pk=options["zone"]).first()
            if zone is None:
                raise CommandError(f"There is no zone {options['zone']}.")
        summary = run_periodic_tasks(day=day, zone=zone, dry_run=options["dry_run"])
        if day == today and zone is None and not options["dry_run"]:
            CompanySettings.objects.filter(pk=1).update(last_daily_run=day)
        data = summary.as_dict()
        if not options["json"]:
            self.stdout.write(
                f"{data['date']}{' (dry run)' if summary.dry_run else ''}: "
                f"{summary.invoices_created} invoices, {summary.notices_shown} notices, "
                f"{summary.clients_cut} cuts, {summary.clients_reactivated} reactivations, "
                f"{len(summary.errors)} errors" + (" — a no-cut day" if summary.no_cut_day else "")
            )
            for error in summary.errors:
                self.stderr.write(f"  {error['scope']} {error['task']}: {error['error']}")
        else:
            self.stdout.write(json.dumps(data))
