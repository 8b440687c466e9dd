"""Queue tasks: verified gateway notifications are acted on after the webhook has answered,
in batches (wispbill.payments.notifications)."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from wispbill.payments.notifications import gateway_notifications_drain


@db_task()
def gateway_notifications_task() -> None:
    """Act on every ready notification at once. One batch per task: a further batch is queued
    behind whatever the batch queued (the routers' pushes go first, by their priority)."""
    drained = gateway_notifications_drain()
    if drained.more:
        gateway_notifications_task()
    if drained.retry_at is not None:
        delay = max(1.0, (drained.retry_at - timezone.now()).total_seconds())
        gateway_notifications_task.schedule(delay=delay)


@db_periodic_task(crontab(minute="*/5"))
def gateway_notifications_sweep() -> None:
    """A notification whose drain died with the worker (its claim ran out) is taken again."""
    gateway_notifications_task()
