"""Registry proposals (maker ≠ checker), history, evaluations with subsidy, inspections loop, scoping."""
import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from carenet.facilities import models as m
from carenet.facilities import selectors as sel
from carenet.facilities import services
from tests.facilities.helpers import make_facility, setup_rules

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def photo():
    return SimpleUploadedFile("p.png", PNG, content_type="image/png")


def test_street_proposes_district_approves_maker_is_not_checker(area):
    setup_rules(area)
    change = services.propose_create(area.reviewer, {"name": "乙社区养老服务站", "type": "station", "division": area.comm_b,
                                                     "beds": 12, "nursing_beds": 6, "address": "乙路1号"}, "新建")
    assert m.Facility.objects.count() == 0
    with pytest.raises(PermissionDenied):
        services.decide(area.reviewer, change.pk, True)          # streets cannot approve
    area.admin_maker = area.admin
    own = services.propose_create(area.admin, {"name": "自建站", "type": "station", "division": area.comm_a}, "")
    with pytest.raises(services.FacilityError, match="申报与审批分离"):
        services.decide(area.admin, own.pk, True)                # the proposer never approves their own
    services.decide(area.approver, change.pk, True, "同意")
    fac = m.Facility.objects.get(name="乙社区养老服务站")
    assert (fac.status, fac.beds, fac.division) == ("planning", 12, area.comm_b)
    st = services.propose_status(area.reviewer, fac, "operating", "通过消防验收")
    services.decide(area.approver, st.pk, True)
    fac.refresh_from_db()
    assert fac.status == "operating"
    assert [h.after.get("status") for h in fac.history.all()] == ["operating", "planning"]
    with pytest.raises(services.FacilityError):
        services.propose_status(area.reviewer, fac, "planning", "x")
    with pytest.raises(services.FacilityError, match="已审批"):
        services.decide(area.approver, st.pk, True)


def test_proposals_outside_the_area_are_refused(area):
    setup_rules(area)
    with pytest.raises(PermissionDenied):
        services.propose_create(area.worker_a, {"name": "x", "type": "station", "division": area.comm_c}, "")
    fac = make_facility(area, division=area.comm_c)
    assert not m.Facility.objects.visible_to(area.reviewer).filter(pk=fac.pk).exists()
    assert m.Facility.objects.visible_to(area.supervisor).filter(pk=fac.pk).exists()


def test_evaluation_scores_and_subsidy_explains_itself(area):
    setup_rules(area)
    fac = make_facility(area, type_="center", name="一街道养老服务中心", division=area.street1)
    scores = {"fire": 9, "food": 8, "care": 8, "mgmt": 7, "satis": 90}
    ev = services.evaluate(area.evaluator, fac, area.template, scores, dt.date.today(), photos=[photo()])
    # 25*.9 + 10*.8 + 30*.8 + 15*.7 + 20*.9 = 22.5 + 8 + 24 + 10.5 + 18 = 83
    assert ev.total == D("83.00") and ev.subsidy == D("240000")
    assert "300,000.00" in ev.subsidy_steps[0] and "区民政局文件" in ev.subsidy_steps[0]
    assert "240,000.00" in ev.subsidy_steps[-1]
    assert ev.photos.count() == 1
    with pytest.raises(PermissionDenied):
        services.evaluate(area.reviewer, fac, area.template, scores, dt.date.today())
    with pytest.raises(services.FacilityError, match="评分不完整"):
        services.evaluate(area.evaluator, fac, area.template, {"fire": 11}, dt.date.today())


def test_beds_follow_admissions_and_discharges(area):
    fac = make_facility(area, beds=3, nursing=2)
    s1 = services.admit(area.reviewer, fac, area.elder_a, dt.date(2026, 1, 5), nursing_bed=True)
    services.admit(area.reviewer, fac, area.elder_b, dt.date(2026, 1, 6))
    with pytest.raises(services.FacilityError):
        services.admit(area.reviewer, fac, area.elder_a, dt.date(2026, 1, 7))
    b = sel.bed_figures(fac, dt.date(2026, 2, 1))
    assert (b.occupied, b.available, b.nursing_occupied) == (2, 1, 1)
    services.discharge(area.reviewer, s1, dt.date(2026, 2, 10))
    b = sel.bed_figures(fac, dt.date(2026, 2, 11))
    assert (b.occupied, b.available, b.as_of) == (1, 2, dt.date(2026, 2, 10))


def test_inspection_finding_goes_round_the_loop(area):
    setup_rules(area)
    fac = make_facility(area)
    insp = services.inspect(area.reviewer, fac, "fire", dt.date.today(), [("灭火器过期", "major"), ("", "minor")])
    f = insp.findings.get()
    services.assign(area.reviewer, f.pk, "站长王某", on=dt.date(2026, 3, 6))
    f.refresh_from_db()
    assert (f.status, f.due) == ("assigned", dt.date(2026, 3, 13))
    with pytest.raises(services.FacilityError, match="整改照片"):
        services.rectify(area.helper, f.pk, "已更换")
    services.rectify(area.helper, f.pk, "已更换灭火器", [photo()])
    with pytest.raises(PermissionDenied):
        services.recheck(area.helper, f.pk, True)               # facility staff never re-check their own work
    services.recheck(area.reviewer, f.pk, False, "仍有一具过期")
    f.refresh_from_db()
    assert f.status == "assigned"
    services.rectify(area.helper, f.pk, "全部更换", [photo()])
    services.recheck(area.reviewer, f.pk, True, "验收合格")
    f.refresh_from_db()
    assert f.status == "closed" and f.closed_by == area.reviewer
    assert [s.to_status for s in f.steps.all()] == ["open", "assigned", "rectified", "assigned", "rectified", "closed"]


def test_views_render_in_chinese_and_scope(area, client):
    setup_rules(area)
    fac = make_facility(area)
    other = make_facility(area, division=area.comm_c, name="丙站")
    client.force_login(area.reviewer)
    r = client.get("/facilities/")
    assert r.status_code == 200 and "幸福社区养老服务站" in r.content.decode() and "丙站" not in r.content.decode()
    assert "养老服务设施" in r.content.decode() or "设施" in r.content.decode()
    assert client.get(f"/facilities/{fac.pk}/").status_code == 200
    assert client.get(f"/facilities/{other.pk}/").status_code == 404
    client.force_login(area.supervisor)
    assert client.get("/supervision/").status_code == 200
    assert client.get(f"/supervision/facilities/{fac.pk}/").status_code == 200
    r = client.get("/supervision/export.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    d = client.get("/bigscreen/data.json").json()
    assert d["elders"]["total"] == 3 and d["facilities"]["total"] == 2
    client.force_login(area.worker_a)
    assert client.get("/supervision/").status_code == 403


def test_admit_by_full_id_number_discharge_and_add_staff_from_the_page(area, client):
    from carenet.core.models import AuditLog

    fac = make_facility(area, beds=5)
    client.force_login(area.reviewer)
    r = client.post(f"/facilities/{fac.pk}/admit/", {"id_number": "123", "admitted": "2026-01-05"}, follow=True)
    assert "18位身份证号" in r.content.decode() and not fac.residents.exists()
    r = client.post(f"/facilities/{fac.pk}/admit/", {"id_number": area.elder_c.resident.id_number.lower(),
                                                      "admitted": "2026-01-05", "nursing_bed": "1", "room": "101"}, follow=True)
    stay = fac.residents.get()
    assert stay.elder == area.elder_c and stay.nursing_bed and "已办理入住" in r.content.decode()
    assert AuditLog.objects.filter(action="lookup", actor=area.reviewer).exists()
    client.post(f"/facilities/stays/{stay.pk}/discharge/", {"discharged": "2026-02-01"})
    stay.refresh_from_db()
    assert stay.discharged == dt.date(2026, 2, 1)
    client.post(f"/facilities/{fac.pk}/staff/", {"name": "李护士", "role": "nurse", "training_hours": "x"})
    assert not fac.staff.exists()
    client.post(f"/facilities/{fac.pk}/staff/", {"name": "李护士", "role": "nurse", "training_hours": "24"})
    assert fac.staff.get().training_hours == 24
    client.force_login(area.worker_a)      # no staff capability
    assert client.post(f"/facilities/{fac.pk}/staff/", {"name": "x", "role": "nurse"}).status_code == 403
