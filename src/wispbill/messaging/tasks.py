"""Queue tasks: the outbox is sent after each commit that queues messages, and every minute
(retries that came due, messages that waited for the end of quiet hours)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from wispbill.messaging import sending


@db_task()
def send_messages_task():
    sending.messages_send_due()


@db_periodic_task(crontab(minute="*"))
def send_due_messages():
    sending.messages_send_due()
