from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a task consumer (scale-out); with --no-periodic it leaves the scheduler to another."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-periodic", action="store_true", help="Do not run the scheduler in this consumer."
        )
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, no_periodic, workers, **options):
        argv = ["--workers", str(workers), "--worker-type", "thread"]
        if no_periodic:
            argv.append("--no-periodic")
        call_command("run_huey", *argv)
