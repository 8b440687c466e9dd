"""Staff accounts, their permissions and their API keys."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import Permission, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wispbill.audit.models import AuditAction
from wispbill.audit.services import audit_record
from wispbill.core.db import locked
from wispbill.staff.models import ApiKey
from wispbill.staff.permissions import CODENAMES, DEFAULT_PERMISSIONS, require_admin


def staff_permissions(user) -> list[str]:
    """The codenames a user holds: every one for an admin."""
    if user.is_superuser:
        return sorted(CODENAMES)
    return sorted(
        user.user_permissions.filter(content_type__app_label="staff").values_list(
            "codename", flat=True
        )
    )


def _check_permissions(permissions: list[str]) -> None:
    unknown = sorted(set(permissions) - set(CODENAMES))
    if unknown:
        raise ValidationError(
            {
                "permissions": [
                    _("Unknown permission: %(name)s.") % {"name": name} for name in unknown
                ]
            }
        )


def _set_permissions(user, permissions: list[str]) -> None:
    user.user_permissions.remove(*Permission.objects.filter(content_type__app_label="staff"))
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="staff", codename__in=permissions)
    )


@transaction.atomic
def staff_create(
    *,
    actor,
    username: str,
    password: str,
    is_admin: bool = False,
    permissions: list[str] | None = None,
    full_name: str = "",
    is_active: bool = True,
) -> User:
    """Create a staff user; admins only. Without `permissions`, a new staff user may manage
    clients and register payments."""
    require_admin(actor)
    permissions = list(DEFAULT_PERMISSIONS) if permissions is None else permissions
    _check_permissions(permissions)
    username = username.strip()
    errors = {}
    if not username:
        errors["username"] = [_("This field is required.")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("A user with that username already exists.")]
    try:
        # Checked against the user it will be, so a password like its username is refused.
        validate_password(password, User(username=username, first_name=full_name[:150]))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    user = User(
        username=username,
        is_staff=True,
        is_superuser=is_admin,
        is_active=is_active,
        first_name=full_name[:150],
    )
    user.set_password(password)
    user.save()
    _set_permissions(user, permissions)
    audit_record(
        actor=actor,
        action=AuditAction.STAFF_CREATED,
        obj=user,
        changes={
            "is_admin": [None, is_admin],
            "permissions": [None, sorted(permissions)],
        },
    )
    return user


@transaction.atomic
def staff_update(
    *,
    actor,
    user,
    password: str | None = None,
    is_admin: bool | None = None,
    permissions: list[str] | None = None,
    full_name: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a staff user; admins only, and an admin cannot demote or lock out themself."""
    require_admin(actor)
    user = locked(User.objects).get(pk=user.pk)
    changes: dict = {}
    if permissions is not None:
        _check_permissions(permissions)
    if user.pk == actor.pk and (is_admin is False or is_active is False):
        raise ValidationError(
            {
                "is_admin": [
                    _("You cannot remove your own administrator rights or deactivate yourself.")
                ]
            }
        )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": list(exc.messages)}) from exc
        user.set_password(password)
        changes["password"] = ["***", "***"]
    if is_admin is not None and is_admin != user.is_superuser:
        changes["is_admin"] = [user.is_superuser, is_admin]
        user.is_superuser = is_admin
    if is_active is not None and is_active != user.is_active:
        changes["is_active"] = [user.is_active, is_active]
        user.is_active = is_active
    if full_name is not None and full_name != user.first_name:
        changes["full_name"] = [user.first_name, full_name]
        user.first_name = full_name[:150]
    user.save()
    if permissions is not None:
        before = sorted(
            user.user_permissions.filter(content_type__app_label="staff").values_list(
                "codename", flat=True
            )
        )
        if before != sorted(permissions):
            _set_permissions(user, permissions)
            changes["permissions"] = [before, sorted(permissions)]
    if changes:
        audit_record(actor=actor, action=AuditAction.STAFF_CHANGED, obj=user, changes=changes)
    return user


@transaction.atomic
def staff_password_change(*, actor, password: str) -> User:
    """A staff member sets their own password (the panel checked the current one)."""
    user = locked(User.objects).get(pk=actor.pk)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password1": list(exc.messages)}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        actor=user,
        action=AuditAction.PASSWORD_CHANGED,
        obj=user,
        changes={"password": ["***", "***"]},
    )
    return user


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, user, name: str = "", actor=None) -> tuple[ApiKey, str]:
    """A new key for a staff user; the plain key is returned once and never stored. From the
    panel only an admin may make one (the CLI is the machine's owner)."""
    if actor is not None:
        require_admin(actor)
    prefix = secrets.token_hex(4)
    plain = f"wb_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(user=user, prefix=prefix, key_hash=_hash(plain), name=name)
    if actor is not None:
        audit_record(
            actor=actor,
            action=AuditAction.API_KEY_CREATED,
            obj=user,
            changes={"api_key": [None, f"{prefix}…"]},
        )
    return key, plain


def api_key_revoke(*, actor, key: ApiKey) -> ApiKey:
    """Revoke a key at once; admins only."""
    require_admin(actor)
    if not key.revoked:
        key.revoked = True
        key.save(update_fields=["revoked"])
        audit_record(
            actor=actor,
            action=AuditAction.API_KEY_REVOKED,
            obj=key.user,
            changes={"api_key": [f"{key.prefix}…", None]},
        )
    return key


def api_key_user(plain: str):
    """The active user a key belongs to, or None."""
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != "wb":
        return None
    key = ApiKey.objects.select_related("user").filter(prefix=parts[1], revoked=False).first()
    if key is None or not secrets.compare_digest(key.key_hash, _hash(plain)):
        return None
    if not key.user.is_active:
        return None
    _touch(key)
    return key.user


# last_used_at is kept to the minute, so reading the API does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _touch(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    # Conditional, so requests arriving together write once.
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
