import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wispbill.billing.imports import proposal_next_invoices
from wispbill.clients.services.file_import import day_from
from wispbill.clients.services.router_import import router_import_confirm, router_import_preview
from wispbill.network.drivers import DriverError
from wispbill.network.models import Router, Zone


class Command(BaseCommand):
    help = (
        "Import the clients a router already has (PPPoE secrets, simple queues, static DHCP "
        "leases, the cut and notice lists) into a zone of it. Without --yes it only shows the "
        "proposal and writes nothing, to the database or to the router."
    )

    def add_arguments(self, parser):
        parser.add_argument("--router", type=int, required=True)
        parser.add_argument("--zone", type=int, required=True, help="A zone of that router.")
        parser.add_argument(
            "--paid-until",
            help="The day the clients paid for until before wispbill (DD/MM/YYYY or "
            "YYYY-MM-DD): no cycle ending by then is invoiced automatically.",
        )
        parser.add_argument("--yes", action="store_true", help="Create and take over.")
        parser.add_argument("--json", action="store_true", help="Print the answer as JSON.")

    def handle(self, *args, router, zone, yes, **options):
        found = Router.objects.filter(pk=router).first()
        if found is None:
            raise CommandError(_("There is no router %(id)s.") % {"id": router})
        target = Zone.objects.filter(pk=zone).first()
        if target is None:
            raise CommandError(_("There is no zone %(id)s.") % {"id": zone})
        call = router_import_confirm if yes else router_import_preview
        try:
            paid_until = day_from(options.get("paid_until") or "")
            answer = call(actor=None, router=found, zone=target, paid_until=paid_until)
        except DriverError as exc:
            raise CommandError(f"{found.name}: {exc}") from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if not yes:
            answer = proposal_next_invoices(answer, zone=target, paid_until=paid_until).as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(answer, ensure_ascii=False))
        elif yes:
            self._done(found, answer)
        else:
            self._show(found, answer)

    def _show(self, router, proposal: dict) -> None:
        self.stdout.write(f"Plans ({len(proposal['plans'])}):")
        for plan in proposal["plans"]:
            reused = f"reuses plan {plan['existing']}" if plan["existing"] else "new, price 0.00"
            self.stdout.write(
                f"  {plan['name']}: {plan['download_kbps']} kbps down / "
                f"{plan['upload_kbps']} kbps up, {plan['clients']} clients ({reused})"
            )
        self.stdout.write(f"Clients ({len(proposal['clients'])}):")
        for client in proposal["clients"]:
            user = f" {client['pppoe_username']}" if client["pppoe_username"] else ""
            notice = " notice" if client["notice"] else ""
            invoice = client["next_invoice"]
            billed = (
                f" · next invoice {invoice['period_start']}–{invoice['period_end']}, "
                f"{invoice['amount']}, on {invoice['date']}"
                if invoice
                else ""
            )
            self.stdout.write(
                f"  {client['ip']:15} {client['access']}{user} · {client['name']} · "
                f"{client['plan']} · {client['state']}{notice}{billed}"
            )
        self.stdout.write(f"Conflicts ({len(proposal['conflicts'])}), left as they are:")
        for conflict in proposal["conflicts"]:
            self.stdout.write(f"  {conflict['ip'] or '-':15} {conflict['message']}")
        self.stdout.write(
            f"{proposal['already_managed']} objects on {router.name} are already wispbill's. "
            "Nothing was written. Run again with --yes to import."
        )

    def _done(self, router, result: dict) -> None:
        for failure in result["adoption_failed"]:
            self.stderr.write(f"not taken over: {failure}")
        self.stdout.write(
            f"{router.name}: {result['plans_created']} plans and {result['clients_created']} "
            f"clients created, {result['objects_adopted']} router objects taken over, "
            f"{len(result['conflicts'])} conflicts left as they are."
        )
