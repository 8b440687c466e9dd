import signal
import threading

from django.core.management.base import BaseCommand

from wispbill.devtools.emulator import RouterOSEmulator, seed_hand_made


class Command(BaseCommand):
    help = (
        "Run the RouterOS API emulator on loopback (for the demo, and to try wispbill without a "
        "router) until Ctrl-C. It keeps its menus in memory: restarted, it is a router "
        "after a reboot that lost its configuration, and wispbill's next sync fills it again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=18728)
        parser.add_argument("--username", default="wispbill")
        parser.add_argument("--password", default="demo")
        parser.add_argument("--rtt-ms", type=float, default=0, help="Simulated round trip.")
        parser.add_argument(
            "--seed-demo",
            action="store_true",
            help="Start with a few clients made by hand (to try the import) and objects of "
            "the router's own.",
        )

    def handle(self, *args, port, username, password, rtt_ms, seed_demo, **options):
        emulator = RouterOSEmulator(username=username, password=password, rtt=rtt_ms / 1000)
        if seed_demo:
            seed_hand_made(emulator)
        emulator.start(port)
        self.stdout.write(f"RouterOS API emulator on 127.0.0.1:{emulator.port} ({username})")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_args: stop.set())
        stop.wait()
        emulator.stop()
