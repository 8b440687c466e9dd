"""Builds a large ISP and times what must stay fast at that size; prints medians and ratios."""

import json
import statistics
import time
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client as Browser

from wispbill.automation.models import MassUpdate
from wispbill.automation.services.mass_updates import mass_update_apply, mass_update_undo
from wispbill.clients.models import BillingType, Client, ClientState, Plan
from wispbill.core.models import BillingMode
from wispbill.network.models import Enforcement, Router, Zone

PREFIX = "bench-"


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Command(BaseCommand):
    help = (
        "Build a database of N clients (default 100,000 in 1,000 zones) and time the clients "
        "list and mass updates. Run it on a throwaway data dir or database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000)
        parser.add_argument("--zones", type=int, default=1_000)
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
        parser.add_argument(
            "--only",
            action="append",
            choices=["lists", "mass", "daily", "reconcile"],
            help="Run only these parts (repeatable).",
        )
        parser.add_argument(
            "--rtt-ms",
            type=float,
            default=50,
            help="Round trip to the emulated router, in ms (default 50).",
        )
        parser.add_argument("--router-clients", type=int, default=10_000)
        parser.add_argument("--router-changes", type=int, default=2_000)

    def handle(self, *args, clients, zones, repeat, **options):
        call_command("migrate", interactive=False, verbosity=0)
        existing = Client.objects.count()
        if existing and not Router.objects.filter(name__startswith=PREFIX).exists():
            raise CommandError(
                "This database has real clients; run the benchmark on an empty "
                "one (set WISPBILL_DATA_DIR or DATABASE_URL to a scratch one)."
            )
        results: dict = {
            "vendor": connection.vendor,
            "clients": clients,
            "zones": zones,
            "repeat": repeat,
        }
        if existing != clients:
            self._wipe()
            results["build_seconds"] = self._build(clients, zones)
        admin = self._admin()
        parts = set(options["only"] or ["lists", "mass", "daily", "reconcile"])
        if "lists" in parts:
            results.update(self._time_lists(admin, repeat))
        if "mass" in parts:
            results.update(self._time_mass_updates(admin, repeat))
        if "daily" in parts:
            results.update(self._time_daily_run(max(1, min(repeat, 3))))
        if "reconcile" in parts:
            results.update(
                self._time_reconcile(
                    clients=options["router_clients"],
                    changes=options["router_changes"],
                    rtt=options["rtt_ms"] / 1000,
                    repeat=max(1, min(repeat, 3)),
                )
            )
        if options["json"]:
            self.stdout.write(json.dumps(results, indent=2))
        else:
            for key, value in results.items():
                shown = f"{value:.4f}" if isinstance(value, float) else value
                self.stdout.write(f"{key:48} {shown}")

    def _wipe(self) -> None:
        MassUpdate.objects.all().delete()
        Client.objects.all().delete()
        Zone.objects.all().delete()
        Router.objects.filter(name__startswith=PREFIX).delete()
        Plan.objects.filter(name__startswith=PREFIX).delete()

    def _build(self, count: int, zone_count: int) -> float:
        start = time.perf_counter()
        with transaction.atomic():
            plan = Plan.objects.create(
                name=f"{PREFIX}plan",
                price=Decimal("399.00"),
                download_kbps=10_000,
                upload_kbps=2_000,
            )
            routers = Router.objects.bulk_create(
                Router(name=f"{PREFIX}router-{n}", host=f"192.0.2.{n % 250 + 1}")
                for n in range(max(1, zone_count // 10))
            )
            zones = Zone.objects.bulk_create(
                Zone(
                    router=routers[n % len(routers)],
                    name=f"Zona {n}",
                    billing_mode=BillingMode.PREPAID,
                    pay_day=n % 28 + 1,
                    invoice_lead_days=5,
                    notice_offset_days=0,
                    grace_days=5,
                )
                for n in range(zone_count)
            )
            batch = []
            for n in range(count):
                own = n % 10 == 0
                batch.append(
                    Client(
                        name=f"Cliente {n:06d}",
                        ip=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
                        zone=zones[n % len(zones)],
                        plan=plan,
                        start_date=date(2025, 1, 1),
                        billing_type=BillingType.OWN if own else BillingType.ZONE,
                        **(
                            {
                                "billing_mode": BillingMode.POSTPAID,
                                "pay_day": 10,
                                "invoice_lead_days": 5,
                                "notice_offset_days": 1,
                                "grace_days": 3,
                            }
                            if own
                            else {}
                        ),
                    )
                )
                if len(batch) == 5_000:
                    Client.objects.bulk_create(batch)
                    batch = []
            Client.objects.bulk_create(batch)
        return time.perf_counter() - start

    def _admin(self):
        User = get_user_model()
        admin, _created = User.objects.get_or_create(
            username=f"{PREFIX}admin", defaults={"is_staff": True, "is_superuser": True}
        )
        return admin

    def _time_lists(self, admin, repeat: int) -> dict:
        browser = Browser()
        browser.force_login(admin)
        zone = Zone.objects.order_by("id").first()

        def get(url, **params):
            response = browser.get(url, params)
            assert response.status_code == 200, response.status_code

        from wispbill.staff.services import api_key_create

        _key, plain = api_key_create(user=admin)
        api = Browser(HTTP_AUTHORIZATION=f"Api-Key {plain}")
        return {
            "clients_page_first_s": _median(lambda: get("/clients/"), repeat),
            "clients_page_last_s": _median(
                lambda: get("/clients/", page=Client.objects.count() // 50), repeat
            ),
            "clients_page_search_s": _median(lambda: get("/clients/", q="Cliente 0999"), repeat),
            "clients_page_zone_filter_s": _median(lambda: get("/clients/", zone=zone.pk), repeat),
            "api_clients_page_s": _median(
                lambda: api.get("/api/v1/clients/", {"limit": 50}), repeat
            ),
        }

    def _time_reconcile(self, *, clients: int, changes: int, rtt: float, repeat: int) -> dict:
        """A router of N clients behind an emulated round trip: the first full sync, then
        syncs of `changes` changed clients, against one change per round trip."""
        import librouteros

        from wispbill.clients.enforcement import router_reconcile
        from wispbill.network.emulator import RouterOSEmulator

        emulator = RouterOSEmulator(username="bench", password="bench", rtt=rtt).start()
        try:
            Router.objects.filter(name=f"{PREFIX}emulated").delete()
            router = Router(
                name=f"{PREFIX}emulated",
                host="127.0.0.1",
                api_port=emulator.port,
                username="bench",
                enforcement=Enforcement.MIKROTIK,
            )
            router.password = "bench"
            router.save()
            zone = Zone.objects.create(
                router=router,
                name="Zona emulada",
                billing_mode=BillingMode.PREPAID,
                pay_day=1,
                invoice_lead_days=5,
                notice_offset_days=0,
                grace_days=3,
            )
            plan = Plan.objects.filter(name__startswith=PREFIX).first()
            rows = [
                Client(
                    name=f"Emulado {n}",
                    ip=f"172.31.{n // 250}.{n % 250 + 1}",
                    zone=zone,
                    plan=plan,
                    state=ClientState.SUSPENDED if n % 3 == 0 else ClientState.ACTIVE,
                    notice_active=n % 3 == 1,
                )
                for n in range(clients)
            ]
            Client.objects.bulk_create(rows, batch_size=5_000)
            ids = list(Client.objects.filter(zone=zone).order_by("id").values_list("id", flat=True))
            start = time.perf_counter()
            first = router_reconcile(router)
            first_s = time.perf_counter() - start
            flip = ids[:changes]
            timings = []
            for _ in range(repeat):
                for chunk in range(0, len(flip), 500):
                    part = flip[chunk : chunk + 500]
                    Client.objects.filter(pk__in=part, state=ClientState.SUSPENDED).update(
                        state="x"
                    )
                    Client.objects.filter(pk__in=part, state=ClientState.ACTIVE).update(
                        state=ClientState.SUSPENDED
                    )
                    Client.objects.filter(pk__in=part, state="x").update(state=ClientState.ACTIVE)
                start = time.perf_counter()
                result = router_reconcile(router)
                timings.append(time.perf_counter() - start)
                assert not result["failed"]
            applied = result["added"] + result["removed"]
            # The floor without pipelining: one change per round trip, as a plain client does.
            api = librouteros.connect("127.0.0.1", "bench", "bench", port=emulator.port)
            path = api.path("ip", "firewall", "address-list")
            sample = 30
            start = time.perf_counter()
            for n in range(sample):
                path.add(list="bench-serial", address=f"198.18.0.{n + 1}", comment="bench")
            serial_per_change = (time.perf_counter() - start) / sample
            api.close()
            sync_s = statistics.median(timings)
            return {
                "router_clients": clients,
                "router_rtt_ms": rtt * 1000,
                "router_first_sync_entries": first["added"],
                "router_first_sync_s": first_s,
                "router_first_sync_entries_per_s": first["added"] / first_s,
                "router_sync_changes": applied,
                "router_sync_s": sync_s,
                "router_sync_entries_per_s": applied / sync_s,
                "router_one_change_per_round_trip_s": serial_per_change * applied,
                "router_one_per_round_trip_over_pipelined_ratio": serial_per_change
                * applied
                / sync_s,
            }
        finally:
            emulator.stop()
            Client.objects.filter(zone__router__name=f"{PREFIX}emulated").delete()
            Zone.objects.filter(router__name=f"{PREFIX}emulated").delete()
            Router.objects.filter(name=f"{PREFIX}emulated").delete()

    def _forget_runs(self) -> None:
        from wispbill.audit.models import AuditEvent
        from wispbill.automation.models import TaskState
        from wispbill.billing.models import Invoice, InvoiceLine

        InvoiceLine.objects.all().delete()
        Invoice.objects.all().delete()
        AuditEvent.objects.filter(action="invoice.created").delete()
        TaskState.objects.all().delete()

    def _time_daily_run(self, repeat: int) -> dict:
        """The whole daily run over every client, then the same day again (idempotent), and
        the floor: inserting the same number of bare invoice rows in bulk."""
        from wispbill.automation.services.runs import periodic_tasks_run
        from wispbill.billing.models import Invoice

        day = date(2026, 8, 25)
        first, again, floor = [], [], []
        created = 0
        for _ in range(repeat):
            self._forget_runs()
            start = time.perf_counter()
            created = periodic_tasks_run(actor=None, day=day).invoices_created
            first.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert periodic_tasks_run(actor=None, day=day).invoices_created == 0
            again.append(time.perf_counter() - start)
            self._forget_runs()
            ids = list(Client.objects.values_list("id", flat=True))
            start = time.perf_counter()
            with transaction.atomic():
                Invoice.objects.bulk_create(
                    (
                        Invoice(
                            client_id=client_id,
                            period_start=day,
                            period_end=day,
                            issued_on=day,
                            pay_date=day,
                            notice_date=day,
                            due_date=day,
                            total=Decimal("399.00"),
                            automatic=True,
                        )
                        for client_id in ids
                    ),
                    batch_size=2_000,
                )
            floor.append(time.perf_counter() - start)
        self._forget_runs()
        first_s, again_s, floor_s = (statistics.median(t) for t in (first, again, floor))
        return {
            "daily_run_invoices_created": created,
            "daily_run_first_s": first_s,
            "daily_run_again_same_day_s": again_s,
            "bulk_insert_same_invoice_rows_s": floor_s,
            "daily_run_over_bulk_insert_ratio": first_s / floor_s,
            "daily_run_again_over_bulk_insert_ratio": again_s / floor_s,
        }

    def _time_mass_updates(self, admin, repeat: int) -> dict:
        own = Client.objects.filter(billing_type=BillingType.OWN).count()

        timings = {"apply": [], "undo": [], "baseline": []}
        for _ in range(repeat):
            start = time.perf_counter()
            mass_update = mass_update_apply(actor=admin, all_zones=True, values={"cuts": False})
            assert mass_update.clients_changed == own
            timings["apply"].append(time.perf_counter() - start)
            start = time.perf_counter()
            mass_update_undo(actor=admin, mass_update=mass_update)
            timings["undo"].append(time.perf_counter() - start)
            # The floor: one UPDATE of the same rows, with no bookkeeping at all.
            start = time.perf_counter()
            with transaction.atomic():
                Client.objects.filter(billing_type=BillingType.OWN).update(task_cuts=False)
                Zone.objects.update(task_cuts=False)
                Client.objects.filter(billing_type=BillingType.OWN).update(task_cuts=True)
                Zone.objects.update(task_cuts=True)
            timings["baseline"].append((time.perf_counter() - start) / 2)
        apply_s = statistics.median(timings["apply"])
        undo_s = statistics.median(timings["undo"])
        baseline_s = statistics.median(timings["baseline"])
        return {
            "own_billing_clients": own,
            "mass_update_all_zones_s": apply_s,
            "mass_update_undo_s": undo_s,
            "bare_update_same_rows_s": baseline_s,
            "mass_update_over_bare_update_ratio": apply_s / baseline_s,
        }
