import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wispbill.clients.enforcement import router_reconcile
from wispbill.network.drivers import DriverError
from wispbill.network.models import Enforcement, Router


class Command(BaseCommand):
    help = (
        "Push to the routers now, synchronously, what they must hold: the cut, notice and "
        "reduced speed lists, and with provisioning the PPPoE secrets and simple queues."
    )

    def add_arguments(self, parser):
        parser.add_argument("--router", type=int, help="Only this router.")
        parser.add_argument("--json", action="store_true", help="One JSON line per router.")

    def handle(self, *args, router, **options):
        routers = Router.objects.exclude(enforcement=Enforcement.NONE).order_by("id")
        if router is not None:
            routers = Router.objects.filter(pk=router)
            if not routers.exists():
                raise CommandError(_("There is no router %(id)s.") % {"id": router})
        failures = 0
        for item in routers:
            try:
                result = router_reconcile(item)
            except DriverError as exc:
                failures += 1
                result = {"error": str(exc)}
            result = {"router": item.pk, "name": item.name, **result}
            if options["json"]:
                self.stdout.write(json.dumps(result))
            elif "error" in result:
                self.stderr.write(f"{item.name}: {result['error']}")
            else:
                self.stdout.write(
                    f"{item.name}: {result['added']} added, {result['changed']} changed, "
                    f"{result['removed']} removed, {result['sessions_dropped']} sessions ended, "
                    f"{len(result['failed'])} failed"
                )
        if failures:
            raise CommandError(f"{failures} router(s) could not be reconciled.")
