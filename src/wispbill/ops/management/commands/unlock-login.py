"""`wispbill unlock-login USERNAME`: let a locked-out username log in again at once."""

from django.core.management.base import BaseCommand

from wispbill.staff.logins import login_unlock


class Command(BaseCommand):
    help = (
        "Lift the lockout that failed logins put on USERNAME, before its 15 minutes are over "
        "(an administrator can also do it from the staff page)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        if login_unlock(actor=None, username=username):
            self.stdout.write(f"{username} can log in again.")
        else:
            self.stdout.write(f"{username} was not locked out.")
