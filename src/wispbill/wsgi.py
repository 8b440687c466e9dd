"""The web application, for gunicorn (`wispbill serve` or `gunicorn wispbill.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

from wispbill.ops.files import start_up

# A web server started by hand creates the database and queue files for its owner only too,
# and finds the data dir and the secret key made, as the `wispbill` command would.
start_up()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wispbill.settings")
application = get_wsgi_application()
