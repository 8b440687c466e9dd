"""The `wispbill` command: Django's manage.py for this project, with the product's own help,
no data dir made where none was asked for, and known mistakes said without a traceback."""

import os
import sys

from wispbill.ops import commandline
from wispbill.ops.files import data_dir, prepare_data_dir, restrict_umask


def main() -> None:
    args = sys.argv[1:]
    command = args[0] if args else "help"
    # Before anything opens a file: the database, the task queue and the generated secret key
    # are the owner's alone, and so is whatever the processes started from here create.
    restrict_umask()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wispbill.settings")
    root = data_dir()
    help_asked = command in commandline.HELP and not args[1:]
    # A command that needs a data dir and finds none says where it looked instead of starting
    # an empty one; any other makes it ready before the settings read it (the secret key).
    missing = not help_asked and commandline.missing_data_dir(command, root)
    if not (help_asked or missing):
        prepare_data_dir()
    from django.conf import settings

    language = commandline.user_language(settings.LANGUAGE_CODE)
    commandline.use_language(language)
    if help_asked:
        sys.stdout.write(commandline.product_help(root))
        return
    if missing:
        commandline.fail(commandline.no_data_dir_message(root))
    import django
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError
    from django.utils import translation

    django.setup()
    translation.activate(language)
    if args[:2] == ["help", "--django"]:
        args = ["help"]
    try:
        execute_from_command_line([sys.argv[0], *args])
    except DatabaseError as exc:
        commandline.fail(commandline.database_problem(exc), code=1)


if __name__ == "__main__":
    main()
