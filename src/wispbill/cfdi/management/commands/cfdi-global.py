import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wispbill.cfdi.globals import cfdi_global_create
from wispbill.cfdi.services import cfdi_stamp_due
from wispbill.core.clock import date_option, today


class Command(BaseCommand):
    help = (
        "Build and stamp, as of --date (default today), the global CFDI of the last period "
        "that ended before it (the payments of clients without an RFC), once; prints one "
        'JSON line {"created", "id", "period_start", "period_end", "stamped", "failed"}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        day = date_option(options["date"]) or today()
        document = cfdi_global_create(day=day)
        outcome = cfdi_stamp_due()
        self.stdout.write(
            json.dumps(
                {
                    "created": document is not None,
                    "id": document.pk if document else None,
                    "period_start": str(document.period_start) if document else None,
                    "period_end": str(document.period_end) if document else None,
                    "stamped": outcome.stamped,
                    "failed": outcome.failed,
                }
            )
        )
