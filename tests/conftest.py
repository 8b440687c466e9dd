import os

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory, grant
from wispbill.devtools.emulator import RouterOSEmulator
from wispbill.staff.permissions import CODENAMES, RUN_PERIODIC_TASKS, TOGGLE_PERIODIC_TASKS
from wispbill.staff.services import api_key_create

pytest_plugins = ["tests.clock", "tests.messaging_fixtures"]

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
CHROMIUM = os.environ.get("WISPBILL_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def pytest_collection_modifyitems(config, items):
    """The suite runs twice, on SQLite and on PostgreSQL, side by side; what is marked
    `embedded` (and every browser test: pages do not change with the database) runs in the
    SQLite pass only, what is marked `second_pass` in the PostgreSQL pass only."""
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.embedded)
        if ON_POSTGRES and item.get_closest_marker("embedded"):
            item.add_marker(pytest.mark.skip(reason="runs once, in the SQLite pass"))
        if not ON_POSTGRES and item.get_closest_marker("second_pass"):
            item.add_marker(pytest.mark.skip(reason="runs once, in the PostgreSQL pass"))


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, once for the whole run and every folder: Playwright's sync API
    runs one event loop per thread, so a second one started beside it fails."""
    from playwright.sync_api import sync_playwright

    # Its loop runs in this thread; the ORM calls the tests make around it stay synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Passwords made in the test process are hashed with a fast hasher (Django's advice for
    tests): PBKDF2's million rounds cost half a second per user, and the suite makes
    hundreds. Processes a test starts keep the real hashers."""
    from django.conf import settings
    from django.test import override_settings

    with override_settings(
        PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.MD5PasswordHasher",
            *settings.PASSWORD_HASHERS,
        ]
    ):
        yield


@pytest.fixture(autouse=True, scope="session")
def logins_outlast_the_stories():
    """A staff login made in a test lasts through every day its story travels to: a test logs
    in at its instant (any year from 2024 to 2035) and may then live a day in 2026, which the
    two weeks of a real session would have ended before it began."""
    from django.test import override_settings

    with override_settings(SESSION_COOKIE_AGE=40 * 365 * 24 * 3600):
        yield


@pytest.fixture(autouse=True, scope="session")
def queue_runs_inline():
    """Queued tasks run at once, in the test's process, so a test sees their outcome."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield
    HUEY.immediate = False


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the panel's default language: a request in English through the test
    client leaves English active in the thread, and a later test would read it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def forget_cached_forecasts():
    """Each test starts with no forecast made: a test's database, rolled back, may give its
    audit events and messages the same ids as the last test's, on other data."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def admin(db):
    return UserFactory(username="boss", is_superuser=True)


# Every permission but the periodic tasks' two: what staff could do before the permission
# table grew (tests/integration/test_permission_matrix.py tries each permission alone).
ORDINARY = sorted(set(CODENAMES) - {TOGGLE_PERIODIC_TASKS, RUN_PERIODIC_TASKS})


@pytest.fixture
def staff(db):
    """A staff member with every permission but the periodic tasks' two."""
    return grant(UserFactory(username="helper"), *ORDINARY)


@pytest.fixture
def nobody(db):
    """A staff member holding no permission at all: reads every list, writes nothing."""
    return UserFactory(username="nadie")


@pytest.fixture
def toggler(db):
    """A staff member who, besides the ordinary permissions, may turn periodic tasks on and off
    (but not run them)."""
    return grant(UserFactory(username="toggler"), *ORDINARY, TOGGLE_PERIODIC_TASKS)


def _api(user) -> APIClient:
    client = APIClient()
    _key, plain = api_key_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    return client


@pytest.fixture
def admin_api(admin):
    return _api(admin)


@pytest.fixture
def staff_api(staff):
    return _api(staff)


@pytest.fixture
def nobody_api(nobody):
    return _api(nobody)


@pytest.fixture
def toggler_api(toggler):
    return _api(toggler)


@pytest.fixture
def emulator():
    """A RouterOS API emulator on loopback (user wispbill, password s3cret)."""
    router = RouterOSEmulator(username="wispbill", password="s3cret").start()
    yield router
    router.stop()


@pytest.fixture
def mikrotik(db, emulator):
    """A router record pointed at the emulator."""
    from tests.factories import RouterFactory

    router = RouterFactory(
        host="127.0.0.1", api_port=emulator.port, username="wispbill", enforcement="mikrotik"
    )
    router.password = "s3cret"
    router.save()
    return router
