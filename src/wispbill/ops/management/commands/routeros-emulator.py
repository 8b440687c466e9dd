import signal
import threading

from django.core.management.base import BaseCommand

from wispbill.network.emulator import RouterOSEmulator

# A network built by hand before wispbill, for trying the import: IPs the demo's clients do
# not use (172.20.x.x), PPPoE and static clients, a router's own objects to leave alone.
HAND_MADE = [
    ("pppoe", "rocio.mendez", "Rocío Méndez", "172.20.0.2", "2M/10M"),
    ("pppoe", "jorge.ruiz", "Jorge Ruiz", "172.20.0.3", "2M/10M"),
    ("pppoe", "papeleria.luz", "Papelería La Luz", "172.20.0.4", "4M/20M"),
    ("pppoe", "tienda.don.beto", "", "172.20.0.5", "1M/6M"),
    ("static", "", "Casa Aguilar", "172.20.1.2", "1M/5M"),
    ("static", "", "Escuela Primaria", "172.20.1.3", "10M/50M"),
]


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
            _seed(emulator)
        emulator.start(port)
        self.stdout.write(f"RouterOS API emulator on 127.0.0.1:{emulator.port} ({username})")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_args: stop.set())
        stop.wait()
        emulator.stop()


def _seed(emulator: RouterOSEmulator) -> None:
    emulator.add_secret("enlace-torre-norte", "backhaul", service="l2tp", comment="enlace")
    emulator.add_queue("total", "172.16.0.0/12", "500M/500M", comment="ancho de banda total")
    for access, username, name, ip, speed in HAND_MADE:
        if access == "pppoe":
            emulator.add_secret(username, "clave-" + ip.rsplit(".", 1)[1], remote_address=ip,
                                comment=name)  # fmt: skip
        else:
            emulator.add_lease(ip, f"AA:BB:CC:00:01:{ip.rsplit('.', 1)[1]:0>2}", comment=name)
        emulator.add_queue(name or username, f"{ip}/32", speed)
    emulator.add_by_hand("Moroso", "172.20.0.3", "debe")
    emulator.add_by_hand("Aviso", "172.20.1.2")
