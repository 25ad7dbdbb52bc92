"""Service applications end to end through the services and pages: catalogue, applying from home and on a
resident's behalf, photos, scoping, handling, deadlines and escalation, notifications, rating and reopening."""
import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from PIL import Image

from carenet.civic import models as m
from carenet.civic import services
from carenet.civic.engine.common import ReopenExpiredError
from carenet.core.models import AuditLog

pytestmark = pytest.mark.django_db


def png(name="doc.png", size=(40, 30)):
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def answers_for(item):
    out = {}
    for f in item.fields:
        out[f["code"]] = {"number": "2", "datetime": "2026-12-01", "text": "说明"}.get(f["datatype"]) or (
            f["values"][0] if f["datatype"] == "singlevaluelist" else [f["values"][0]]
            if f["datatype"] == "multivaluelist" else "6217000011112222")
    return out


def test_starter_catalogue_is_complete(catalogue):
    assert len(catalogue) >= 90
    for name in ("高龄津贴申请", "残疾人证换领", "城乡居民医保参保缴费", "养老金领取资格认证", "水费代缴服务"):
        assert name in catalogue
    for item in catalogue.values():
        assert item.department and item.help_text and item.deadline_days >= 1 and item.fields, item.name
        assert services.check_fields(item.fields) == item.fields
    assert {i.fully_online for i in catalogue.values()} == {True, False}
    assert services.load_catalogue() == (0, 0)  # idempotent: the district's edits are kept


def test_answers_are_validated_per_field(catalogue):
    item = catalogue["高龄津贴申请"]
    with pytest.raises(ValidationError) as exc:
        services.clean_answers(item, {"bank_account": "", "age_band": "70-79岁"})
    assert set(exc.value.message_dict) == {"bank_account", "age_band"}
    assert services.clean_answers(item, {"bank_account": "6217", "age_band": "90-99岁"}) == {
        "bank_account": "6217", "age_band": "90-99岁"}
    with pytest.raises(ValidationError):
        services.clean_answers(catalogue["失业登记"], {"date": "昨天"})


def test_apply_from_home_with_photos_then_handle_to_rating(area, catalogue, media, django_capture_on_commit_callbacks):
    elder = area.elder_a.resident
    item = catalogue["残疾人证换领"]
    with django_capture_on_commit_callbacks(execute=True):
        req = services.submit_request(item=item, answers=answers_for(item), applicant=elder, photos=[png()])
    assert req.channel == m.Channel.HOME and req.state == "submitted" and req.division == elder.division
    assert req.due_on == services.CALENDAR.add_working_days(timezone.localdate(req.created), item.deadline_days)
    assert req.attachments.get().content_type == "image/png"
    assert m.CivicNotification.objects.filter(request=req).count() == 1  # "received" SMS to the applicant
    with django_capture_on_commit_callbacks(execute=True):
        services.act_on_request(req, "route", user=area.worker_a, data={"to": ""})
        services.act_on_request(req, "request_docs", user=area.worker_a, reason="请补充原残疾人证照片")
        services.act_on_request(req, "supply_docs", resident=elder, photos=[png("old-card.png")])
        services.act_on_request(req, "complete", user=area.worker_a, data={"note": "新证已制作，送证上门"})
        services.act_on_request(req, "rate", resident=elder, data={"score": 5, "comment": "很方便"})
    req.refresh_from_db()
    assert req.state == "rated" and req.score == 5 and req.routed_to == item.department
    assert req.outcome == "新证已制作，送证上门" and req.attachments.count() == 2
    texts = list(m.CivicNotification.objects.filter(request=req).values_list("text", flat=True))
    assert len(texts) == 5 and any("请补充原残疾人证照片" in t for t in texts)  # rate sends nothing
    assert AuditLog.objects.filter(model="civic.servicerequest", object_id=str(req.pk)).count() == 6
    assert [e.action for e in req.events.all()] == ["submit", "route", "request_docs", "supply_docs", "complete",
                                                    "rate"]


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def test_only_real_images_within_the_cap(area, catalogue, media, monkeypatch, english):
    item = catalogue["残疾人证换领"]
    fake = SimpleUploadedFile("x.png", b"<svg onload=alert(1)>", content_type="image/png")
    with pytest.raises(services.CivicServiceError, match="is not a photo"):
        services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_a.resident, photos=[fake])
    monkeypatch.setattr(services, "MAX_PHOTO_BYTES", 100)
    with pytest.raises(services.CivicServiceError, match="larger than"):
        services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_a.resident,
                                photos=[png(size=(300, 300))])
    assert not m.ServiceRequest.objects.exists()  # nothing half-saved


def test_on_behalf_needs_consent_capability_and_area(area, catalogue, english):
    item = catalogue["高龄津贴申请"]
    with pytest.raises(services.CivicServiceError, match="consent"):
        services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_a.resident,
                                user=area.worker_a)
    with pytest.raises(PermissionDenied):  # another community
        services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_b.resident,
                                user=area.worker_a, consent_note="电话同意")
    with pytest.raises(PermissionDenied):  # a helper may not apply
        services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_a.resident,
                                user=area.helper, consent_note="电话同意")
    req = services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_c.resident,
                                  user=area.operator, consent_note="老人来电同意代办")
    assert req.channel == m.Channel.OPERATOR and req.consent_note == "老人来电同意代办" and req.consent_at


def test_scoping_and_who_may_act(area, catalogue, login):
    item = catalogue["水费代缴服务"]
    req = services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_b.resident)
    assert login(area.worker_a).get(f"/civic/requests/{req.pk}/").status_code == 404
    assert login(area.worker_b).get(f"/civic/requests/{req.pk}/").status_code == 200
    assert login(area.reviewer).get(f"/civic/requests/{req.pk}/").status_code == 200
    with pytest.raises(PermissionDenied):
        services.act_on_request(req, "route", user=area.worker_a)
    with pytest.raises(services.CivicServiceError):  # another resident cannot rate or withdraw it
        services.act_on_request(req, "withdraw", resident=area.elder_a.resident, reason="x")
    with pytest.raises(services.CivicServiceError):  # the applicant cannot complete their own request
        services.act_on_request(req, "complete", resident=area.elder_b.resident)


def test_refuse_needs_reason_and_reopen_has_a_period(area, catalogue, monkeypatch):
    item = catalogue["最低生活保障申请"]
    t0 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(services, "now", lambda: t0)
    req = services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_a.resident)
    services.act_on_request(req, "route", user=area.reviewer, data={"to": "一街道民政办"})
    with pytest.raises(services.CivicError):
        services.act_on_request(req, "refuse", user=area.reviewer, reason=" ")
    services.act_on_request(req, "refuse", user=area.reviewer, reason="家庭收入超过低保标准")
    monkeypatch.setattr(services, "now", lambda: t0 + dt.timedelta(days=40))
    with pytest.raises(ReopenExpiredError):
        services.act_on_request(req, "reopen", resident=area.elder_a.resident, reason="收入已变化")
    monkeypatch.setattr(services, "now", lambda: t0 + dt.timedelta(days=7))
    req = services.act_on_request(req, "reopen", resident=area.elder_a.resident, reason="收入已变化")
    assert req.state == "routed" and req.reopened == 1 and req.outcome == "家庭收入超过低保标准"
    assert req.due_on == services.CALENDAR.add_working_days(dt.date(2026, 3, 9), item.deadline_days)


def test_due_soon_overdue_and_escalation(area, catalogue, monkeypatch, login):
    item = catalogue["用水报修"]  # 1 working day
    t0 = dt.datetime(2025, 9, 30, 9, tzinfo=dt.timezone.utc)  # before the National Day holiday
    monkeypatch.setattr(services, "now", lambda: t0)
    req = services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_a.resident)
    assert req.due_on == dt.date(2025, 10, 9)
    assert services.deadline_status(req, dt.date(2025, 10, 9)).label == "due_soon"
    assert services.deadline_status(req, dt.date(2025, 10, 10)).label == "overdue"
    assert services.escalate_overdue(dt.date(2025, 10, 10)) == 0
    assert services.escalate_overdue(dt.date(2025, 10, 13)) == 1  # overdue by 2 working days (11 Oct is 调休)
    assert services.escalate_overdue(dt.date(2025, 10, 14)) == 0  # once
    req.refresh_from_db()
    assert req.escalated and req.events.filter(action="escalate").exists()
    monkeypatch.setattr(services, "today", lambda: dt.date(2025, 10, 13))
    page = login(area.worker_a).get("/civic/?queue=overdue").content.decode()
    assert req.number in page
    assert req.number in login(area.worker_a).get("/civic/?queue=escalated").content.decode()
    assert req.number not in login(area.worker_a).get("/civic/?queue=due_soon").content.decode()


def test_home_login_and_lockout(area, catalogue, client):
    elder = area.elder_a.resident
    code = services.issue_home_access(area.worker_a, elder)
    assert len(code) == 6 and code.isdigit()
    r = client.post("/civic/home/login/", {"phone": elder.phone, "code": "000000" if code != "000000" else "111111"})
    assert "错误" in r.content.decode() or "wrong" in r.content.decode()
    r = client.post("/civic/home/login/", {"phone": elder.phone, "code": code})
    assert r.status_code == 302 and r["Location"].endswith("/civic/home/")
    assert "高龄津贴申请" in client.get("/civic/home/items/?q=高龄").content.decode()
    client.post("/civic/home/logout/")
    for _ in range(services.MAX_FAILURES):
        client.post("/civic/home/login/", {"phone": elder.phone, "code": "999999" if code != "999999" else "888888"})
    r = client.post("/civic/home/login/", {"phone": elder.phone, "code": code})
    assert r.status_code == 200 and SESSION_NOT_SET(client)


def SESSION_NOT_SET(client):
    return "civic_resident" not in client.session


def test_home_pages_only_show_own_requests(area, catalogue, client):
    item = catalogue["水费代缴服务"]
    other = services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_b.resident)
    code = services.issue_home_access(area.worker_a, area.elder_a.resident)
    client.post("/civic/home/login/", {"phone": area.elder_a.resident.phone, "code": code})
    assert client.get(f"/civic/home/requests/{other.pk}/").status_code == 404
    r = client.post(f"/civic/home/apply/{item.code}/", {"f_account": "", "f_amount": "abc"})
    assert r.status_code == 200 and not m.ServiceRequest.objects.filter(applicant=area.elder_a.resident).exists()
    r = client.post(f"/civic/home/apply/{item.code}/", {"f_account": "3401-778", "f_amount": "86.5"})
    mine = m.ServiceRequest.objects.get(applicant=area.elder_a.resident)
    assert r.status_code == 302 and mine.answers == {"account": "3401-778", "amount": "86.5"}


def test_catalogue_edit_in_the_ui(area, catalogue, login):
    item = catalogue["高龄津贴申请"]
    c = login(area.admin)
    post = {"code": item.code, "name": item.name, "category": item.category, "department": "街道便民服务中心",
            "deadline_days": "10", "fully_online": "on", "help_text": "新的说明", "active": "on",
            "documents_text": "身份证\n银行卡", "f-0-code": "bank_account", "f-0-label": "银行卡号",
            "f-0-datatype": "string", "f-0-required": "on", "f-1-code": "way", "f-1-label": "领取方式",
            "f-1-datatype": "singlevaluelist", "f-1-values": "到社区领取、送上门"}
    assert c.post(f"/civic/catalogue/{item.pk}/", post).status_code == 302
    item.refresh_from_db()
    assert item.department == "街道便民服务中心" and item.deadline_days == 10 and item.documents == ["身份证", "银行卡"]
    assert item.fields[1]["values"] == ["到社区领取", "送上门"] and item.fields[1]["required"] is False
    bad = dict(post, **{"f-1-values": ""})
    r = c.post(f"/civic/catalogue/{item.pk}/", bad)
    assert r.status_code == 200 and "data-testid=\"item-error\"" in r.content.decode()
    assert login(area.worker_a).post(f"/civic/catalogue/{item.pk}/", post).status_code == 403


@pytest.mark.parametrize("url", ["/civic/", "/civic/?queue=due_soon", "/civic/catalogue/", "/civic/community/",
                                 "/civic/wishes/", "/civic/figures/", "/civic/ledger/", "/civic/apply/",
                                 "/civic/access/", "/civic/public/", "/civic/community/new/"])
def test_pages_answer_for_every_role(area, catalogue, login, url):
    for user in (area.admin, area.reviewer, area.worker_a, area.operator, area.supervisor, area.helper):
        status = login(user).get(url).status_code
        assert status in (200, 403), (user.role, url, status)
    assert login(area.admin).get(url).status_code == 200 or url in ("/civic/apply/", "/civic/access/")


def test_todo_lists_overdue_applications_in_the_area(area, catalogue, monkeypatch):
    from carenet.civic import todo

    item = catalogue["用水报修"]
    t0 = dt.datetime(2025, 9, 30, 9, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(services, "now", lambda: t0)
    req = services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_a.resident)
    monkeypatch.setattr(services, "today", lambda: dt.date(2025, 10, 13))
    mine = todo.items_for(area.worker_a)
    assert any(i.overdue and i.url.endswith(f"/civic/requests/{req.pk}/") for i in mine)
    assert not any(str(req.pk) in i.url for i in todo.items_for(area.worker_b))
    assert todo.items_for(area.supervisor) == []


def test_worker_applies_on_behalf_through_the_page(area, catalogue, login, media):
    item = catalogue["水费代缴服务"]
    c = login(area.worker_a)
    elder = area.elder_a.resident
    assert elder.name in c.get(f"/civic/apply/?q={elder.name}").content.decode()
    page = c.get(f"/civic/apply/?resident={elder.pk}&item={item.code}").content.decode()
    assert 'name="consent_note"' in page
    base = {"item": item.code, "resident": elder.pk, "f_account": "3401-778", "f_amount": "86"}
    r = c.post(f"/civic/apply/?resident={elder.pk}&item={item.code}", base)  # no consent: refused, nothing saved
    assert r.status_code == 200 and not m.ServiceRequest.objects.exists()
    r = c.post(f"/civic/apply/?resident={elder.pk}&item={item.code}", dict(base, consent_note="老人电话同意"))
    req = m.ServiceRequest.objects.get()
    assert r.status_code == 302 and req.channel == "worker" and req.created_by == area.worker_a
    other = area.elder_b.resident  # another community: not offered, not accepted
    r = c.post(f"/civic/apply/?resident={other.pk}&item={item.code}", dict(base, resident=other.pk,
                                                                            consent_note="同意"))
    assert m.ServiceRequest.objects.count() == 1
