"""The benchmark as a whole: which parts there are, and running the chosen ones in order."""

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from wispbill.clients.models import Client
from wispbill.devtools.benchmarks import (
    cfdi,
    common,
    daily,
    fanout,
    lists,
    mass,
    pages,
    payments,
    provisioning,
    radius,
    routers,
    webhooks,
)
from wispbill.network.models import Router

PARTS = [
    "lists",
    "mass",
    "daily",
    "fanout",
    "growth",
    "reconcile",
    "provisioning",
    "statement",
    "webhooks",
    "notifications",
    "radius",
    "pages",
    "cfdi",
]
# Parts that bring their own data: they need no large ISP built first.
SELF_CONTAINED = {"growth", "provisioning", "pages", "cfdi"}


def sizes(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part]
    except ValueError:
        raise CommandError("--growth takes sizes such as 10000,100000,300000") from None


def run(*, parts: list[str], clients: int, zones: int, repeat: int, options: dict) -> dict:
    """Run the chosen parts on a scratch database and return their figures by name."""
    call_command("migrate", interactive=False, verbosity=0)
    existing = Client.objects.count()
    if existing and not Router.objects.filter(name__startswith=common.PREFIX).exists():
        raise CommandError(
            "This database has real clients; run the benchmark on an empty "
            "one (set WISPBILL_DATA_DIR or DATABASE_URL to a scratch one)."
        )
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
        results.update(payments.time_statement(admin, lines=options["statement_lines"], repeat=few))
    if "cfdi" in parts:
        results.update(
            cfdi.time_cfdi(
                admin,
                docs=options["cfdi_docs"],
                global_payments=options["cfdi_global_payments"],
                repeat=few,
            )
        )
        if options["cfdi_stamp_docs"]:
            # Once: ten thousand stamps take a minute or two, not a timing to repeat.
            results.update(
                cfdi.time_stamping(
                    admin,
                    docs=options["cfdi_stamp_docs"],
                    latency=options["pac_latency_ms"] / 1000,
                    workers=options["cfdi_workers"],
                )
            )
    if "webhooks" in parts:
        results.update(
            webhooks.time_webhook_to_router(
                payments=options["webhook_payments"], rtt=options["rtt_ms"] / 1000, repeat=few
            )
        )
    if "notifications" in parts:
        results.update(
            webhooks.time_notifications(notifications=options["notifications"], repeat=few)
        )
    if "radius" in parts:
        results.update(
            radius.time_radius(
                rate=options["radius_rate"],
                seconds=options["radius_seconds"],
                interim_rate=options["radius_interim_rate"],
                interim_seconds=options["radius_interim_seconds"],
                coa_clients=options["radius_coa_clients"],
                coa_delay_ms=options["radius_coa_delay_ms"],
            )
        )
    if "growth" in parts:
        results.update(daily.time_growth(sizes(options["growth"]), zones, few))
    if "pages" in parts:
        # Last: it replaces the large ISP with the demo, and takes the demo away after.
        results.update(pages.time_pages(clients=options["pages_clients"]))
    return results
