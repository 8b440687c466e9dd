import signal

from django.core.management.base import BaseCommand

from wispbill.devtools.pac import PASSWORD, USER, pac_stand_in


class Command(BaseCommand):
    help = (
        "Run a stand-in for the PAC on loopback (for the demo, and to try CFDI without a PAC "
        "contract) until Ctrl-C: it speaks SW Sapien's paths, checks each seal and stamps "
        "with a test certificate of its own. SAT does not accept its CFDIs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=18729)
        parser.add_argument("--latency-ms", type=float, default=100, help="Its answer time.")

    def handle(self, *args, port, latency_ms, **options):
        with pac_stand_in(latency=latency_ms / 1000, port=port) as url:
            self.stdout.write(f"PAC stand-in at {url} (user {USER}, password {PASSWORD})")
            self.stdout.flush()
            stopped = False

            def stop(*_args):
                nonlocal stopped
                stopped = True

            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, stop)
            while not stopped:
                signal.pause()
