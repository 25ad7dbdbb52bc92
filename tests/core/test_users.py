import datetime as dt

import pytest
from django.utils import timezone

from carenet.core.models import AuditLog, User

pytestmark = pytest.mark.django_db


def _form(**kw):
    data = {"username": "newworker", "first_name": "新网格员", "role": "worker", "phone": "", "is_active": "on",
            "password": "Str0ng-Passw0rd!"}
    data.update(kw)
    return data


def test_admin_creates_a_user_in_the_area_and_it_is_audited(area, login):
    client = login(area.admin)
    response = client.post("/users/new/", _form(division=area.comm_a.pk))
    assert response.status_code == 302
    user = User.objects.get(username="newworker")
    assert user.division == area.comm_a and user.check_password("Str0ng-Passw0rd!")
    entry = AuditLog.objects.get(action="create", model="core.user", object_id=str(user.pk))
    assert "password" not in entry.after and entry.actor == area.admin


def test_a_street_admin_cannot_assign_another_street_or_see_its_users(area, login):
    from tests.factories import UserFactory

    street_admin = UserFactory(role="district_admin", division=area.street1)
    client = login(street_admin)
    response = client.post("/users/new/", _form(division=area.comm_c.pk))
    assert response.status_code == 200 and not User.objects.filter(username="newworker").exists()
    other = UserFactory(role="worker", division=area.comm_c)
    assert client.get(f"/users/{other.pk}/").status_code == 404
    assert other.username not in client.get("/users/").content.decode()


def test_weak_password_is_refused(area, login):
    response = login(area.admin).post("/users/new/", _form(division=area.comm_a.pk, password="123"))
    assert response.status_code == 200 and not User.objects.filter(username="newworker").exists()
    assert 'data-testid="error-password"' in response.content.decode()


def test_unlock_clears_the_lock_and_is_audited(area, login):
    User.objects.filter(pk=area.worker_a.pk).update(locked_until=timezone.now() + dt.timedelta(minutes=10), failed_logins=0)
    client = login(area.admin)
    assert client.post(f"/users/{area.worker_a.pk}/unlock/").status_code == 302
    area.worker_a.refresh_from_db()
    assert not area.worker_a.is_locked()
    assert AuditLog.objects.filter(model="core.user", object_id=str(area.worker_a.pk), note="unlocked").exists()


def test_only_user_managers_reach_the_pages(area, login):
    for user in (area.worker_a, area.supervisor, area.operator):
        assert login(user).get("/users/").status_code == 403
