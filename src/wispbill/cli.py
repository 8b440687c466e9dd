"""The `wispbill` command: Django's manage.py for this project."""

import os
import sys

from wispbill.ops.files import start_up


def main() -> None:
    # Before anything opens a file: the database, the task queue and the generated secret key
    # are the owner's alone, and so is whatever the processes started from here create. The
    # data dir and the secret key are made here, since the settings only read them.
    start_up()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wispbill.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
