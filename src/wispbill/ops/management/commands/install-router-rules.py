import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wispbill.network.baseline import baseline_install, baseline_plan
from wispbill.network.drivers import DriverError
from wispbill.network.models import Enforcement, Router


class Command(BaseCommand):
    help = (
        "Install, tagged and idempotently, the filter and NAT rules that make the cut and "
        "notice lists work on a router. Shows what it will change first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--router", type=int, required=True)
        parser.add_argument(
            "--notice-host",
            help="Address of the notice page, as the router "
            "reaches it (default: WISPBILL_NOTICE_HOST, else the company setting).",
        )
        parser.add_argument("--notice-port", type=int)
        parser.add_argument("--yes", action="store_true", help="Apply without asking.")
        parser.add_argument("--dry-run", action="store_true", help="Only show the changes.")

    def handle(self, *args, **options):
        router = Router.objects.filter(pk=options["router"]).first()
        if router is None:
            raise CommandError(_("There is no router %(id)s.") % {"id": options["router"]})
        if router.enforcement == Enforcement.NONE:
            raise CommandError(f"{router.name} has enforcement 'none': nothing to install.")
        try:
            plan = baseline_plan(
                router, notice_host=options["notice_host"], notice_port=options["notice_port"]
            )
        except (DriverError, ValidationError) as exc:
            raise CommandError(str(exc.messages[0] if hasattr(exc, "messages") else exc)) from exc
        for rule in plan.add:
            fields = " ".join(f"{k}={v}" for k, v in rule.fields)
            self.stdout.write(f"+ /ip/firewall/{rule.table} {fields} comment={rule.tag}")
        for table, rule_id, tag in plan.remove:
            self.stdout.write(f"- /ip/firewall/{table} {rule_id} comment={tag}")
        for tag in plan.keep:
            self.stdout.write(f"= {tag}")
        if plan.empty:
            self.stdout.write(f"{router.name} already has every rule.")
            return
        if options["dry_run"]:
            return
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise CommandError("Add --yes to apply these changes without a terminal.")
            if input("Apply these changes? [y/N] ").strip().lower() not in (
                "y",
                "yes",
                "s",
                "si",
                "sí",
            ):
                self.stdout.write("Nothing changed.")
                return
        try:
            baseline_install(router, plan)
        except DriverError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{router.name}: {len(plan.add)} rules added, {len(plan.remove)} removed."
        )
