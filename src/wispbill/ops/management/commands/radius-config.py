from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from wispbill.radius.credentials import credentials_refresh
from wispbill.radius.freeradius import RadiusError, write_config


class Command(BaseCommand):
    help = (
        "Write FreeRADIUS's configuration for wispbill into DIR (radiusd.conf and "
        "clients.conf, for the owner only), for a system service to run with "
        "`freeradius -f -d DIR`. Write it again after a RADIUS router changes."
    )

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path)
        parser.add_argument("--auth-port", type=int, default=1812)
        parser.add_argument("--acct-port", type=int, default=1813)
        parser.add_argument("--address", default="127.0.0.1", help="Where to listen.")

    def handle(self, *args, dir, auth_port, acct_port, address, **options):
        for port in (auth_port, acct_port):
            if not 1 <= port <= 65535:
                raise CommandError(f"{port} is not a port (1 to 65535).")
        try:
            credentials_refresh()
            nas, skipped = write_config(
                dir, address=address, auth_port=auth_port, acct_port=acct_port
            )
        except RadiusError as exc:
            raise CommandError(str(exc)) from exc
        for why in skipped:
            self.stderr.write(f"Left out: {why}")
        self.stdout.write(f"Wrote {dir}: {len(nas)} router(s).")
