"""Login with lockout after repeated failures."""
from django import forms
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
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
        audit.record(AuditLog.Action.LOGIN, actor=self.user_cache, model="core.user",
                     object_id=str(self.user_cache.pk), object_repr=self.user_cache.username)
        return cleaned


def register_failure(user: User) -> None:
    """Audit a failed login. Throttling is django-axes' job (per account AND address, settings.AXES_*): a
    stranger's wrong passwords lock only that stranger's address out of that account, never the operator's own."""
    audit.record(AuditLog.Action.LOGIN_FAILED, actor=None, model="core.user", object_id=str(user.pk),
                 object_repr=user.username)


def lockout_response(request, original_response=None, credentials=None, *args, **kwargs):
    """What django-axes answers while an (account, address) pair is locked: the login page with a clear error."""
    from django.shortcuts import render

    form = LoginForm(request, initial={"username": (credentials or {}).get("username", "")})
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    message = LoginForm.error_messages["locked"] % {"minutes": minutes}
    return render(request, "core/login.html", {"form": form, "locked_message": message},
                  status=429)


def _audit_lockout(sender, request, username=None, ip_address=None, **kwargs):
    user = User.objects.filter(username=username).first() if username else None
    audit.record(AuditLog.Action.LOCKED, actor=None, model="core.user", object_id=str(user.pk) if user else "",
                 object_repr=(username or "")[:200], note="login throttled for this account from one address")


def connect_signals():
    from axes.signals import user_locked_out

    user_locked_out.connect(_audit_lockout, dispatch_uid="carenet_audit_lockout")
