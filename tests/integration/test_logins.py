"""Panel logins: the lockout after failed tries (django-axes), its audit events and its unlock,
the password rules and each staff member's own password change."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client as Browser
from django.utils import timezone

from tests.factories import UserFactory
from wispbill.audit.models import AuditEvent
from wispbill.staff.logins import UNKNOWN_USER_ID

pytestmark = pytest.mark.django_db

RIGHT = "secret-pass"


@pytest.fixture(autouse=True)
def quick_hashes(settings):
    """A cheap hasher: these tests log in a hundred times and are about counting, not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _try(browser: Browser, username: str, password: str, **extra):
    return browser.post("/login/", {"username": username, "password": password}, **extra)


def _logged_in(browser: Browser) -> bool:
    return browser.get("/").status_code == 200


def _fail(username: str, times: int, browser: Browser | None = None) -> Browser:
    browser = browser or Browser()
    for _ in range(times):
        _try(browser, username, "wrong-pass")
    return browser


def test_five_failures_lock_the_username_even_with_the_right_password():
    UserFactory(username="ana")
    browser = Browser()
    for _ in range(4):
        response = _try(browser, "ana", "wrong-pass")
        assert response.status_code == 200
        assert "Usuario o contraseña incorrectos" in response.content.decode()
    fifth = _try(browser, "ana", "wrong-pass")
    assert fifth.status_code == 429
    page = _try(browser, "ana", RIGHT).content.decode()
    assert "bloqueado durante 15 minutos" in page and "incluso con la contraseña correcta" in page
    assert not _logged_in(browser)


def test_the_lock_follows_the_username_whatever_address_or_browser_tries():
    UserFactory(username="ana")
    UserFactory(username="beto")
    for n in range(5):
        _try(
            Browser(),
            "ana",
            "wrong-pass",
            REMOTE_ADDR=f"198.51.100.{n}",
            HTTP_USER_AGENT=f"agent {n}",
        )
    assert _try(Browser(), "ana", RIGHT, REMOTE_ADDR="203.0.113.9").status_code == 429
    # The office behind the same address is not locked out: only that username.
    colleague = Browser()
    assert _try(colleague, "beto", RIGHT, REMOTE_ADDR="198.51.100.0").status_code == 302
    assert _logged_in(colleague)


def test_four_failures_do_not_lock_and_a_success_starts_the_count_again():
    UserFactory(username="ana")
    browser = _fail("ana", 4)
    assert _try(browser, "ana", RIGHT).status_code == 302
    browser.post("/logout/")
    browser = _fail("ana", 4)
    assert _try(browser, "ana", RIGHT).status_code == 302


def test_the_lock_ends_after_15_minutes_and_tries_during_it_do_not_stretch_it():
    UserFactory(username="ana")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail("ana", 5)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert _try(Browser(), "ana", RIGHT).status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        browser = Browser()
        assert _try(browser, "ana", RIGHT).status_code == 302
        assert _logged_in(browser)


def test_failures_spread_over_more_than_15_minutes_do_not_lock():
    UserFactory(username="ana")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail("ana", 4)
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        _fail("ana", 1)
        assert _try(Browser(), "ana", RIGHT).status_code == 302


def test_failed_logins_and_the_lockout_are_audit_events():
    ana = UserFactory(username="ana")
    browser = _fail("ana", 5, Browser(REMOTE_ADDR="198.51.100.7"))
    _try(browser, "ana", RIGHT)
    events = AuditEvent.objects.filter(object_type="user", object_id=ana.pk).order_by("id")
    assert [e.action for e in events] == [
        *["login.failed"] * 5,
        "login.locked_out",
        "login.refused_locked",
    ]
    assert events[4].changes == {"failed_logins": [4, 5]}
    assert {e.actor_name for e in events} == {"system"}
    assert events[0].reason == "198.51.100.7"
    assert "locked_until" in events[5].changes


def test_a_username_that_nobody_has_is_audited_and_locked_too():
    _fail("nadie", 5)
    events = AuditEvent.objects.filter(object_type="user", object_id=UNKNOWN_USER_ID)
    assert events.filter(action="login.failed", object_repr="nadie").count() == 5
    assert events.filter(action="login.locked_out").count() == 1


def test_an_admin_unlocks_from_the_staff_page(admin):
    ana = UserFactory(username="ana")
    _fail("ana", 5)
    boss = Browser()
    boss.force_login(admin)
    listing = boss.get("/staff/").content.decode()
    assert "Bloqueado" in listing
    page = boss.get(f"/staff/{ana.pk}/").content.decode()
    assert 'data-testid="locked-out"' in page and "Desbloquear ahora" in page

    response = boss.post(f"/staff/{ana.pk}/unlock/")
    assert response.status_code == 302
    assert 'data-testid="locked-out"' not in boss.get(f"/staff/{ana.pk}/").content.decode()
    assert _try(Browser(), "ana", RIGHT).status_code == 302
    unlocked = AuditEvent.objects.get(action="login.unlocked", object_id=ana.pk)
    assert unlocked.actor_name == admin.username


def test_staff_cannot_unlock(staff):
    ana = UserFactory(username="ana")
    _fail("ana", 5)
    helper = Browser()
    helper.force_login(staff)
    assert helper.post(f"/staff/{ana.pk}/unlock/").status_code == 403
    assert _try(Browser(), "ana", RIGHT).status_code == 429


def test_unlock_login_command_lets_the_username_in_again(capsys):
    UserFactory(username="ana")
    _fail("ana", 5)
    call_command("unlock-login", "ana")
    assert "ana can log in again" in capsys.readouterr().out
    assert _try(Browser(), "ana", RIGHT).status_code == 302
    assert AuditEvent.objects.filter(action="login.unlocked", actor_name="system").exists()


def test_a_locked_out_user_keeps_working_through_its_api_key(staff, staff_api):
    _fail(staff.username, 5)
    assert _try(Browser(), staff.username, RIGHT).status_code == 429
    assert staff_api.get("/api/v1/plans/").status_code == 200


def test_the_lockout_message_in_english():
    UserFactory(username="ana")
    browser = Browser()
    browser.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    _fail("ana", 5, browser)
    page = _try(browser, "ana", RIGHT).content.decode()
    assert "locked for 15 minutes, even with the right password" in page


@pytest.mark.parametrize("password", ["short1", "password123", "qwertyuiop"])
def test_api_refuses_short_or_common_staff_passwords(admin_api, password):
    response = admin_api.post(
        "/api/v1/staff/",
        {"username": "nuevo", "password": password},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    assert "demasiado" in response.json()["password"][0]


def test_api_accepts_a_good_staff_password(admin_api):
    response = admin_api.post(
        "/api/v1/staff/", {"username": "nuevo", "password": "luz-de-cerro-7"}, format="json"
    )
    assert response.status_code == 201


def test_panel_staff_form_shows_the_password_rules(admin):
    boss = Browser()
    boss.force_login(admin)
    response = boss.post(
        "/staff/new/", {"username": "nuevo", "password": "12345", "is_active": "on"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "La contraseña es demasiado corta" in page and "demasiado común" in page


def test_staff_change_their_own_password():
    ana = UserFactory(username="ana")
    browser = Browser()
    assert _try(browser, "ana", RIGHT).status_code == 302
    assert 'href="/password/"' in browser.get("/").content.decode()
    page = browser.get("/password/").content.decode()
    assert "Cambiar contraseña" in page and "Contraseña antigua" in page

    wrong_old = browser.post(
        "/password/",
        {
            "old_password": "nope",
            "new_password1": "luz-de-cerro-7",
            "new_password2": "luz-de-cerro-7",
        },
    )
    assert "Su contraseña antigua es incorrecta" in wrong_old.content.decode()
    weak = browser.post(
        "/password/",
        {"old_password": RIGHT, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert "demasiado común" in weak.content.decode()

    done = browser.post(
        "/password/",
        {
            "old_password": RIGHT,
            "new_password1": "luz-de-cerro-7",
            "new_password2": "luz-de-cerro-7",
        },
    )
    assert done.status_code == 302
    assert _logged_in(browser), "the session that changed the password stays open"
    assert _try(Browser(), "ana", "luz-de-cerro-7").status_code == 302
    assert _try(Browser(), "ana", RIGHT).status_code == 200
    event = AuditEvent.objects.get(action="staff.password_changed", object_id=ana.pk)
    assert event.actor_name == "ana" and event.changes == {"password": ["***", "***"]}


def test_password_page_in_english():
    UserFactory(username="ana")
    browser = Browser()
    _try(browser, "ana", RIGHT)
    browser.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = browser.get("/password/").content.decode()
    assert "Change password" in page and "Old password" in page


def test_password_page_needs_a_login():
    response = Browser().get("/password/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
