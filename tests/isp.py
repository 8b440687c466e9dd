"""A small ISP with a past, like the demo's: routers (one without enforcement, one on the
RouterOS emulator), zones, plans, clients in every state and billing type, forty days of
periodic tasks with invoices, notices, cuts and payments, a promise, a mass update and its
undo, and a manual run. Built through the services, as an operator would have."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from tests.factories import UserFactory, grant
from wispbill.automation.models import ManualRun
from wispbill.automation.services import mass_updates, runs
from wispbill.billing import debt
from wispbill.billing.models import Invoice
from wispbill.billing.services.payments import payment_register
from wispbill.clients.models import Client, ClientState
from wispbill.clients.services.clients import client_create, client_update
from wispbill.clients.services.plans import plan_create
from wispbill.clients.services.zones import zone_create, zone_update
from wispbill.core.clock import today
from wispbill.core.models import CompanySettings
from wispbill.core.schedule import BillingSchedule
from wispbill.network.services import router_create
from wispbill.staff.permissions import DEFAULT_PERMISSIONS

DAYS = 40


@dataclass
class Isp:
    admin: object
    staff: object
    managed: object  # the router on the emulator
    unmanaged: object
    zones: list
    clients: dict  # a name per kind of client
    mass_update: object
    run: ManualRun


def build_isp(*, emulator_port: int) -> Isp:
    admin = UserFactory(username="jefa", is_superuser=True)
    # A staff member as one is made today: clients and payments.
    staff = grant(UserFactory(username="mostrador"), *DEFAULT_PERMISSIONS)
    company = CompanySettings.load()
    company.name = "Red Norte"
    company.payment_instructions = "Deposite en BANCO 123, cuenta 0001."
    company.notice_host = "10.0.0.5"
    company.save()
    basic = plan_create(
        actor=admin, name="10 Mb", price=Decimal("399.00"), download_kbps=10_000, upload_kbps=2_000
    )
    plus = plan_create(
        actor=admin, name="20 Mb", price=Decimal("499.00"), download_kbps=20_000, upload_kbps=4_000
    )
    managed = router_create(
        actor=admin,
        name="Torre Norte",
        host="127.0.0.1",
        api_port=emulator_port,
        username="wispbill",
        password="s3cret",
        enforcement="mikrotik",
        allow_local_host=True,
    )
    unmanaged = router_create(actor=admin, name="Cerro Azul", host="10.30.0.1")
    zones = [
        zone_create(
            actor=admin,
            router=router,
            name=f"Zona día {pay_day}",
            schedule=BillingSchedule("prepaid", pay_day, 7, 2, 4),
        )
        for router in (managed, unmanaged)
        for pay_day in (1, 15)
    ]
    start = today() - timedelta(days=120)
    names = [
        ("active", "Ana Pérez", zones[0], basic),
        ("late", "Beto Ruiz", zones[0], plus),
        ("cut", "Carla Gómez", zones[1], basic),
        ("promise", "Dario López", zones[1], plus),
        ("unmanaged", "Elena Cruz", zones[2], basic),
        ("cancelled", "Fermín Díaz", zones[3], basic),
        ("free", "Gloria Soto", zones[3], basic),
        ("own", "Hugo Vega", zones[2], plus),
    ]
    clients = {}
    for n, (kind, name, zone, plan) in enumerate(names):
        own = kind == "own"
        clients[kind] = client_create(
            actor=admin,
            name=name,
            ip=f"172.16.0.{n + 10}",
            email=f"{kind}@example.com",
            zone=zone,
            plan=plan,
            start_date=start,
            billing_type="own" if own else "zone",
            billing={
                "mode": "postpaid",
                "pay_day": 10,
                "invoice_lead_days": 5,
                "notice_offset_days": 1,
                "grace_days": 3,
            }
            if own
            else None,
            periodic_tasks={"invoices": True, "notices": True, "cuts": False} if own else None,
        )
    client_update(actor=admin, client=clients["cancelled"], data={"state": ClientState.CANCELLED})
    client_update(actor=admin, client=clients["free"], data={"state": ClientState.FREE})
    payers = {clients[k].pk for k in ("active", "unmanaged", "own")}
    for offset in range(DAYS, -1, -1):
        day = today() - timedelta(days=offset)
        runs.periodic_tasks_run(actor=None, day=day, force=True)
        for invoice in Invoice.objects.noticeable_on(day).filter(client_id__in=payers):
            payment_register(
                actor=admin if offset % 2 else staff,
                client=invoice.client,
                amount=invoice.total - invoice.paid_amount,
                method="transfer" if offset % 3 else "cash",
                paid_on=day,
                reference=f"REF-{invoice.pk}",
            )
    cut = Client.objects.get(pk=clients["cut"].pk)
    if cut.state != ClientState.SUSPENDED:
        debt.client_cut(actor=admin, client=cut)
    promised = Client.objects.get(pk=clients["promise"].pk)
    debt.client_promise(actor=admin, client=promised, until=today() + timedelta(days=3))
    Client.objects.filter(pk=clients["late"].pk).update(state=ClientState.THROTTLED)
    clients["throttled"] = clients.pop("late")
    mass_update = mass_updates.mass_update_apply(
        actor=admin, all_zones=True, values={"cuts": False}
    )
    zone_update(actor=admin, zone=zones[0], switches={"cuts": True})
    mass_updates.mass_update_undo(actor=admin, mass_update=mass_update)
    run = runs.manual_run_start(actor=admin, zone=zones[0])
    runs.manual_run_execute(run.pk)
    return Isp(
        admin=admin,
        staff=staff,
        managed=managed,
        unmanaged=unmanaged,
        zones=zones,
        clients={kind: Client.objects.get(pk=c.pk) for kind, c in clients.items()},
        mass_update=mass_update,
        run=ManualRun.objects.get(pk=run.pk),
    )
