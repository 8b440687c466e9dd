import json
from typing import Any

from django.core.management.base import BaseCommand

from wispbill.cfdi.services import cfdi_stamp_due


class Command(BaseCommand):
    help = 'Stamp every CFDI that is pending now, synchronously; prints {"stamped", "failed"}.'

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = cfdi_stamp_due()
        self.stdout.write(json.dumps({"stamped": outcome.stamped, "failed": outcome.failed}))
