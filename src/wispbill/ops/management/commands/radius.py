from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wispbill.radius.freeradius import RadiusError, serve


class Command(BaseCommand):
    help = (
        "Run FreeRADIUS in the foreground, as this user, answering the PPPoE logins of the "
        "routers whose logins go to RADIUS, from wispbill's database. Its configuration is "
        "generated in the data dir (radius/), and made again when those routers change."
    )

    def add_arguments(self, parser):
        parser.add_argument("--auth-port", type=int, default=1812)
        parser.add_argument("--acct-port", type=int, default=1813)
        parser.add_argument("--address", default="127.0.0.1", help="Where to listen.")
        parser.add_argument(
            "--reject-delay",
            type=int,
            default=1,
            help="Seconds FreeRADIUS waits before a reject, to slow password guessing (0 to 5).",
        )

    def handle(self, *args, auth_port, acct_port, address, reject_delay, **options):
        for port in (auth_port, acct_port):
            if not 1 <= port <= 65535:
                raise CommandError(f"{port} is not a port (1 to 65535).")
        if not 0 <= reject_delay <= 5:
            raise CommandError(f"--reject-delay {reject_delay}: from 0 to 5 seconds.")
        try:
            code = serve(
                settings.DATA_DIR / "radius",
                address=address,
                auth_port=auth_port,
                acct_port=acct_port,
                report=lambda line: self.stdout.write(line),
                reject_delay=reject_delay,
            )
        except RadiusError as exc:
            raise CommandError(str(exc)) from exc
        if code:
            raise CommandError(f"FreeRADIUS stopped with code {code}.")
