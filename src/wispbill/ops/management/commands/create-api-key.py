from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wispbill.staff.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a staff user and print it (alone, on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to recognise the key by.")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No user named «%(name)s».") % {"name": username})
        if not user.is_active:
            raise CommandError(f"The user {username!r} is inactive.")
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        _key, plain = api_key_create(user=user, name=name)
        self.stderr.write(
            "The key is shown once; only its hash is kept. It carries exactly "
            f"the permissions of {username}."
        )
        self.stdout.write(plain)
