"""Issue 9 §3: records stay in their area, clear ID numbers stay encrypted, sensitive reads are audited."""
import io

import pytest
from openpyxl import load_workbook

from carenet.assistance import models as am
from carenet.core.models import AuditLog
from carenet.core import imports
from carenet.core.models import ImportRun
from tests.factories import new_id_number
from tests.people.test_excel import _row, _xlsx

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- near-relative declarations

def _declare(client, number):
    return client.post("/assistance/relatives/", {"id_number": number, "relation": "parent"}, follow=True)


def test_relatives_form_reveals_no_name_and_no_existence_outside_the_area(area, login):
    client = login(area.worker_a)
    outside = _declare(client, area.elder_c.resident.id_number)           # registered, another street
    unknown = _declare(client, new_id_number())                           # registered nowhere
    inside = _declare(client, area.elder_a.resident.id_number)            # registered in the worker's area
    for r in (outside, unknown, inside):
        assert r.status_code == 200
    assert "丙老人" not in outside.content.decode()
    assert area.elder_c.resident.id_masked not in outside.content.decode()

    def message(r):
        return [str(m) for m in r.context["messages"]]
    assert message(outside) == message(unknown) == message(inside)
    assert "甲老人" in inside.content.decode()  # the worker's own area is listed
    # the declaration outside the area still exists (cases there are flagged) and every lookup is audited
    assert am.NearRelativeDeclaration.objects.filter(staff=area.worker_a).count() == 2
    assert AuditLog.objects.filter(actor=area.worker_a, action="lookup", note__contains="near-relative").count() == 3


def test_read_only_supervisor_cannot_file_declarations(area, login):
    client = login(area.supervisor)
    assert client.get("/assistance/relatives/").status_code == 200
    assert 'data-testid="relative-form"' not in client.get("/assistance/relatives/").content.decode()
    r = client.post("/assistance/relatives/", {"id_number": area.elder_a.resident.id_number, "relation": "parent"})
    assert r.status_code == 403
    assert not am.NearRelativeDeclaration.objects.exists()


# ---------------------------------------------------------------- duplicate ID numbers

def _elder_form(division, number, name="新人"):
    return {"name": name, "sex": "M", "id_number": number, "birth_date": "1950-03-04", "division": division.pk,
            "living": "alone", "care_level": "intact", "phone": "13800000000", "address": "路1号",
            "c-TOTAL_FORMS": "0", "c-INITIAL_FORMS": "0", "c-MIN_NUM_FORMS": "0", "c-MAX_NUM_FORMS": "5"}


def test_duplicate_id_in_the_elder_form_says_the_same_inside_and_outside_the_area(area, login):
    client = login(area.worker_a)
    inside = client.post("/people/elders/new/", _elder_form(area.comm_a, area.elder_a.resident.id_number))
    outside = client.post("/people/elders/new/", _elder_form(area.comm_a, area.elder_c.resident.id_number))
    e_in, e_out = inside.context["form"].errors["id_number"], outside.context["form"].errors["id_number"]
    assert e_in == e_out
    assert "丙老人" not in outside.content.decode() and "丙社区" not in outside.content.decode()
    # the district-wide check is audited, without the number
    rows = AuditLog.objects.filter(action="lookup", actor=area.worker_a, note__contains="elder form")
    assert rows.count() == 2 and not any(area.elder_c.resident.id_number in str(r.__dict__) for r in rows)


def _import(area, data):
    return imports.import_file(imports.get("people.elders"), data, "elders.xlsx", area.worker_a)


def test_duplicate_id_in_the_import_is_one_message_and_audited(area):
    run = _import(area, _xlsx([_row("重复内", area.elder_a.resident.id_number, area.comm_a.code),
                               _row("重复外", area.elder_c.resident.id_number, area.comm_a.code)]))
    sheet = load_workbook(io.BytesIO(bytes(run.report))).active
    texts = [" ".join(str(v) for v in r if v) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(texts) == 2 and all("已登记，不能重复建档" in t for t in texts)
    assert not any("丙" in t for t in texts)
    assert AuditLog.objects.filter(action="lookup", actor=area.worker_a, note__contains="import").exists()


def test_stored_import_report_holds_no_clear_id_number(area):
    bad = new_id_number()
    bad = bad[:17] + ("1" if bad[17] != "1" else "2")  # wrong check character: rejected
    run = _import(area, _xlsx([_row("坏校验", bad, area.comm_a.code), _row("越权", new_id_number(), area.comm_c.code)]))
    stored = bytes(ImportRun.objects.get(pk=run.pk).report)
    cells = [str(c.value) for row in load_workbook(io.BytesIO(stored)).active.iter_rows() for c in row]
    assert bad not in " ".join(cells)


# ---------------------------------------------------------------- full-ID search and the access log

def test_full_id_search_posts_and_the_url_carries_no_number(area, login):
    number = area.elder_a.resident.id_number
    client = login(area.worker_a)
    r = client.post("/people/elders/", {"q": number})
    assert r.status_code == 302
    assert number not in r["Location"] and number[-6:] not in r["Location"]
    page = client.get(r["Location"]).content.decode()
    assert "甲老人" in page and "乙老人" not in page
    assert 'method="post" data-testid="search-form"' in client.get("/people/elders/").content.decode()
    # other filters survive the redirect
    r = client.post("/people/elders/", {"q": "甲", "living": "alone"})
    assert r["Location"].endswith("?q=%E7%94%B2&living=alone")


def test_resident_search_boxes_post(area, login):
    client = login(area.worker_a)
    for url in ("/assistance/cases/new/", "/assistance/report/"):
        page = client.get(url).content.decode()
        assert 'hx-post="/assistance/residents/"' in page and 'hx-get="/assistance/residents/"' not in page
    assert "甲老人" in client.post("/assistance/residents/", {"q": "甲"}).content.decode()


# ---------------------------------------------------------------- audited reads

def test_elder_edit_page_audits_the_health_archive_view(area, login):
    client = login(area.worker_a)
    assert client.get(f"/people/elders/{area.elder_a.pk}/edit/").status_code == 200
    assert AuditLog.objects.filter(action="view_health", actor=area.worker_a).count() == 1


def test_api_elder_list_is_audited_like_the_export(area, login):
    client = login(area.admin)
    r = client.get("/api/people/elders", {"limit": 500})
    assert r.status_code == 200 and len(r.json()) == 3
    row = AuditLog.objects.get(action="export", actor=area.admin, model="people.elderprofile")
    assert "rows=3" in row.note
