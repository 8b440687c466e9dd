import logging
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import autodiscover_modules
from huey.consumer import Consumer, ThreadEnvironment
from huey.consumer_options import ConsumerConfig

# How often a waiting consumer thread looks at its stop flag.
POLL = 0.05


class _StopFlag(threading.Event):
    """huey's stop flag, waited on in short sleeps. A timed wait on a threading primitive
    sleeps until an absolute instant of the monotonic clock, which libfaketime (the tests'
    processes live at a faked instant) moves away from the kernel's: the consumer then
    never woke up to see a SIGTERM, nor the scheduler its next minute. `time.sleep` is
    relative and wakes on time under any clock."""

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is None:
            return super().wait()
        end = time.monotonic() + timeout
        while not self.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, POLL))
        return True


class _Environment(ThreadEnvironment):
    def get_stop_flag(self) -> threading.Event:
        return _StopFlag()


class _Consumer(Consumer):
    def get_environment(self, worker_type: str) -> ThreadEnvironment:
        return _Environment(self._graceful_sig, self._interrupt_sig)


class Command(BaseCommand):
    help = "Run a task consumer (scale-out); with --no-periodic it leaves the scheduler to another."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-periodic", action="store_true", help="Do not run the scheduler in this consumer."
        )
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, no_periodic, workers, **options):
        """What huey's `run_huey` does, with threads whose waits stay right under any clock."""
        from huey.contrib.djhuey import HUEY

        autodiscover_modules("tasks")
        config = ConsumerConfig(
            **{
                **settings.HUEY["consumer"],
                "workers": workers,
                "worker_type": "thread",
                "periodic": not no_periodic,
            }
        )
        config.validate()
        logger = logging.getLogger("huey")
        if not logger.handlers:
            config.setup_logger(logger)
        _Consumer(HUEY, **config.values).run()
