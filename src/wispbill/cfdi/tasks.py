"""Queue tasks: pending CFDI are stamped after each commit that makes one, and every minute
(retries that came due)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from wispbill.cfdi import services


@db_task()
def stamp_cfdi_task():
    services.cfdi_stamp_due()


@db_periodic_task(crontab(minute="*"))
def stamp_due_cfdi():
    services.cfdi_stamp_due()
