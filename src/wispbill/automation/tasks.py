"""Queue tasks: one-liners over the services, so cron, the queue and a person at the shell
run the same code."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from wispbill.automation.services import runs


@db_periodic_task(crontab(minute="*/5"))
@lock_task("periodic-daily-run")
def scheduler_tick() -> None:
    runs.daily_run()


@db_task()
def manual_run_task(run_id: int) -> None:
    runs.manual_run_execute(run_id)


@db_task(retries=2, retry_delay=30)
def daily_part_task(part_id: int) -> None:
    runs.daily_part_run(part_id)
