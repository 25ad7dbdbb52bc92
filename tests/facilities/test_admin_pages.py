"""Pages for the registry's supporting data: dated subsidy rules, staff records, complaints (intake → routing →
answer → closed)."""
import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from carenet.core.models import AuditLog
from carenet.facilities import models as m
from carenet.facilities import services
from tests.facilities.helpers import INDICATORS, make_facility, setup_rules

pytestmark = pytest.mark.django_db
FULL = {code: (10 if mx == 10 else 100) for code, _g, _l, _w, mx in INDICATORS}


def test_district_adds_a_dated_cap_and_later_evaluations_use_it(area, client):
    setup_rules(area)
    fac = make_facility(area, type_="station")
    client.force_login(area.approver)
    page = client.get("/facilities/subsidy-rules/").content.decode()
    assert "80000" in page and "区民政局文件" in page                 # in force today, with its source
    later = timezone.localdate() - dt.timedelta(days=1)
    r = client.post("/facilities/subsidy-rules/", {
        "division": area.district.pk, "facility_type": "station", "key": "subsidy_cap_yearly", "cap": "100000",
        "effective_from": later.isoformat(), "source": "区民政局〔2026〕8号"})
    assert r.status_code == 302
    rule = m.SubsidyRule.objects.get(source="区民政局〔2026〕8号")
    assert rule.created_by == area.approver and AuditLog.objects.filter(note="facilities.subsidy_rule", actor=area.approver).exists()
    ev = services.evaluate(area.evaluator, fac, area.template, FULL, timezone.localdate())
    assert ev.subsidy == D("100000") and any("区民政局〔2026〕8号" in s for s in ev.subsidy_steps)
    old = services.evaluate(area.evaluator, fac, area.template, FULL, later - dt.timedelta(days=1))
    assert old.subsidy == D("80000")                                   # the day before: the old rule
    # score bands as rows of (minimum score, percent), no JSON on the page
    r = client.post("/facilities/subsidy-rules/", {
        "division": area.district.pk, "facility_type": "*", "key": "subsidy_bands",
        "effective_from": later.isoformat(), "band_min_0": "85", "band_rate_0": "100", "band_min_1": "60", "band_rate_1": "50"})
    assert r.status_code == 302
    assert m.SubsidyRule.objects.filter(key="subsidy_bands").latest("effective_from").value == [["85", "1"], ["60", "0.5"]]
    # bad input: a Chinese message, nothing saved
    n = m.SubsidyRule.objects.count()
    r = client.post("/facilities/subsidy-rules/", {"division": area.district.pk, "facility_type": "station",
                                                    "key": "subsidy_cap_yearly", "cap": "很多", "effective_from": "2026-01-01"}, follow=True)
    assert "年度上限" in r.content.decode() and m.SubsidyRule.objects.count() == n


def test_only_the_district_adds_rules_and_inside_its_area(area, client):
    setup_rules(area)
    client.force_login(area.reviewer)
    assert client.get("/facilities/subsidy-rules/").status_code == 200      # may read
    r = client.post("/facilities/subsidy-rules/", {"division": area.street1.pk, "facility_type": "station",
                                                    "key": "subsidy_cap_yearly", "cap": "1", "effective_from": "2026-01-01"})
    assert r.status_code == 403
    with pytest.raises(PermissionDenied):
        services.add_subsidy_rule(area.reviewer, area.street1, "station", "subsidy_cap_yearly", D("1"), dt.date(2026, 1, 1))


def test_staff_record_is_edited_with_history(area, client):
    fac = make_facility(area, division=area.street1)
    s = services.add_staff(area.reviewer, fac, name="王护理", role="caregiver", training_hours=10)
    client.force_login(area.reviewer)
    assert "王护理" in client.get(f"/facilities/staff/{s.pk}/edit/").content.decode()
    r = client.post(f"/facilities/staff/{s.pk}/edit/", {"name": "王护理", "role": "nurse", "certificates": "护士执业证",
                                                        "training_hours": "40", "user": area.helper.pk, "active": "1"})
    assert r.status_code == 302
    s.refresh_from_db()
    assert (s.role, s.certificates, s.training_hours, s.user, s.active) == ("nurse", "护士执业证", 40, area.helper, True)
    row = AuditLog.objects.filter(note="facilities.staff").latest("pk")
    assert row.before["role"] == "caregiver" and row.after["role"] == "nurse"
    r = client.post(f"/facilities/staff/{s.pk}/edit/", {"name": "王护理", "role": "nurse", "training_hours": "9999"}, follow=True)
    assert "0 到 2000" in r.content.decode() or "0至2000" in r.content.decode() or "2000" in r.content.decode()
    s.refresh_from_db()
    assert s.training_hours == 40
    client.post(f"/facilities/staff/{s.pk}/edit/", {"name": "王护理", "role": "nurse", "training_hours": "40"})  # left
    s.refresh_from_db()
    assert s.active is False and s.user is None
    other = make_facility(area, division=area.street2, name="二街道站")
    s2 = services.add_staff(area.admin, other, name="外区", role="cook")
    assert client.get(f"/facilities/staff/{s2.pk}/edit/").status_code == 404


def test_complaint_taken_routed_answered_closed(area, client):
    fac = make_facility(area, division=area.comm_a)
    client.force_login(area.operator)                                  # the call center takes it
    r = client.post("/facilities/complaints/", {"facility": fac.pk, "channel": "phone", "category": "food",
                                                "complainant": "张女士", "phone": "13912345678", "summary": "饭菜偏咸",
                                                "received_on": timezone.localdate().isoformat()})
    c = m.Complaint.objects.get()
    assert r.status_code == 302 and c.status == "received" and c.created_by == area.operator
    page = client.get(f"/facilities/complaints/{c.pk}/").content.decode()
    assert "139****5678" in page and "13912345678" not in page          # the operator sees the phone masked
    assert client.post(f"/facilities/complaints/{c.pk}/step/", {"action": "route", "to": area.street1.pk}).status_code == 403
    client.force_login(area.reviewer)                                  # the street handles it
    assert "饭菜偏咸" in client.get("/facilities/complaints/").content.decode()
    client.post(f"/facilities/complaints/{c.pk}/step/", {"action": "route", "to": area.street1.pk, "handler": "民政办"})
    c.refresh_from_db()
    assert c.status == "routed" and c.routed_to == area.street1 and c.due > timezone.localdate()
    r = client.post(f"/facilities/complaints/{c.pk}/step/", {"action": "close", "note": "x"}, follow=True)
    assert "不能" in r.content.decode() or "无法" in r.content.decode()       # not before the answer
    client.post(f"/facilities/complaints/{c.pk}/step/", {"action": "answer", "reply": "已约谈厨师，调整口味"})
    client.post(f"/facilities/complaints/{c.pk}/step/", {"action": "close", "note": "投诉人满意"})
    c.refresh_from_db()
    assert c.status == "closed" and c.resolved and c.closed_at
    assert [s.to_status for s in c.steps.all()] == ["received", "routed", "replied", "closed"]
    assert AuditLog.objects.filter(note="facilities.complaint").count() == 4
    # supervision counts only open complaints
    from carenet.supervision import selectors as ssel
    assert ssel.facility_panel(area.supervisor, fac)["open_complaints"] == 0


def test_complaints_stay_in_their_area_and_bad_input_is_refused(area, client):
    fac2 = make_facility(area, division=area.comm_c, name="丙社区站")
    with pytest.raises(PermissionDenied):
        services.take_complaint(area.worker_a, fac2, summary="x")
    c = services.take_complaint(area.admin, fac2, summary="收费不透明", category="fees")
    client.force_login(area.reviewer)                                  # street 1
    assert client.get(f"/facilities/complaints/{c.pk}/").status_code == 404
    assert "收费不透明" not in client.get("/facilities/complaints/").content.decode()
    with pytest.raises(services.FacilityError):
        services.take_complaint(area.admin, fac2, summary="  ")
    with pytest.raises(PermissionDenied):
        services.route_complaint(area.reviewer, c.pk, area.street1)
    client.force_login(area.worker_a)
    r = client.post("/facilities/complaints/", {"facility": "", "summary": "x", "received_on": "bad"}, follow=True)
    assert r.status_code == 200 and m.Complaint.objects.count() == 1
