"""Login with lockout after repeated failures."""
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carenet.core import audit
from carenet.core.models import AuditLog, User


class LockoutModelBackend(ModelBackend):
    """The standard backend, except that a locked account cannot authenticate by any path."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not user.is_locked()


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _("This account is locked after too many failed logins. Try again in %(minutes)s minutes."),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        user = User.objects.filter(username=username).first() if username else None
        if user is not None and user.is_locked():
            minutes = max(1, int((user.locked_until - timezone.now()).total_seconds() // 60) + 1)
            raise forms.ValidationError(self.error_messages["locked"], code="locked", params={"minutes": minutes})
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if user is not None:
                register_failure(user)
            raise
        if user is not None and user.failed_logins:
            User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        audit.record(AuditLog.Action.LOGIN, actor=self.user_cache, model="core.user",
                     object_id=str(self.user_cache.pk), object_repr=self.user_cache.username)
        return cleaned


def register_failure(user: User) -> None:
    User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
    user.refresh_from_db(fields=["failed_logins"])
    audit.record(AuditLog.Action.LOGIN_FAILED, actor=None, model="core.user", object_id=str(user.pk),
                 object_repr=user.username, note=f"failures={user.failed_logins}")
    if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
        until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
        User.objects.filter(pk=user.pk).update(locked_until=until, failed_logins=0)
        audit.record(AuditLog.Action.LOCKED, actor=None, model="core.user", object_id=str(user.pk),
                     object_repr=user.username, note=f"locked until {until.isoformat()}")
