"""A worker of community A cannot reach a record of community B: UI, API and exports."""
import io

import pytest
from openpyxl import load_workbook

from carenet.people.models import ElderProfile

pytestmark = pytest.mark.django_db


def test_selector_limits_to_subtree(area):
    assert set(ElderProfile.objects.visible_to(area.worker_a)) == {area.elder_a}
    assert set(ElderProfile.objects.visible_to(area.reviewer)) == {area.elder_a, area.elder_b}
    assert set(ElderProfile.objects.visible_to(area.admin)) == {area.elder_a, area.elder_b, area.elder_c}


def test_user_without_division_sees_nothing(area):
    area.worker_a.division = None
    area.worker_a.save()
    assert not ElderProfile.objects.visible_to(area.worker_a).exists()


def test_ui_detail_edit_and_reveal_of_other_community_are_not_found(area, login):
    client = login(area.worker_a)
    other = area.elder_b.pk
    assert client.get(f"/people/elders/{area.elder_a.pk}/").status_code == 200
    assert client.get(f"/people/elders/{other}/").status_code == 404
    assert client.get(f"/people/elders/{other}/edit/").status_code == 404
    assert client.post(f"/people/elders/{other}/reveal-id/").status_code == 404


def test_ui_list_and_search_never_show_other_community(area, login):
    client = login(area.worker_a)
    page = client.get("/people/elders/").content.decode()
    assert "甲老人" in page and "乙老人" not in page and "丙老人" not in page
    page = client.get("/people/elders/", {"q": "乙老人"}).content.decode()
    assert 'data-testid="no-results"' in page and 'data-testid="elder-link"' not in page


def test_ui_edit_cannot_move_a_record_into_a_foreign_community(area, login):
    client = login(area.worker_a)
    r = area.elder_a.resident
    response = client.post(f"/people/elders/{area.elder_a.pk}/edit/", {
        "name": r.name, "sex": r.sex, "birth_date": r.birth_date.isoformat(), "division": area.comm_b.pk,
        "living": "alone", "care_level": "intact", "c-TOTAL_FORMS": 0, "c-INITIAL_FORMS": 0,
    })
    assert response.status_code == 200  # form redisplayed with an error, nothing saved
    r.refresh_from_db()
    assert r.division_id == area.comm_a.pk


def test_api_list_and_detail_are_scoped(area, login):
    client = login(area.worker_a)
    names = [e["name"] for e in client.get("/api/people/elders").json()]
    assert names == ["甲老人"]
    assert client.get(f"/api/people/elders/{area.elder_a.pk}").status_code == 200
    assert client.get(f"/api/people/elders/{area.elder_b.pk}").status_code == 404


def test_api_requires_login(area, client):
    assert client.get("/api/people/elders").status_code == 401


def test_export_contains_only_own_area_and_masked_ids(area, login):
    client = login(area.worker_a)
    response = client.get("/people/elders/export.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == ["甲老人"]
    assert "*" in rows[0][2] and area.elder_a.resident.id_number not in str(rows)


def test_helper_cannot_export(area, login):
    assert login(area.helper).get("/people/elders/export.xlsx").status_code == 403
