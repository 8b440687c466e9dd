"""Queue tasks: pending CFDI are stamped after each commit that makes one, and every minute
(retries that came due); the global CFDI is made the day after each period ends."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from wispbill.cfdi import services
from wispbill.cfdi.globals import cfdi_global_create
from wispbill.core.clock import today


@db_task()
def stamp_cfdi_task() -> None:
    services.cfdi_stamp_due()


@db_periodic_task(crontab(minute="*"))
def stamp_due_cfdi() -> None:
    services.cfdi_stamp_due()


@db_periodic_task(crontab(hour="*/6", minute="7"))
def make_global_cfdi() -> None:
    """The day after each period ends (tried every six hours: made once), the global CFDI."""
    if cfdi_global_create(day=today()) is not None:
        services.cfdi_stamp_due()
