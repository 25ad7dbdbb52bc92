import pytest

from carenet.core.models import AuditLog
from carenet.people.models import ElderProfile, Resident
from tests.factories import new_id_number

pytestmark = pytest.mark.django_db


def _form(resident_name, division, **extra):
    data = {"name": resident_name, "sex": "M", "birth_date": "1950-03-04", "phone": "13700000000", "address": "幸福路2号",
            "division": division.pk, "living": "alone", "care_level": "mild", "categories": ["dibao"],
            "h-blood_type": "A", "h-chronic_conditions": "糖尿病",
            "c-TOTAL_FORMS": 1, "c-INITIAL_FORMS": 0, "c-0-order": 1, "c-0-name": "李四", "c-0-relation": "女儿",
            "c-0-phone": "13600000000"}
    data.update(extra)
    return data


def test_create_update_delete_are_audited_with_before_and_after(area, login):
    client = login(area.worker_a)
    number = new_id_number()
    response = client.post("/people/elders/new/", _form("新老人", area.comm_a, id_number=number))
    assert response.status_code == 302, response.content.decode()[:2000]
    resident = Resident.objects.get(name="新老人")
    created = AuditLog.objects.filter(action="create", model="people.resident", object_id=str(resident.pk)).get()
    assert created.actor == area.worker_a and created.after["name"] == "新老人"
    assert number not in str(created.after)  # the audit trail never holds the clear ID number

    elder = resident.elder
    response = client.post(f"/people/elders/{elder.pk}/edit/", _form("新老人", area.comm_a, care_level="severe", **{
        "c-TOTAL_FORMS": 1, "c-INITIAL_FORMS": 1, "c-0-id": elder.contacts.get().pk, "c-0-elder": elder.pk,
        "c-0-DELETE": "on", "h-id": elder.health.pk}))
    assert response.status_code == 302, response.content.decode()[:3000]
    update = AuditLog.objects.filter(action="update", model="people.elderprofile", object_id=str(elder.pk)).get()
    assert update.before == {"care_level": "mild"} and update.after == {"care_level": "severe"}
    deleted = AuditLog.objects.get(action="delete", model="people.emergencycontact")
    assert deleted.before["name"] == "李四"
    assert not ElderProfile.objects.get(pk=elder.pk).contacts.exists()


def test_validation_errors_are_specific_and_save_nothing(area, login):
    client = login(area.worker_a)
    response = client.post("/people/elders/new/", _form("坏号码", area.comm_a, id_number="110105194912310021"))
    page = response.content.decode()
    assert response.status_code == 200 and "id_number" in page
    assert "X" in page  # the message names the expected check character
    young = new_id_number(birth=__import__("datetime").date(1990, 1, 1))
    response = client.post("/people/elders/new/", _form("年轻人", area.comm_a, id_number=young, birth_date="1990-01-01"))
    assert "60" in response.content.decode()
    assert not Resident.objects.filter(name__in=["坏号码", "年轻人"]).exists()


def test_sex_mismatch_is_reported(area, login):
    client = login(area.worker_a)
    number = new_id_number(sex="F")
    response = client.post("/people/elders/new/", _form("错性别", area.comm_a, id_number=number, sex="M"))
    assert response.status_code == 200
    assert 'data-testid="error-sex"' in response.content.decode()


def test_supervisor_searches_the_log_and_worker_cannot(area, login):
    login(area.worker_a).post(f"/people/elders/{area.elder_a.pk}/reveal-id/")
    client = login(area.supervisor)
    page = client.get("/audit/", {"action": "view_id"}).content.decode()
    assert "worker_a" in page
    assert login(area.worker_a).get("/audit/").status_code == 403


def test_audit_rows_are_append_only(area):
    entry = AuditLog.objects.create(action="login", actor_name="x")
    entry.note = "tampered"
    with pytest.raises(ValueError):
        entry.save()


def test_supervisor_is_read_only(area, login):
    client = login(area.supervisor)
    assert client.get(f"/people/elders/{area.elder_a.pk}/edit/").status_code == 403
    assert client.get("/people/elders/new/").status_code == 403
