"""The only place core writes: staff accounts. Each write is atomic and audited."""
from __future__ import annotations

from django.db import transaction

from carenet.core import audit
from carenet.core.models import AuditLog, User
from carenet.core.permissions import require, require_in_area


@transaction.atomic
def save_user(admin, user: User, *, password: str = "", before: dict | None = None) -> User:
    """Create or change an account in the administrator's own area; a non-empty `password` replaces the old one."""
    require(admin, "users.manage")
    require_in_area(admin, user.division)
    created = user.pk is None
    if password:
        user.set_password(password)
    user.save()
    audit.record(AuditLog.Action.CREATE if created else AuditLog.Action.UPDATE, user, actor=admin,
                 before=before, after=audit.snapshot(user), division_path=user.division.path,
                 note="password set" if password else "")
    return user


@transaction.atomic
def unlock_user(admin, user: User) -> None:
    """Lift a lockout after failed logins."""
    require(admin, "users.manage")
    if user.division_id:
        require_in_area(admin, user.division)
    User.objects.filter(pk=user.pk).update(locked_until=None, failed_logins=0)
    from axes.utils import reset

    reset(username=user.username)  # the login throttle's (account, address) locks too
    audit.record(AuditLog.Action.UPDATE, user, actor=admin, after={"locked_until": None},
                 division_path=user.division.path if user.division_id else "", note="unlocked")
