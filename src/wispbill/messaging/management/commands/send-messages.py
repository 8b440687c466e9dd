import json

from django.core.management.base import BaseCommand

from wispbill.messaging.sending import messages_send_due


class Command(BaseCommand):
    help = (
        "Send every message of the outbox that is due now, synchronously (none during quiet "
        'hours); prints {"sent": N, "failed": N}. A failed one stays queued for its retry.'
    )

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(messages_send_due()))
