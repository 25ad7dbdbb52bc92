import pytest
from django.db import connection

from carenet.core.models import AuditLog
from carenet.people.models import Resident

pytestmark = pytest.mark.django_db


def test_id_number_is_encrypted_at_rest(area):
    number = area.elder_a.resident.id_number
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM people_resident WHERE id = %s", [area.elder_a.resident.pk])
        row = " ".join(str(v) for v in cur.fetchone())
    assert number not in row
    assert number[-4:] in row  # only the masked form is stored readable


def test_full_id_search_uses_the_keyed_hash(area, login):
    number = area.elder_a.resident.id_number
    page = login(area.admin).get("/people/elders/", {"q": number}).content.decode()
    assert "甲老人" in page and "乙老人" not in page


def test_pages_show_masked_id_only(area, login):
    client = login(area.worker_a)
    number = area.elder_a.resident.id_number
    for url in ("/people/elders/", f"/people/elders/{area.elder_a.pk}/"):
        page = client.get(url).content.decode()
        assert area.elder_a.resident.id_masked in page
        assert number not in page


def test_reveal_full_id_is_audited(area, login):
    client = login(area.worker_a)
    response = client.post(f"/people/elders/{area.elder_a.pk}/reveal-id/")
    assert area.elder_a.resident.id_number in response.content.decode()
    entry = AuditLog.objects.get(action=AuditLog.Action.VIEW_ID)
    assert entry.actor == area.worker_a and entry.object_id == str(area.elder_a.resident.pk)


@pytest.mark.parametrize("role_user", ["operator", "helper", "supervisor"])
def test_roles_without_need_cannot_reveal(area, login, role_user):
    response = login(getattr(area, role_user)).post(f"/people/elders/{area.elder_a.pk}/reveal-id/")
    assert response.status_code == 403
    assert not AuditLog.objects.filter(action=AuditLog.Action.VIEW_ID).exists()


def test_health_archive_view_is_audited(area, login):
    page = login(area.operator).get(f"/people/elders/{area.elder_a.pk}/").content.decode()
    assert "青霉素" in page
    assert AuditLog.objects.filter(action=AuditLog.Action.VIEW_HEALTH, actor=area.operator).count() == 1


def test_helper_does_not_see_health_archive(area, login):
    page = login(area.helper).get(f"/people/elders/{area.elder_a.pk}/").content.decode()
    assert "青霉素" not in page
    assert not AuditLog.objects.filter(action=AuditLog.Action.VIEW_HEALTH).exists()


def test_wrong_key_refuses_to_decrypt(area, settings):
    from cryptography.fernet import Fernet

    resident = Resident.objects.get(pk=area.elder_a.resident.pk)
    settings.PII_KEY = Fernet.generate_key().decode()
    with pytest.raises(ValueError):
        _ = resident.id_number
