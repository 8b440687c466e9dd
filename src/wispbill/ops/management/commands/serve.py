"""Everything on one machine: migrations, static files, the web server and the task consumer."""

import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run wispbill on this machine: web server and task consumer, until Ctrl-C/SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--address",
            "--host",
            dest="address",
            default="127.0.0.1",
            help="The panel's address (default 127.0.0.1: this machine only; 0.0.0.0 for every "
            "interface). --host is its old name.",
        )
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument(
            "--notice-port",
            type=int,
            default=None,
            help="Port of the notice page (default WISPBILL_NOTICE_PORT, 8081).",
        )
        parser.add_argument(
            "--notice-address",
            default="0.0.0.0",
            help="The notice page's address, the one the routers reach (default 0.0.0.0: every "
            "interface).",
        )

    def handle(self, *args, port, address, web_workers, notice_port, notice_address, **options):
        notice_port = notice_port or settings.NOTICE_PORT
        if notice_port == port:
            # The notice port is told apart from the panel's by its number.
            raise CommandError("The notice page needs a port of its own (--notice-port).")
        binds = ["--bind", _bind(address, port)]
        if _free(notice_address, notice_port):
            binds += ["--bind", _bind(notice_address, notice_port)]
        else:
            self.stderr.write(
                f"Port {notice_port} is in use: the notice page is not served on "
                "its own port (choose another with --notice-port)."
            )
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        env = {
            **os.environ,
            "WISPBILL_NOTICE_PORT": str(notice_port),
            "WISPBILL_DATA_DIR": str(settings.DATA_DIR),
            "DJANGO_SETTINGS_MODULE": "wispbill.settings",
        }
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "wispbill.wsgi:application",
                    *binds,
                    "--workers",
                    str(web_workers),
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                    # Client-page links are written without their token.
                    "--logger-class",
                    "wispbill.ops.access_log.RedactingLogger",
                    "--graceful-timeout",
                    "10",
                    # Longer than a person's pause between clicks: with gunicorn's default 2 s,
                    # a browser reusing its connection after 2 s could meet the server closing
                    # it, and get a reset instead of the page.
                    "--keep-alive",
                    "5",
                    # Its own files (sockets, worker heartbeats) are the owner's alone too.
                    "--umask",
                    "0o077",
                ],
                env=env,
                preexec_fn=_die_with_parent,
            ),
            subprocess.Popen(
                [sys.executable, "-m", "wispbill.cli", "worker"],
                env=env,
                preexec_fn=_die_with_parent,
            ),
        ]
        self.stdout.write(
            f"wispbill is serving on http://{_bind(address, port)}/ and the notice page on "
            f"http://{_bind(notice_address, notice_port)}/ (Ctrl-C to stop)"
        )
        # A request for any other host gets a 400: say which names work before someone wonders.
        self.stdout.write(
            f"The panel answers to {', '.join(settings.ALLOWED_HOSTS)} "
            "(set WISPBILL_ALLOWED_HOSTS to reach it by another name)."
        )
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        code = 0
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    self.stderr.write(
                        f"A part of wispbill stopped (exit {child.returncode}); stopping the rest."
                    )
                    code = child.returncode or 1
                    stopping = True
            time.sleep(0.5)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        self.stdout.write("wispbill stopped.")
        if code:
            sys.exit(code)


def _bind(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:
    """On Linux, a child gets SIGTERM if serve itself is killed, so no part outlives it."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
