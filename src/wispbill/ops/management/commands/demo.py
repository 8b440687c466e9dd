"""A demo ISP to try the product on: routers, zones, plans, a few hundred clients, two users.
One router is the RouterOS emulator on loopback (`wispbill routeros-emulator`, which
scripts/run-demo.sh starts), so syncs, PPPoE secrets, queues and imports can be tried."""

import ipaddress
import random
import string
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from wispbill.automation.services.runs import periodic_tasks_run
from wispbill.billing.models import Invoice
from wispbill.billing.services.payments import payment_register
from wispbill.cfdi.csd import csd_install
from wispbill.clients.models import BillingType, Client, ClientState
from wispbill.clients.services.clients import client_create
from wispbill.clients.services.plans import plan_create
from wispbill.clients.services.zones import zone_create, zone_update
from wispbill.core import clock
from wispbill.core.fiscal import fiscal_data_errors, rfc_check_digit
from wispbill.core.models import BillingMode, CfdiMode, CompanySettings, CutAction
from wispbill.core.schedule import BillingSchedule
from wispbill.core.switches import Switches, Task
from wispbill.devtools.csd import COMPANY_RFC, make_csd
from wispbill.messaging.models import Message
from wispbill.network.models import Enforcement, PppoeCut
from wispbill.network.services import router_create
from wispbill.staff.services import staff_create

FIRST = [
    "María",
    "José",
    "Juan",
    "Guadalupe",
    "Luis",
    "Ana",
    "Carlos",
    "Rosa",
    "Miguel",
    "Verónica",
    "Jorge",
    "Patricia",
    "Pedro",
    "Leticia",
    "Francisco",
    "Sofía",
    "Raúl",
    "Elena",
    "Fernando",
    "Carmen",
    "Alejandro",
    "Lucía",
    "Ricardo",
    "Isabel",
]
LAST = [
    "Hernández",
    "García",
    "Martínez",
    "López",
    "González",
    "Pérez",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Cruz",
    "Flores",
    "Gómez",
    "Morales",
    "Vázquez",
    "Reyes",
    "Jiménez",
    "Torres",
    "Díaz",
    "Gutiérrez",
    "Ruiz",
    "Mendoza",
    "Aguilar",
]
STREETS = [
    "Av. Juárez",
    "Calle Hidalgo",
    "Calle Morelos",
    "Av. Reforma",
    "Calle Allende",
    "Camino Real",
    "Calle Zaragoza",
    "Av. Independencia",
]
ROUTERS = ["Torre Centro", "Torre Norte", "Cerro Azul (emulado)"]
EMULATED = ROUTERS[-1]
PLANS = [
    ("Básico 5 Mbps", "299.00", 5_000, 1_000),
    ("Hogar 10 Mbps", "399.00", 10_000, 2_000),
    ("Plus 20 Mbps", "499.00", 20_000, 4_000),
    ("Negocio 50 Mbps", "899.00", 50_000, 10_000),
]


# Postal codes of city centres, in SAT's catalog (c_CodigoPostal).
FISCAL_POSTAL_CODES = ["06000", "03100", "44100", "64000", "72000", "76000", "58000", "20000"]


class Command(BaseCommand):
    help = "Load a demo ISP (refuses a database that already has clients)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=300)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--emulator-port",
            type=int,
            default=18728,
            help="Where `wispbill routeros-emulator` listens (the demo's MikroTik).",
        )

    def handle(self, *args, clients, seed, emulator_port, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if Client.objects.exists():
            raise CommandError(
                "This database already has clients; the demo only loads into an empty one."
            )
        rng = random.Random(seed)
        with transaction.atomic():
            admin = self._load(rng, clients, emulator_port)
        self._simulate(rng, admin, days=40)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded: {len(ROUTERS)} routers ({EMULATED} on the RouterOS emulator at "
                f"127.0.0.1:{emulator_port}), {clients} clients. "
                "Log in as admin/admin (administrator) or staff/staff (may manage clients and "
                "register payments)."
            )
        )

    def _load(self, rng: random.Random, count: int, emulator_port: int):
        User = get_user_model()
        admin = User.objects.filter(username="admin").first()
        if admin is None:
            admin = User.objects.create_superuser("admin", "admin@example.com", "admin")
        if not User.objects.filter(username="staff").exists():
            staff_create(
                actor=admin,
                username="staff",
                password="staff-demo",
                full_name="Soporte Demo",
            )
            staff = User.objects.get(username="staff")
            staff.set_password("staff")
            staff.save()
        plans = [
            plan_create(actor=admin, name=n, price=Decimal(p), download_kbps=d, upload_kbps=u)
            for n, p, d, u in PLANS
        ]
        zones = []
        for n, name in enumerate(ROUTERS):
            emulated = name == EMULATED
            router = router_create(
                actor=admin,
                name=name,
                host="127.0.0.1" if emulated else f"10.{n + 1}0.0.1",
                api_port=emulator_port if emulated else 8728,
                username="wispbill",
                password="demo",
                enforcement=Enforcement.MIKROTIK if emulated else Enforcement.NONE,
                provisioning=emulated,
                pppoe_cut=PppoeCut.DISABLE_SECRET if emulated else PppoeCut.ADDRESS_LIST,
                # The emulator listens on this machine: the administrator allows it.
                allow_local_host=emulated,
            )
            for pay_day, lead, notice, grace in ((1, 7, 2, 4), (15, 5, 0, 5)):
                # On the emulated router, the day-15 zone reduces the speed of late clients
                # instead of cutting them.
                slow = emulated and pay_day == 15
                zones.append(
                    zone_create(
                        actor=admin,
                        router=router,
                        name=f"Zona día {pay_day}",
                        schedule=BillingSchedule(
                            BillingMode.PREPAID,
                            pay_day,
                            lead,
                            notice,
                            grace,
                            cut_action=CutAction.THROTTLE if slow else CutAction.SUSPEND,
                            throttle_kbps=512,
                        ),
                    )
                )
        # One zone with automatic cuts off, as an operator would during a holiday season.
        zone_update(actor=admin, zone=zones[1], switches={Task.CUTS: False})
        addresses = self._addresses()
        today = clock.today()
        for n in range(count):
            own = rng.random() < 0.1
            state = rng.choices(
                [ClientState.ACTIVE, ClientState.FREE, ClientState.CANCELLED], weights=[93, 3, 4]
            )[0]
            zone = rng.choice(zones)
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
            # Most clients of the emulated router connect by PPPoE, the rest by static IP.
            pppoe = zone.router.name == EMULATED and rng.random() < 0.6
            client_create(
                actor=admin,
                name=name,
                access="pppoe" if pppoe else "static",
                pppoe_username=_username(name, n) if pppoe else "",
                pppoe_password=f"demo-{rng.randrange(10**5, 10**6)}" if pppoe else "",
                email=f"cliente{n + 1}@example.com",
                phone=f"55{rng.randrange(10**7, 10**8)}",
                address=f"{rng.choice(STREETS)} {rng.randrange(1, 900)}",
                ip=next(addresses),
                zone=zone,
                plan=rng.choice(plans),
                start_date=today - timedelta(days=rng.randrange(30, 900)),
                state=state,
                billing_type=BillingType.OWN if own else BillingType.ZONE,
                billing=BillingSchedule(
                    BillingMode.POSTPAID, rng.choice([5, 10, 20]), 5, 1, 3
                ).as_dict()
                if own
                else None,
                periodic_tasks=Switches(cuts=rng.random() < 0.7).as_dict() if own else None,
            )
        return admin

    def _simulate(self, rng: random.Random, admin, days: int) -> None:
        """Live the last weeks through the real engine, with most clients paying on time, so
        the panel opens on invoices, payments, notices and cuts."""
        company = CompanySettings.load()
        company.name = "WISP Demo"
        company.payment_instructions = (
            "Transfiere por SPEI con tu referencia de pago, o paga en nuestra oficina "
            "(Av. Juárez 100) de lunes a sábado, 9:00 a 18:00."
        )
        company.bank_name = "BANCO DEMO"
        company.bank_account = "032180000118359719"  # a CLABE whose check digit holds
        # The demo's router is the emulator on this machine: its firewall rules send late
        # clients to this machine's notice port, so the rules can be installed and looked at.
        company.notice_host = "127.0.0.1"
        company.save()
        self._fiscal(rng, admin)
        today = clock.today()
        late_payers = set()
        for offset in range(days, -1, -1):
            day = today - timedelta(days=offset)
            last_message = Message.objects.aggregate(last=Max("id"))["last"] or 0
            periodic_tasks_run(actor=None, day=day)
            for invoice in Invoice.objects.noticeable_on(day):
                client_id = invoice.client_id
                if client_id in late_payers or rng.random() < 0.12:
                    late_payers.add(client_id)
                    continue
                payment_register(
                    actor=admin,
                    client=invoice.client,
                    amount=invoice.total,
                    method=rng.choice(["cash", "transfer", "deposit"]),
                    paid_on=day,
                    # The demo pays the invoice's total (never far above the debt) and has
                    # nobody to ask.
                    confirm_large=True,
                )
            # The outbox tells the weeks the demo lived, not the minute it was loaded.
            moment = timezone.make_aware(datetime.combine(day, time(company.run_hour)))
            Message.objects.filter(id__gt=last_message).update(
                created_at=moment, next_attempt_at=moment
            )
        CompanySettings.objects.filter(pk=1).update(last_daily_run=today)

    @staticmethod
    def _fiscal(rng: random.Random, admin) -> None:
        """Stamping on payment with a CSD made here (the RFC of SAT's test company), and a
        sixth of the clients with their own RFC: their payments get a CFDI each, everyone
        else's go in the global CFDI. scripts/run-demo.sh starts a stand-in for the PAC
        (`wispbill pac-stand-in`); without one, the documents wait for a PAC."""
        CompanySettings.objects.filter(pk=1).update(
            rfc=COMPANY_RFC,
            legal_name="ESCUELA KEMPER URGATE",
            tax_regime="601",
            postal_code="42501",
            cfdi=CfdiMode.ON_PAYMENT,
        )
        csd = make_csd()
        csd_install(
            actor=admin, certificate=csd.certificate, private_key=csd.key, password=csd.password
        )
        for client in Client.objects.filter(state=ClientState.ACTIVE).order_by("id"):
            if rng.random() >= 1 / 6:
                continue
            first, last, second = _plain(client.name).upper().split()[:3]
            born = date(1960, 1, 1) + timedelta(days=rng.randrange(40 * 365))
            body = f"{last[:2]}{second[0]}{first[0]}{born:%y%m%d}"
            body += "".join(rng.choice(string.ascii_uppercase + string.digits) for _n in range(2))
            values = {
                "rfc": body + rfc_check_digit(body + "0"),
                "fiscal_name": _plain(client.name).upper(),
                "fiscal_regime": rng.choice(["612", "626"]),
                "fiscal_postal_code": rng.choice(FISCAL_POSTAL_CODES),
                "cfdi_use": "G03",
            }
            errors = fiscal_data_errors(
                rfc=values["rfc"],
                name=values["fiscal_name"],
                regime=values["fiscal_regime"],
                postal_code=values["fiscal_postal_code"],
                use=values["cfdi_use"],
            )
            if errors:
                raise CommandError(f"demo fiscal data of {client}: {errors}")
            Client.objects.filter(pk=client.pk).update(**values)

    @staticmethod
    def _addresses():  # 172.20.x.x is left to the emulator's hand-made clients
        for network in ("172.16.0.0/16", "172.17.0.0/16"):
            for host in ipaddress.ip_network(network).hosts():
                if host.packed[-1] not in (0, 1, 255):
                    yield str(host)


def _plain(name: str) -> str:
    """The name without accents (as in a PPPoE username, or SAT's records of an RFC)."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


def _username(name: str, n: int) -> str:
    """A PPPoE username as an operator makes them: first name and surname, no accents."""
    first, last, *_rest = _plain(name).lower().split()
    return f"{first}.{last}{n}"
