"""Queue tasks for the routers: one task per router, so a slow or dead router delays only
itself."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from wispbill.clients import enforcement
from wispbill.network.drivers import DriverError
from wispbill.network.models import Enforcement, Router
from wispbill.network.sync import schedule_retry

# Before other queued work: a client who just paid waits for this push to get its service
# back, not for the rest of a wave of payments (the queue's storage orders by priority).
PUSH_PRIORITY = 10


@db_task(priority=PUSH_PRIORITY)
def reconcile_router_task(router_id: int, claimed_only: bool = True):
    router = Router.objects.filter(pk=router_id).first()
    if router is None:
        return
    try:
        enforcement.router_reconcile(router, claimed_only=claimed_only)
    except DriverError:
        delay = schedule_retry(router_id)
        if delay is not None:
            reconcile_router_task.schedule((router_id, False), delay=delay)


@db_periodic_task(crontab(minute="*/10"))
def reconcile_all_routers():
    """A router that was down, rebooted or edited by hand converges on the next pass."""
    routers = Router.objects.exclude(enforcement=Enforcement.NONE).values_list("id", flat=True)
    for router_id in routers:
        reconcile_router_task(router_id, claimed_only=False)
