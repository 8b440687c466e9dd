"""Django's createsuperuser, with the password rules also for `--noinput`: Django checks them
only when the password is typed, so DJANGO_SUPERUSER_PASSWORD could set any password."""

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.management.commands import createsuperuser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


class Command(createsuperuser.Command):
    def handle(self, *args, **options):
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not options["interactive"] and password is not None:
            User = get_user_model()
            username = options.get(User.USERNAME_FIELD) or os.environ.get(
                "DJANGO_SUPERUSER_" + User.USERNAME_FIELD.upper(), ""
            )
            candidate = User(**{User.USERNAME_FIELD: username, "email": options.get("email") or ""})
            try:
                validate_password(password, candidate)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        return super().handle(*args, **options)
