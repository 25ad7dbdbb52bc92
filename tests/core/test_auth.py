import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.test import Client
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


def test_repeated_failures_lock_the_account_from_that_address(area, client):
    for _ in range(django_settings.LOGIN_MAX_FAILURES - 1):
        assert _try(client, "worker_a", "wrong-password").status_code == 200
    assert _try(client, "worker_a", "wrong-password").status_code == 429  # the failure that locks
    response = _try(client, "worker_a", PASSWORD)  # the right password no longer helps from this address
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    user = User.objects.get(username="worker_a")
    assert AuditLog.objects.filter(action=AuditLog.Action.LOCKED, object_id=str(user.pk)).exists()
    # every refused attempt is audited, the one with the right password while locked too
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN_FAILED, object_id=str(user.pk)).count() == 6


def test_an_attacker_cannot_lock_the_call_center_out(area, client):
    """Wrong passwords for the operator from another address lock that address only (issue 9 §4)."""
    for _ in range(django_settings.LOGIN_MAX_FAILURES + 3):
        client.post("/login/", {"username": area.operator.username, "password": "guess"}, REMOTE_ADDR="198.51.100.7")
    assert client.post("/login/", {"username": area.operator.username, "password": PASSWORD},
                       REMOTE_ADDR="198.51.100.7").status_code == 429
    operator = Client()
    r = operator.post("/login/", {"username": area.operator.username, "password": PASSWORD}, REMOTE_ADDR="192.0.2.10")
    assert r.status_code == 302
    assert not User.objects.get(pk=area.operator.pk).is_locked()


def test_admin_lock_expires(area, client):
    User.objects.filter(username="worker_a").update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert _try(client, "worker_a", PASSWORD).status_code == 302


def test_throttle_expires_after_the_cool_off(area, client, settings):
    for _ in range(django_settings.LOGIN_MAX_FAILURES):
        _try(client, "worker_a", "wrong-password")
    assert _try(client, "worker_a", PASSWORD).status_code == 429
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - django_settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1))
    assert _try(client, "worker_a", PASSWORD).status_code == 302


def test_success_resets_failure_count(area, client):
    from axes.models import AccessAttempt

    _try(client, "worker_a", "nope")
    assert AccessAttempt.objects.filter(username="worker_a").count() == 1
    _try(client, "worker_a", PASSWORD)
    assert AccessAttempt.objects.filter(username="worker_a").count() == 0


def test_admin_unlocks_a_throttled_account(area, client, login):
    for _ in range(django_settings.LOGIN_MAX_FAILURES):
        _try(client, "worker_a", "wrong-password")
    admin = login(area.admin)
    assert "Unlock" in admin.get("/users/").content.decode() or "解锁" in admin.get("/users/").content.decode()
    admin.post(f"/users/{area.worker_a.pk}/unlock/")
    assert Client().post("/login/", {"username": "worker_a", "password": PASSWORD}).status_code == 302


def test_pages_require_login(client):
    assert client.get("/people/elders/").status_code == 302
