"""One settings module, driven by the environment variables of docs/contract.md."""

import hashlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _
from huey.serializer import SignedSerializer

from wispbill.ops.files import STATIC_FOLDER, data_dir, stored_secret_key

# Settings read the environment and do nothing else: the data dir, its permissions and the
# generated secret key are made by the start-up step (wispbill.ops.files.start_up) that the
# `wispbill` command and wsgi.py run before Django reads this module.
BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


# Empty when neither is there: Django then refuses to sign anything, rather than a process
# that skipped start-up signing with a key of its own.
SECRET_KEY = os.environ.get("WISPBILL_SECRET_KEY") or stored_secret_key(DATA_DIR)
DEBUG = os.environ.get("WISPBILL_DEBUG") == "1"
# Loopback names unless told otherwise, so a forged Host header never ends up in the links
# the API builds. The notice port answers any host (see NoticePortMiddleware).
ALLOWED_HOSTS = _env_list("WISPBILL_ALLOWED_HOSTS") or [".localhost", "127.0.0.1", "[::1]"]
CSRF_TRUSTED_ORIGINS = _env_list("WISPBILL_CSRF_TRUSTED_ORIGINS")

# Behind a TLS proxy that sets X-Forwarded-Proto (and overwrites one sent by the browser).
HTTPS = os.environ.get("WISPBILL_HTTPS") == "1"
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # A year, as `check --deploy` asks; WISPBILL_HSTS_SECONDS=300 while trying HTTPS out.
    SECURE_HSTS_SECONDS = int(os.environ.get("WISPBILL_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

INSTALLED_APPS = [
    # Before django.contrib.auth: its createsuperuser (which checks the password rules also
    # when the password comes from the environment) replaces Django's.
    "wispbill.ops",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "huey.contrib.djhuey",
    # Before wispbill.staff: its failed-login handler runs before ours, which reads its verdict.
    "axes",
    # Lowest layer first; see docs/architecture.md.
    "wispbill.core",
    "wispbill.audit",
    "wispbill.staff",
    "wispbill.network",
    "wispbill.clients",
    "wispbill.radius",
    "wispbill.billing",
    "wispbill.payments",
    "wispbill.cfdi",
    "wispbill.messaging",
    "wispbill.automation",
    "wispbill.api",
    "wispbill.panel",
    "wispbill.portal",
]

MIDDLEWARE = [
    # First: the notice port answers clients' redirected traffic for any host, over plain HTTP,
    # so neither the host check nor the HTTPS redirect below may see those requests.
    "wispbill.portal.middleware.NoticePortMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wispbill.panel.middleware.LanguageMiddleware",
    # Before anything reads the body or the query: oversized requests and NUL characters.
    "wispbill.panel.middleware.BoundedRequestMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Scripts, styles, images and fonts from our own origin only: no inline script or style, no
# framing. data: images are the favicon placeholder and Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "wispbill.urls"
WSGI_APPLICATION = "wispbill.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wispbill.panel.context.panel",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "wispbill.sqlite3"),
            "OPTIONS": {
                # IMMEDIATE: a transaction takes the write lock when it starts, so a
                # read-then-write service cannot interleave with another writer.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000; "
                    # 32 MiB of page cache per connection (the default is 2 MB): the daily
                    # run over 300,000 clients then costs per client what it does over 10,000.
                    "PRAGMA cache_size=-32768;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    # Username, name and e-mail: whoever guesses passwords starts with those.
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "wispbill.staff.passwords.ProductNameValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "wispbill.staff.logins.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout (django-axes): 5 failures for one username within 15 minutes lock that username
# for 15 minutes. By username, not address: the staff of an ISP share one office NAT.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
# Tries during a lockout do not stretch it: it ends 15 minutes after it began.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "wispbill.staff.logins.lockout_response"
# The audit log keeps failed logins and lockouts; a table of every successful login would only grow.
AXES_DISABLE_ACCESS_LOG = True
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
SILENCED_SYSTEM_CHECKS = [
    # "Add ip_address, or attackers rotate User-Agents": not so here. Failures are added up per
    # username over every address and agent (the lockout test rotates agents), and locking an
    # address would lock out a whole office behind one NAT.
    "axes.W006",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "panel:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("WISPBILL_TIME_ZONE", "America/Mexico_City")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / STATIC_FOLDER
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # No manifest: pages render whether or not collectstatic has run (tests, runserver).
        "BACKEND": "wispbill.storage.GzipStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "wispbill.staff.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["wispbill.api.permissions.IsStaffUser"],
    "DEFAULT_PAGINATION_CLASS": "wispbill.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "wispbill.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["wispbill.api.parsers.JSONParser"],
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "wispbill API",
    "DESCRIPTION": "Billing, notices and cuts for wireless ISPs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SyncStatusEnum": ["ok", "pending", "error"],
        # The company's and the clients' regime: one SAT catalogue, one name in the schema.
        "TaxRegimeEnum": "wispbill.core.fiscal.REGIME_CHOICES",
    },
}

# With PostgreSQL and Redis the scheduled daily run is shared among the task consumers, in
# parts of about this many clients.
# The largest request body taken at all: a 10 MB file of clients or bank lines with its form.
WISPBILL_MAX_REQUEST_BYTES = 11 * 1024 * 1024
# No form takes more than two files (the CSD's certificate and key).
DATA_UPLOAD_MAX_NUMBER_FILES = 5
WISPBILL_RUN_PART_CLIENTS = int(os.environ.get("WISPBILL_RUN_PART_CLIENTS", "5000"))

_redis_url = os.environ.get("REDIS_URL")
HUEY: dict[str, Any] = {
    "name": "wispbill",
    "immediate": False,
    "utc": True,
    "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
    # Tasks are pickles: a consumer unpickles only what this installation signed, so a task
    # written into Redis (or the queue file) by anyone else is refused, never run.
    "serializer": SignedSerializer(
        secret=hashlib.sha256(b"wispbill.tasks:" + SECRET_KEY.encode()).hexdigest(),
        salt="wispbill.tasks",
    ),
}
if _redis_url:
    # Priority storage (Redis 5 or later): a router's push goes before queued payments.
    HUEY.update({"huey_class": "huey.PriorityRedisHuey", "url": _redis_url})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "tasks.sqlite3")})

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Client-page links (their signed token) never reach a log line.
    "filters": {"portal_tokens": {"()": "wispbill.ops.access_log.RedactTokens"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["portal_tokens"]},
        # runserver's request lines, as Django writes them, redacted.
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["portal_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "wispbill": {"level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# The notice page: routers send the web traffic of listed clients to this address and port.
NOTICE_HOST = os.environ.get("WISPBILL_NOTICE_HOST", "")
NOTICE_PORT = int(os.environ.get("WISPBILL_NOTICE_PORT", "8081"))

# Messages to clients: e-mail over SMTP (smtp://, smtp+tls:// or smtps://user:password@host:port)
# and the WhatsApp Cloud API. A channel without its settings is off.
WISPBILL_EMAIL_URL = os.environ.get("WISPBILL_EMAIL_URL", "")
WISPBILL_FROM_EMAIL = os.environ.get("WISPBILL_FROM_EMAIL", "")
WISPBILL_WHATSAPP_TOKEN = os.environ.get("WISPBILL_WHATSAPP_TOKEN", "")
WISPBILL_WHATSAPP_PHONE_ID = os.environ.get("WISPBILL_WHATSAPP_PHONE_ID", "")
WISPBILL_WHATSAPP_API_URL = os.environ.get(
    "WISPBILL_WHATSAPP_API_URL", "https://graph.facebook.com/v23.0"
)
# Online payments: Mercado Pago's Checkout Pro and Stripe's Checkout. A gateway without its
# access token (secret key) and webhook secret is off, and nobody is offered it.
WISPBILL_MERCADOPAGO_ACCESS_TOKEN = os.environ.get("WISPBILL_MERCADOPAGO_ACCESS_TOKEN", "")
WISPBILL_MERCADOPAGO_WEBHOOK_SECRET = os.environ.get("WISPBILL_MERCADOPAGO_WEBHOOK_SECRET", "")
WISPBILL_MERCADOPAGO_API_URL = os.environ.get(
    "WISPBILL_MERCADOPAGO_API_URL", "https://api.mercadopago.com"
)
WISPBILL_STRIPE_SECRET_KEY = os.environ.get("WISPBILL_STRIPE_SECRET_KEY", "")
WISPBILL_STRIPE_WEBHOOK_SECRET = os.environ.get("WISPBILL_STRIPE_WEBHOOK_SECRET", "")
WISPBILL_STRIPE_API_URL = os.environ.get("WISPBILL_STRIPE_API_URL", "https://api.stripe.com")
# How long a link to a client's own page works.
PORTAL_LINK_DAYS = int(os.environ.get("WISPBILL_PORTAL_LINK_DAYS", "30"))

# The PAC that stamps the CFDI (docs/contract.md, "Taxes and CFDI 4.0"); without it CFDI stays off.
WISPBILL_PAC = os.environ.get("WISPBILL_PAC", "")
WISPBILL_PAC_USER = os.environ.get("WISPBILL_PAC_USER", "")
WISPBILL_PAC_PASSWORD = os.environ.get("WISPBILL_PAC_PASSWORD", "")
WISPBILL_PAC_URL = os.environ.get("WISPBILL_PAC_URL", "")
