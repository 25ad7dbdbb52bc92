"""The seven steps through the services and pages: audited states, council vote, duplicates and merging, the
public 晒单 page with masked personal data and an answer published later, small wishes, figures and the ledger."""
import io

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from carenet.civic import models as m
from carenet.civic import services
from carenet.civic.engine.common import QuorumNotReachedError
from carenet.core.models import AuditLog

pytestmark = pytest.mark.django_db


def new_request(area, user=None, **kw):
    fields = dict(division=area.comm_a, category="light", title="3号楼路灯不亮",
                  description="王小明（13812345678）反映3号楼路灯坏了", reporter_name="王小明",
                  reporter_phone="13812345678", lat=30.5300, lon=117.0500)
    fields.update(kw)
    return services.receive(user or area.worker_a, **fields)


def walk_all_seven(area, req):
    w, r = area.worker_a, area.reviewer
    req = services.community_act(w, req, "screen")
    req = services.community_act(w, req, "draft_plan", data={"plan": "更换LED路灯2盏", "cost": "1800", "owner": "甲社区居委会"})
    req = services.community_act(w, req, "to_council")
    req = services.community_act(w, req, "decide", data={"members": 9, "yes": 7, "no": 1, "abstain": 0})
    req = services.community_act(w, req, "revise", data={"plan": "更换LED路灯2盏，加装声控开关"})
    req = services.community_act(r, req, "publish")
    req = services.community_act(w, req, "start_delivery")
    req = services.community_act(w, req, "progress", data={"note": "王小明家门口的灯已换好"})
    req = services.community_act(w, req, "complete", data={"result": "两盏路灯已更换"})
    return services.community_act(w, req, "confirm", data={"confirmed_by": "上门回访"})


def test_every_step_is_an_audited_state(area):
    req = walk_all_seven(area, new_request(area))
    assert req.state == "closed" and req.closed_at and req.cost is not None and req.votes == 1
    actions = [e.action for e in req.events.all()]
    assert actions == ["receive", "screen", "draft_plan", "to_council", "decide", "revise", "publish",
                       "start_delivery", "progress", "complete", "confirm"]
    audits = AuditLog.objects.filter(model="civic.communityrequest", object_id=str(req.pk))
    assert audits.count() == len(actions)
    assert m.CouncilVote.objects.get(request=req).passed


def test_quorum_and_permissions(area, login):
    req = new_request(area)
    for a in ("screen", "to_council"):
        if a == "to_council":
            services.community_act(area.worker_a, req, "draft_plan", data={"plan": "p", "cost": "1", "owner": "o"})
        req = services.community_act(area.worker_a, req, a)
    with pytest.raises(QuorumNotReachedError):
        services.community_act(area.worker_a, req, "decide", data={"members": 9, "yes": 3, "no": 1, "abstain": 0})
    req.refresh_from_db()
    assert req.state == "council" and not m.CouncilVote.objects.exists()
    with pytest.raises(PermissionDenied):  # another community's worker
        services.community_act(area.worker_b, req, "decide", data={"members": 9, "yes": 7, "no": 0, "abstain": 0})
    req = services.community_act(area.worker_a, req, "decide", data={"members": 9, "yes": 7, "no": 0, "abstain": 0})
    # publishing is the township's (civic.publish): refused with an audit row that survives the rollback
    assert login(area.worker_a).post(f"/civic/community/{req.pk}/publish/").status_code == 403
    assert AuditLog.objects.filter(action="denied", note="missing capability civic.publish").exists()
    req.refresh_from_db()
    assert req.state == "revising"


def test_duplicates_are_suggested_and_merged(area, login):
    first = new_request(area)
    near = new_request(area, title="路灯坏了", lat=30.5302)           # ~22 m away
    far = new_request(area, title="路灯坏了", lat=30.5500)            # ~2 km
    other_type = new_request(area, category="road", title="路面坑洼")
    page = login(area.worker_a).get(f"/civic/community/{near.pk}/").content.decode()
    assert f"merge-{first.pk}" in page and f"merge-{far.pk}" not in page and f"merge-{other_type.pk}" not in page
    r = login(area.worker_a).post(f"/civic/community/{near.pk}/merge/", {"into": first.pk})
    assert r.status_code == 302
    near.refresh_from_db()
    assert near.state == "merged" and near.merged_into == first
    with pytest.raises(services.CivicServiceError):  # not into a request of another area
        services.community_act(area.worker_a, far, "merge",
                               data={"into": new_request(area, user=area.worker_b, division=area.comm_b).pk})


def test_out_of_scope_needs_a_reason(area, login):
    req = new_request(area)
    c = login(area.worker_a)
    c.post(f"/civic/community/{req.pk}/out_of_scope/", {"reason": ""})
    req.refresh_from_db()
    assert req.state == "received"
    c.post(f"/civic/community/{req.pk}/out_of_scope/", {"reason": "属于物业职责"})
    req.refresh_from_db()
    assert req.state == "out_of_scope"


def test_public_page_masks_personal_data_and_answer_is_private_until_published(area, client):
    req = walk_all_seven(area, new_request(area))
    assert client.get("/civic/public/").status_code == 200
    services.save_answer(area.worker_a, req, "感谢王小明的反映，路灯已修好。")
    page = client.get(f"/civic/public/{req.pk}/").content.decode()
    assert "王小明" not in page and "13812345678" not in page
    assert "王**" in page and "138****5678" in page and "两盏路灯已更换" in page
    assert "路灯已修好" not in page  # the draft is not public
    with pytest.raises(PermissionDenied):
        services.save_answer(area.worker_a, req, "x", publish=True)
    services.save_answer(area.reviewer, req, "感谢王小明的反映，路灯已修好。", publish=True)
    page = client.get(f"/civic/public/{req.pk}/").content.decode()
    assert "感谢王**的反映，路灯已修好。" in page
    unpublished = new_request(area)
    assert client.get(f"/civic/public/{unpublished.pk}/").status_code == 404


def test_wish_path_through_the_pages(area, login):
    c = login(area.worker_a)
    c.post("/civic/wishes/", {"division": area.comm_a.pk, "title": "一台收音机"})
    w = m.Wish.objects.get()
    c.post(f"/civic/wishes/{w.pk}/claim/", {"claimer": "红马甲志愿队"})
    c.post(f"/civic/wishes/{w.pk}/deliver/")
    c.post(f"/civic/wishes/{w.pk}/confirm/")
    w.refresh_from_db()
    assert w.state == "confirmed" and w.claimer == "红马甲志愿队"
    assert [e.action for e in w.events.all()] == ["publish", "claim", "deliver", "confirm"]
    assert login(area.worker_b).post(f"/civic/wishes/{w.pk}/cancel/", {"reason": "x"}).status_code == 404


def test_figures_and_ledger_export(area, catalogue, login, django_capture_on_commit_callbacks):
    item = catalogue["水费代缴服务"]
    for elder in (area.elder_a, area.elder_a, area.elder_b):
        req = services.submit_request(item=item, answers={"account": "1", "amount": "50"}, applicant=elder.resident)
        services.act_on_request(req, "route", user=area.admin)
        services.act_on_request(req, "complete", user=area.admin)
        services.act_on_request(req, "rate", resident=elder.resident, data={"score": 4 if elder is area.elder_a else 2})
    walk_all_seven(area, new_request(area))
    r = login(area.admin).get("/civic/figures/")
    assert r.status_code == 200
    data = r.context["data"]
    assert data["total"] == 3 and data["on_time"] == 3 and data["satisfaction"]["satisfied"] == 2
    assert dict(data["by_step"])["落单"] == 1
    r = login(area.supervisor).get("/civic/ledger.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = {row[0]: row for row in ws.iter_rows(min_row=3, values_only=True)}
    assert rows["甲社区"][1:4] == (2, 2, 2) and rows["甲社区"][6:8] == (1, 1) and rows["乙社区"][1] == 1
    assert AuditLog.objects.filter(action="export", model="civic.ledger").exists()
    # a community worker's ledger holds only their community
    assert [r["community"] for r in login(area.worker_b).get("/civic/ledger/").context["rows"]] == ["乙社区"]
    assert login(area.worker_b).get("/civic/ledger.xlsx").status_code == 403


def test_figures_count_grids_in_their_community(area, catalogue, login):
    from carenet.core.models import Division
    from tests.factories import ResidentFactory

    grid = Division.objects.create(code="340899001001001", name="第1网格", level=4, parent=area.comm_a)
    who = ResidentFactory(division=grid)
    item = catalogue["水费代缴服务"]
    services.submit_request(item=item, answers={"account": "1", "amount": "5"}, applicant=who)
    services.submit_request(item=item, answers={"account": "1", "amount": "5"}, applicant=area.elder_a.resident)
    rows = login(area.admin).get("/civic/figures/").context["data"]["by_area"]
    assert [(r["division__name"], r["n"]) for r in rows] == [("甲社区", 2)]
