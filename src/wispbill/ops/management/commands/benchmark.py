"""Builds a large ISP and times what must stay fast at that size; prints medians and ratios
measured in the same run."""

import json

from django.core.management.base import BaseCommand

from wispbill.devtools.benchmarks.suite import PARTS, run


class Command(BaseCommand):
    help = (
        "Build a database of N clients (default 100,000 in 1,000 zones) and time the clients "
        "list, mass updates, the daily run and a router sync. Run it on a throwaway data dir "
        "or database: it replaces every client."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000)
        parser.add_argument("--zones", type=int, default=1_000)
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
        parser.add_argument(
            "--only", action="append", choices=PARTS, help="Run only these parts (repeatable)."
        )
        parser.add_argument(
            "--growth",
            default="10000,100000,300000",
            help="Sizes for the growth part (comma-separated client counts).",
        )
        parser.add_argument(
            "--rtt-ms",
            type=float,
            default=50,
            help="Round trip to the emulated router, in ms (default 50).",
        )
        parser.add_argument("--router-clients", type=int, default=10_000)
        parser.add_argument("--router-changes", type=int, default=2_000)
        parser.add_argument(
            "--statement-lines",
            type=int,
            default=10_000,
            help="Lines of the bank statement previewed and confirmed (default 10,000).",
        )
        parser.add_argument(
            "--webhook-payments",
            type=int,
            default=200,
            help="Cut clients paying online at once in the webhooks part (default 200).",
        )
        parser.add_argument(
            "--notifications",
            type=int,
            default=10_000,
            help="Gateway notifications (a fifth of them repeats) in the notifications part "
            "(default 10,000).",
        )
        parser.add_argument(
            "--pages-clients",
            type=int,
            default=300,
            help="Clients of the demo whose pages the pages part times (default 300, the demo's).",
        )
        parser.add_argument(
            "--provisioning-clients",
            type=int,
            default=5_000,
            help="Clients of the router provisioned from scratch and imported (default 5,000).",
        )

        parser.add_argument(
            "--cfdi-docs",
            type=int,
            default=400,
            help="Invoice CFDIs built and signed per timed round (default 400).",
        )
        parser.add_argument(
            "--cfdi-global-payments",
            type=int,
            default=20_000,
            help="Payments in the global CFDI built and signed (default 20,000).",
        )
        parser.add_argument(
            "--cfdi-stamp-docs",
            type=int,
            default=10_000,
            help="CFDIs stamped against the PAC stand-in (default 10,000).",
        )
        parser.add_argument(
            "--pac-latency-ms",
            type=int,
            default=100,
            help="How long the PAC stand-in takes to answer a stamp (default 100 ms).",
        )
        parser.add_argument(
            "--cfdi-workers",
            type=int,
            default=16,
            help="CFDIs in flight at once while stamping (default 16).",
        )
        radius = parser.add_argument_group(
            "radius", "The login storm, accounting and CoAs against `wispbill radius`."
        )
        radius.add_argument(
            "--radius-rate", type=int, default=1_000, help="Access-Requests a second."
        )
        radius.add_argument(
            "--radius-seconds", type=int, default=30, help="How long the login storm lasts."
        )
        radius.add_argument(
            "--radius-interim-rate", type=int, default=2_000, help="Interim-Updates a second."
        )
        radius.add_argument("--radius-interim-seconds", type=int, default=10)
        radius.add_argument(
            "--radius-coa-clients",
            type=int,
            default=5_000,
            help="Clients of the plan whose speed changes (default 5,000).",
        )
        radius.add_argument(
            "--radius-coa-delay-ms",
            type=float,
            default=50,
            help="How long the router's CoA port takes to answer each request (default 50).",
        )

    def handle(self, *args, clients, zones, repeat, **options):
        parts = options["only"] or [p for p in PARTS if p != "growth"]
        results = run(parts=parts, clients=clients, zones=zones, repeat=repeat, options=options)
        if options["json"]:
            self.stdout.write(json.dumps(results, indent=2))
            return
        for key, value in results.items():
            shown = f"{value:.4f}" if isinstance(value, float) else value
            self.stdout.write(f"{key:52} {shown}")
