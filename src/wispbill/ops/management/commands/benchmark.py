"""Builds a large ISP and times what must stay fast at that size; prints medians and ratios
measured in the same run."""

import json

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from wispbill.clients.models import Client
from wispbill.network.models import Router
from wispbill.ops.benchmarks import (
    common,
    daily,
    fanout,
    lists,
    mass,
    payments,
    provisioning,
    routers,
)

PARTS = ["lists", "mass", "daily", "fanout", "growth", "reconcile", "provisioning", "statement"]
# Parts that bring their own data: they need no large ISP built first.
SELF_CONTAINED = {"growth", "provisioning"}


def _sizes(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part]
    except ValueError:
        raise CommandError("--growth takes sizes such as 10000,100000,300000") from None


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
            "--provisioning-clients",
            type=int,
            default=5_000,
            help="Clients of the router provisioned from scratch and imported (default 5,000).",
        )

    def handle(self, *args, clients, zones, repeat, **options):
        call_command("migrate", interactive=False, verbosity=0)
        existing = Client.objects.count()
        if existing and not Router.objects.filter(name__startswith=common.PREFIX).exists():
            raise CommandError(
                "This database has real clients; run the benchmark on an empty "
                "one (set WISPBILL_DATA_DIR or DATABASE_URL to a scratch one)."
            )
        parts = options["only"] or [p for p in PARTS if p != "growth"]
        results: dict = {"vendor": connection.vendor, "clients": clients, "zones": zones}
        if set(parts) - SELF_CONTAINED and existing != clients:
            common.wipe()
            results["build_seconds"] = common.build(clients, zones)
        admin = common.bench_admin()
        few = max(1, min(repeat, 3))
        if "lists" in parts:
            results.update(lists.time_lists(admin, repeat))
        if "mass" in parts:
            results.update(mass.time_mass_updates(admin, repeat))
        if "daily" in parts:
            results.update(daily.time_daily_run(few))
        if "fanout" in parts:
            results.update(fanout.time_fan_out(few))
        if "reconcile" in parts:
            results.update(
                routers.time_reconcile(
                    clients=options["router_clients"],
                    changes=options["router_changes"],
                    rtt=options["rtt_ms"] / 1000,
                    repeat=few,
                )
            )
        if "provisioning" in parts:
            size, rtt = options["provisioning_clients"], options["rtt_ms"] / 1000
            results.update(provisioning.time_provisioning(clients=size, rtt=rtt, repeat=few))
            results.update(provisioning.time_import(clients=size, rtt=rtt, repeat=few))
        if "statement" in parts:
            results.update(
                payments.time_statement(admin, lines=options["statement_lines"], repeat=few)
            )
        if "growth" in parts:
            results.update(daily.time_growth(_sizes(options["growth"]), zones, few))
        if options["json"]:
            self.stdout.write(json.dumps(results, indent=2))
            return
        for key, value in results.items():
            shown = f"{value:.4f}" if isinstance(value, float) else value
            self.stdout.write(f"{key:52} {shown}")
