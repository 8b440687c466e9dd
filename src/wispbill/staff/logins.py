"""Panel logins: the lockout (django-axes counts the failures), its audit events and the unlock."""

from datetime import datetime

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone

from wispbill.audit.models import AuditAction, AuditEvent
from wispbill.audit.services import actor_name_of, audit_record
from wispbill.staff.permissions import require_admin

User = get_user_model()

# The audit log's object id for a username that belongs to nobody.
UNKNOWN_USER_ID = 0


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out username before any password is checked.

    Only the login form authenticates with a request; code on the server that checks a password
    without one (the shell, a test) is not a login attempt and is not counted."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked_until(usernames: list[str]) -> dict[str, datetime]:
    """The usernames among these that are locked out now, with when each lock ends."""
    cool_off = get_cool_off()
    rows = (
        AccessAttempt.objects.filter(
            username__in=usernames, attempt_time__gte=timezone.now() - cool_off
        )
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    )
    return {
        row["username"]: row["last"] + cool_off
        for row in rows
        if row["failures"] >= settings.AXES_FAILURE_LIMIT
    }


@transaction.atomic
def login_unlock(*, actor, username: str) -> bool:
    """Let a locked-out username log in again at once; admins only (None: the machine's owner
    at the CLI). Returns whether it was locked."""
    if actor is not None:
        require_admin(actor)
    was_locked = username in locked_until([username])
    AxesProxyHandler.reset_attempts(username=username)
    if was_locked:
        _record(actor=actor, action=AuditAction.LOGIN_UNLOCKED, username=username, changes={})
    return was_locked


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, saying that this username is locked and for how long (axes calls
    this for a login refused by the lockout)."""
    username = get_client_username(request, credentials) or ""
    form = AuthenticationForm(request, initial={"username": username})
    minutes = int(get_cool_off(request).total_seconds() // 60)
    return render(
        request,
        "panel/login.html",
        {"form": form, "locked_out": True, "minutes": minutes, "next": request.POST.get("next")},
        status=429,
    )


def record_failed_login(sender, credentials, request=None, **kwargs) -> None:
    """Every failed login is an audit event: a wrong password, or any try while the username
    is locked; the failure that reaches the limit also records the lockout. Connected to
    user_login_failed after axes' own handler, whose verdict it reads."""
    if request is None:
        return
    username = get_client_username(request, credentials) or ""
    address = request.META.get("REMOTE_ADDR", "")
    # axes counts a failure (and sets this) only while the username is not locked yet.
    failures = getattr(request, "axes_failures_since_start", None)
    locked = bool(getattr(request, "axes_locked_out", False))
    with transaction.atomic():
        if failures is None:
            action = AuditAction.LOGIN_REFUSED_LOCKED if locked else AuditAction.LOGIN_FAILED
            _record(actor=None, action=action, username=username, changes={}, reason=address)
            return
        _record(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            username=username,
            changes={"failed_logins": [failures - 1, failures]},
            reason=address,
        )
        if locked:
            until = timezone.now() + get_cool_off(request)
            _record(
                actor=None,
                action=AuditAction.LOGIN_LOCKED_OUT,
                username=username,
                changes={"locked_until": [None, until.isoformat(timespec="seconds")]},
                reason=address,
            )


def _record(*, actor, action: AuditAction, username: str, changes: dict, reason: str = "") -> None:
    user = User.objects.filter(username=username).first()
    if user is not None:
        audit_record(actor=actor, action=action, obj=user, changes=changes, reason=reason)
        return
    # A username nobody has is logged too: guessing names is part of an attack.
    AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor,
        actor_name=actor_name_of(actor),
        action=action,
        object_type="user",
        object_id=UNKNOWN_USER_ID,
        object_repr=username[:200],
        changes=changes,
        reason=reason,
    )
