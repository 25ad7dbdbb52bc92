import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from carenet.core.models import AuditLog, User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _try(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_production_hasher_is_strong():
    # conftest swaps in a fast hasher for tests; the settings module itself must name a strong one first.
    from carenet import settings as carenet_settings

    assert carenet_settings.PASSWORD_HASHERS[0].endswith(("ScryptPasswordHasher", "Argon2PasswordHasher", "PBKDF2PasswordHasher"))


def test_good_login_redirects_to_dashboard(area, client):
    response = _try(client, "worker_a", PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_repeated_failures_lock_the_account(area, client):
    for _ in range(django_settings.LOGIN_MAX_FAILURES):
        assert _try(client, "worker_a", "wrong-password").status_code == 200
    user = User.objects.get(username="worker_a")
    assert user.is_locked()
    response = _try(client, "worker_a", PASSWORD)  # the right password no longer helps
    assert response.status_code == 200
    assert "locked" in response.content.decode().lower() or "锁定" in response.content.decode()
    assert AuditLog.objects.filter(action=AuditLog.Action.LOCKED, object_id=str(user.pk)).exists()


def test_lock_expires(area, client):
    User.objects.filter(username="worker_a").update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert _try(client, "worker_a", PASSWORD).status_code == 302


def test_success_resets_failure_count(area, client):
    _try(client, "worker_a", "nope")
    _try(client, "worker_a", PASSWORD)
    assert User.objects.get(username="worker_a").failed_logins == 0


def test_pages_require_login(client):
    assert client.get("/people/elders/").status_code == 302
