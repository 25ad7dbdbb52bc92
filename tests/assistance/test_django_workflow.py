"""Django side of social assistance: workflow services, views, jurisdiction, deadlines and audit."""
import datetime as dt
from decimal import Decimal

import chinese_calendar
import pytest
from django.urls import reverse

from carenet.assistance import models as m
from carenet.assistance import adapter, services
from carenet.assistance.engine import workflow as ewf
from carenet.core.models import AuditLog
from carenet.core.roles import Role
from tests.factories import ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db

POOR = {"incomes": [{"type": "wage", "amount": "300.00"}], "assets": {"deposits": "1000"}}


@pytest.fixture
def aa(area):
    services.seed_default_standards(area.district)
    area.approver = UserFactory(username="approver1", role=Role.APPROVER, division=area.district)
    area.approver2 = UserFactory(username="approver2", role=Role.APPROVER, division=area.district)
    area.reviewer2 = UserFactory(username="reviewer2", role=Role.REVIEWER, division=area.street1)
    area.applicant = ResidentFactory(division=area.comm_a, name="王小明", birth_date=dt.date(1970, 5, 1))
    return area


@pytest.fixture
def clock(monkeypatch):
    """Move the service clock: clock.set(datetime)."""

    class Clock:
        at = None

        def set(self, value):
            self.at = value

    c = Clock()
    real = adapter.now
    monkeypatch.setattr(adapter, "now", lambda: c.at or real())
    return c


def at(day: dt.date, hour=10):
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def to_submitted(aa, clock=None, reviewer=None):
    reviewer = reviewer or aa.reviewer
    case = services.intake(aa.worker_a, program="dibao_urban", applicant=aa.applicant, reason="失业，收入低")
    case = services.record_survey(aa.worker_a, case, visited_on=services.today(), visitors="张三、李四",
                                  notes="家中陈设简陋", facts=POOR)
    case = services.review(reviewer, case, recommend=True, opinion="情况属实，同意")
    case = services.start_notice(reviewer, case)
    if clock is not None:
        clock.set(at(case.notice_ends_on + dt.timedelta(days=1)))
    case = services.submit(reviewer, case)
    return case


def test_full_path_to_approval_persists_history_explanation_and_entitlement(aa, clock):
    clock.set(at(dt.date(2026, 3, 2)))
    case = to_submitted(aa, clock)
    assert case.state == ewf.SUBMITTED
    clock.set(at(dt.date(2026, 3, 20)))
    case = services.approve(aa.approver, case, opinion="同意")
    assert case.state == ewf.APPROVED
    # (1000 - 300) x 1 person
    assert case.monthly_amount == Decimal("700.00")
    assert any(s["code"] == "dibao.below_standard" for s in case.explanation)
    assert [h.action for h in case.history.all()] == ["accept", "survey", "review", "start_notice", "submit", "approve"]
    assert all(h.actor_id for h in case.history.all())
    ent = case.entitlement
    assert ent.start_month == dt.date(2026, 4, 1)  # the month after approval
    assert ent.monthly_amount == case.monthly_amount


def test_same_user_cannot_review_and_approve_through_the_service(aa, clock):
    # approval delegated to the township: reviewers may decide, but never on a case they reviewed
    services.add_standard(None, division=aa.district, program="*", key="approval_delegated_to_township",
                          value=True, effective_from=dt.date(2026, 1, 1), allow_past=True)
    clock.set(at(dt.date(2026, 6, 1)))
    case = to_submitted(aa, clock)
    with pytest.raises(ewf.SeparationOfDutiesError):
        services.approve(aa.reviewer, case)
    case.refresh_from_db()
    assert case.state == ewf.SUBMITTED
    assert case.history.count() == 5
    # another township reviewer may decide
    case = services.approve(aa.reviewer2, case)
    assert case.state == ewf.APPROVED


def test_same_user_cannot_review_and_approve_through_the_view(aa, clock, client):
    services.add_standard(None, division=aa.district, program="*", key="approval_delegated_to_township",
                          value=True, effective_from=dt.date(2026, 1, 1), allow_past=True)
    clock.set(at(dt.date(2026, 6, 1)))
    case = to_submitted(aa, clock)
    client.force_login(aa.reviewer)
    r = client.post(reverse("assistance:action", args=[case.pk, "approve"]), {"opinion": "同意"})
    assert r.status_code == 409
    text = r.content.decode()
    assert "workflow.separation_of_duties" in text
    assert "审核与审批分离" in text
    case.refresh_from_db()
    assert case.state == ewf.SUBMITTED


def test_near_relative_case_cannot_be_handled_by_the_relative(aa):
    services.declare_near_relative(aa.reviewer, resident=aa.applicant, relation="sibling")
    case = services.intake(aa.worker_a, program="dibao_urban", applicant=aa.applicant)
    assert str(aa.reviewer.pk) in case.conflicted_staff and case.flagged_near_relative
    case = services.record_survey(aa.worker_a, case, visited_on=services.today(), visitors="甲、乙", notes="走访",
                                  facts=POOR)
    with pytest.raises(ewf.NearRelativeConflictError):
        services.review(aa.reviewer, case, recommend=True, opinion="同意")
    # another reviewer can
    case = services.review(aa.reviewer2, case, recommend=True, opinion="同意")
    assert case.state == ewf.REVIEWED


def test_declaring_a_relative_flags_open_cases(aa):
    case = services.intake(aa.worker_a, program="dibao_urban", applicant=aa.applicant)
    assert not case.flagged_near_relative
    services.declare_near_relative(aa.approver, resident=aa.applicant, relation="child")
    case.refresh_from_db()
    assert case.conflicted_staff == [str(aa.approver.pk)]


def test_review_deadline_skips_weekends_and_national_day(aa, clock):
    start = dt.date(2026, 9, 29)  # a Tuesday before the National Day holiday
    clock.set(at(start))
    case = services.intake(aa.worker_a, program="dibao_urban", applicant=aa.applicant)
    step, due = services.due_date(case)
    assert step == "review" and case.due_on == due and case.due_step == "review"
    # count the official working days in (start, due] independently: exactly 15, and due is one of them
    days = [start + dt.timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert sum(chinese_calendar.is_workday(d) for d in days) == 15
    assert chinese_calendar.is_workday(due)
    national_day = [dt.date(2026, 10, d) for d in range(1, 8)]
    assert all(d in days and not chinese_calendar.is_workday(d) for d in national_day)
    # more than three calendar weeks because of the holiday
    assert (due - start).days > 21
    naive = start
    n = 0
    while n < 15:
        naive += dt.timedelta(days=1)
        n += naive.weekday() < 5
    assert due > naive


def test_notice_cannot_be_submitted_early_and_message_is_clear(aa, clock, client):
    clock.set(at(dt.date(2026, 6, 1)))
    case = services.intake(aa.worker_a, program="dibao_urban", applicant=aa.applicant)
    case = services.record_survey(aa.worker_a, case, visited_on=services.today(), visitors="甲、乙", notes="走访",
                                  facts=POOR)
    case = services.review(aa.reviewer, case, recommend=True, opinion="同意")
    case = services.start_notice(aa.reviewer, case)
    assert case.notice_ends_on > dt.date(2026, 6, 8)  # 7 working days
    with pytest.raises(ewf.NoticeNotElapsedError):
        services.submit(aa.reviewer, case)
    client.force_login(aa.reviewer)
    r = client.post(reverse("assistance:action", args=[case.pk, "submit"]))
    assert r.status_code == 409 and "workflow.notice_not_elapsed" in r.content.decode()


def test_objection_returns_case_to_survey_and_renotice_is_shorter(aa, clock):
    clock.set(at(dt.date(2026, 6, 1)))
    case = services.intake(aa.worker_a, program="dibao_urban", applicant=aa.applicant)
    case = services.record_survey(aa.worker_a, case, visited_on=services.today(), visitors="甲、乙", notes="走访",
                                  facts=POOR)
    case = services.review(aa.reviewer, case, recommend=True, opinion="同意")
    case = services.start_notice(aa.reviewer, case)
    first_len = (case.notice_ends_on - case.notice_started_on).days
    case = services.record_objection(aa.reviewer, case, content="有邻居反映其有车", raised_by="匿名")
    assert case.state == ewf.SURVEYED and case.objections == 1
    assert case.notice_objections.count() == 1
    case = services.review(aa.reviewer, case, recommend=True, opinion="复查属实")
    case = services.start_notice(aa.reviewer, case)
    assert (case.notice_ends_on - case.notice_started_on).days < first_len


def test_worker_of_community_a_gets_404_for_a_case_of_community_b(aa, client):
    other = ResidentFactory(division=aa.comm_b, name="乙申请人")
    case_b = services.intake(aa.worker_b, program="dibao_urban", applicant=other)
    case_a = services.intake(aa.worker_a, program="dibao_urban", applicant=aa.applicant)
    client.force_login(aa.worker_a)
    assert client.get(reverse("assistance:case", args=[case_b.pk])).status_code == 404
    assert client.get(reverse("assistance:case", args=[case_a.pk])).status_code == 200
    listing = client.get(reverse("assistance:cases")).content.decode()
    assert "王小明" in listing and "乙申请人" not in listing
    # the reviewer of the township sees both; a worker cannot act on B through the action URL either
    client.force_login(aa.reviewer)
    listing = client.get(reverse("assistance:cases")).content.decode()
    assert "王小明" in listing and "乙申请人" in listing
    client.force_login(aa.worker_a)
    assert client.post(reverse("assistance:action", args=[case_b.pk, "withdraw"]),
                       {"reason": "x"}).status_code == 404


def test_transitions_and_payment_changes_are_audited(aa, clock):
    clock.set(at(dt.date(2026, 3, 2)))
    before = AuditLog.objects.count()
    case = to_submitted(aa, clock)
    case = services.approve(aa.approver, case)
    notes = list(AuditLog.objects.filter(model="assistance.case", object_id=str(case.pk))
                 .order_by("id").values_list("note", flat=True))
    for action in ("accept", "survey", "review", "start_notice", "submit", "approve"):
        assert any(n.startswith(f"assistance.{action}") for n in notes), action
    approve_row = AuditLog.objects.filter(model="assistance.case", object_id=str(case.pk),
                                          note__startswith="assistance.approve").get()
    assert approve_row.actor == aa.approver
    assert approve_row.before["state"] == "submitted" and approve_row.after["state"] == "approved"
    assert AuditLog.objects.filter(model="assistance.entitlement").count() == 1
    case.state = ewf.PAYING  # as after the first payroll (tested in test_django_payroll)
    m.Case.objects.filter(pk=case.pk).update(state=ewf.PAYING)
    clock.set(at(dt.date(2026, 6, 10)))
    services.change_payment(aa.approver, case, action="raise", monthly_amount="800.00",
                            effective_month=dt.date(2026, 5, 1), reason="家庭成员患病，支出增加")
    row = AuditLog.objects.filter(model="assistance.entitlementchange").get()
    assert row.after["monthly_amount"] == "800.00" and row.actor == aa.approver
    services.stop_payment(aa.approver, case, effective_month=dt.date(2026, 7, 1), reason="收入超过标准")
    stop_row = AuditLog.objects.filter(model="assistance.entitlement", action="update").get()
    assert stop_row.after["stop_month"] == "2026-07-01"
    assert AuditLog.objects.count() > before + 8


def test_raise_without_reason_is_refused(aa, clock):
    clock.set(at(dt.date(2026, 3, 2)))
    case = services.approve(aa.approver, to_submitted(aa, clock))
    m.Case.objects.filter(pk=case.pk).update(state=ewf.PAYING)
    with pytest.raises(ewf.MissingReasonError):
        services.change_payment(aa.approver, case, action="raise", monthly_amount="900", effective_month=dt.date(2026, 5, 1),
                                reason="")
    assert not m.EntitlementChange.objects.exists()


def test_grid_report_routes_to_a_department_as_a_tracked_referral(aa):
    rep = services.grid_report(aa.worker_a, applicant=aa.applicant, route="medical", description="大病住院，需医疗救助")
    ref = rep.referral
    assert rep.status == "referred" and ref.status == "sent" and ref.due_on > services.today()
    assert ref.department == "medical" and not m.Case.objects.exists()
    services.update_referral(aa.worker_a, ref, status="received", response="医保局已接收")
    ref.refresh_from_db()
    assert ref.status == "received"


def test_grid_report_for_civil_affairs_waits_for_acceptance(aa):
    rep = services.grid_report(aa.worker_a, applicant=aa.applicant, route="temp_aid", description="突发火灾",
                               requested_amount="800", lat=30.5, lon=117.0)
    assert rep.status == "new" and not m.Case.objects.exists()
    case = services.accept_report(aa.reviewer, rep)
    rep.refresh_from_db()
    assert rep.status == "accepted" and rep.case == case and rep.handled_by == aa.reviewer
    assert case.channel == "grid" and case.state == "accepted" and case.grant_amount == Decimal("800.00")
    assert case.location_lat == 30.5 and case.history.get().actor == aa.reviewer
    with pytest.raises(services.AssistanceError):
        services.accept_report(aa.reviewer, rep)
    other = services.grid_report(aa.worker_a, applicant=aa.applicant, route="dibao_urban", description="重复上报")
    with pytest.raises(services.AssistanceError):
        services.dismiss_report(aa.worker_a, other, reason="")
    services.dismiss_report(aa.worker_a, other, reason="与已受理案件重复")
    other.refresh_from_db()
    assert other.status == "dismissed" and other.case is None


def test_standard_from_a_future_date_changes_only_later_assessments(aa, clock):
    clock.set(at(dt.date(2026, 3, 2)))
    case = to_submitted(aa, clock)
    services.add_standard(aa.approver, division=aa.district, program="dibao_urban", key="dibao_monthly",
                          value=Decimal("1200.00"), effective_from=dt.date(2026, 7, 1), source="区政府文件")
    assert services.assess(case, dt.date(2026, 6, 30)).monthly_amount == Decimal("700.00")
    assert services.assess(case, dt.date(2026, 7, 1)).monthly_amount == Decimal("900.00")
    with pytest.raises(services.AssistanceError):
        services.add_standard(aa.approver, division=aa.district, program="dibao_urban", key="dibao_monthly",
                              value=Decimal("1300.00"), effective_from=dt.date(2026, 1, 1))
    # a street override wins over the district for cases in that street
    services.add_standard(None, division=aa.street1, program="dibao_urban", key="dibao_monthly",
                          value=Decimal("1100.00"), effective_from=dt.date(2026, 1, 1), allow_past=True)
    assert services.assess(case, dt.date(2026, 6, 30)).monthly_amount == Decimal("800.00")


def test_window_intake_by_id_number_through_the_view(aa, client):
    client.force_login(aa.worker_a)
    r = client.post(reverse("assistance:case_new"), {
        "program": "dibao_urban", "channel": "window", "id_number": aa.applicant.id_number,
        "reason": "失业", "wage_income": "300", "deposits": "500"})
    assert r.status_code == 302
    case = m.Case.objects.get()
    assert case.applicant == aa.applicant and case.channel == "window" and case.state == "accepted"
    assert case.monthly_amount == Decimal("700.00") and case.due_step == "review"
    # someone outside the worker's area cannot be found by ID number
    other = ResidentFactory(division=aa.comm_c)
    r = client.post(reverse("assistance:case_new"), {"program": "dibao_urban", "channel": "window",
                                                     "id_number": other.id_number, "reason": "x"})
    assert r.status_code == 200 and m.Case.objects.count() == 1


def test_mobile_report_registers_a_new_person_with_photo_and_location(aa, client, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import image_bytes, new_id_number

    settings.VAR_DIR = tmp_path
    client.force_login(aa.worker_a)
    number = new_id_number(dt.date(1958, 2, 3), "F")
    photo = SimpleUploadedFile("p.jpg", image_bytes("JPEG"), content_type="image/jpeg")
    r = client.post(reverse("assistance:report"), {
        "new_name": "赵新人", "new_id_number": number, "route": "temp_aid", "description": "家中失火",
        "requested_amount": "800", "lat": "30.5", "lon": "117.1", "photos": [photo]})
    assert r.status_code == 302, r.content.decode()[:500]
    rep = m.GridReport.objects.get()
    assert rep.resident.name == "赵新人" and rep.resident.division == aa.comm_a and rep.photos.count() == 1
    photo = rep.photos.get()
    served = client.get(reverse("assistance:photo", args=[photo.pk]))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff" and served["Content-Security-Policy"] == "sandbox"
    assert "赵新人" in client.get(reverse("assistance:reports")).content.decode()
    r = client.post(reverse("assistance:report_action", args=[rep.pk, "accept"]), {"program": "temp_aid"})
    case = m.Case.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("assistance:case", args=[case.pk])
    assert case.channel == "grid" and case.location_lat == 30.5 and list(case.photos.all()) == [photo]
    client.force_login(aa.worker_b)
    assert client.get(reverse("assistance:photo", args=[photo.pk])).status_code == 404
    assert client.post(reverse("assistance:report_action", args=[rep.pk, "dismiss"]), {"reason": "x"}).status_code == 404


def test_survey_records_household_members_per_article_7(aa, client):
    spouse = ResidentFactory(division=aa.comm_a, name="王妻", household=aa.applicant.household, relation="spouse",
                             birth_date=dt.date(1972, 1, 1))
    son = ResidentFactory(division=aa.comm_a, name="王子", household=aa.applicant.household, relation="child",
                          birth_date=dt.date(2003, 1, 1))
    case = services.intake(aa.worker_a, program="dibao_urban", applicant=aa.applicant)
    client.force_login(aa.worker_a)
    form = client.get(reverse("assistance:action", args=[case.pk, "survey"])).content.decode()
    assert "王妻" in form and "王子" in form and 'data-testid="member-facts"' in form
    data = {"visited_on": "2026-06-01", "visitors": "甲、乙", "notes": "走访", "wage_income": "900",
            f"m{son.pk}_student": "on"}
    assert client.post(reverse("assistance:action", args=[case.pk, "survey"]), data).status_code == 302
    case.refresh_from_db()
    assert case.facts["members"][str(son.pk)]["full_time_student"] is True
    # the adult son is counted because he is a full-time student: 3 persons, (1000 - 900/3) x 3
    assert case.persons == 3 and case.monthly_amount == Decimal("2100.00")
    # without the student flag the adult son lives independently and is not counted; a spouse in prison neither
    case.facts["members"][str(son.pk)]["full_time_student"] = False
    assert services.assess(case).persons == 2
    case.facts["members"][str(spouse.pk)]["exclusion"] = "imprisoned"
    assert services.assess(case).persons == 1


def test_without_standards_intake_is_refused_with_a_clear_message(area, client):
    applicant = ResidentFactory(division=area.comm_a)
    with pytest.raises(services.AssistanceError):
        services.intake(area.worker_a, program="dibao_urban", applicant=applicant)
    client.force_login(area.worker_a)
    r = client.post(reverse("assistance:case_new"), {"program": "dibao_urban", "channel": "window",
                                                     "id_number": applicant.id_number, "reason": "x"})
    assert r.status_code == 200 and "seed_assistance" in r.content.decode() and not m.Case.objects.exists()


def test_approver_adds_a_dated_standard_through_the_page_and_workers_cannot(aa, clock, client):
    clock.set(at(dt.date(2026, 6, 1)))
    client.force_login(aa.approver)
    data = {"division": aa.street1.pk, "program": "dibao_urban", "key": "dibao_monthly", "value": "1050.00",
            "effective_from": "2026-07-01", "source": "一街道2026年第3号"}
    assert client.post(reverse("assistance:standards"), data).status_code == 302
    row = m.Standard.objects.get(division=aa.street1)
    assert row.value == "1050.00" and row.created_by == aa.approver
    assert AuditLog.objects.filter(model="assistance.standard", object_id=str(row.pk), actor=aa.approver).exists()
    page = client.get(reverse("assistance:standards")).content.decode()
    assert "一街道2026年第3号" in page
    bad = dict(data, value="not a number", effective_from="2026-08-01")
    assert client.post(reverse("assistance:standards"), bad).status_code == 200
    assert m.Standard.objects.filter(division=aa.street1).count() == 1
    client.force_login(aa.worker_a)
    assert client.post(reverse("assistance:standards"), dict(data, effective_from="2026-09-01")).status_code == 403


def test_only_photos_are_accepted_and_served_safely(aa, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.VAR_DIR = tmp_path
    svg = SimpleUploadedFile("x.svg", b"<svg onload=alert(1)>", content_type="image/svg+xml")
    with pytest.raises(services.AssistanceError):
        services.grid_report(aa.worker_a, applicant=aa.applicant, route="dibao_urban", description="x", photos=[svg])
    assert not m.GridReport.objects.exists() and not m.Photo.objects.exists()


def test_deadline_digest_lists_overdue_cases_by_township(aa, clock):
    import io

    from django.core.management import call_command

    clock.set(at(dt.date(2026, 3, 2)))
    late = services.intake(aa.worker_a, program="dibao_urban", applicant=aa.applicant)
    clock.set(at(dt.date(2026, 4, 15)))  # far beyond the 15 working days of the review step
    fresh = services.intake(aa.worker_a, program="dibao_urban", applicant=ResidentFactory(division=aa.comm_a))
    out = io.StringIO()
    call_command("assistance_deadlines", "--level", "2", stdout=out)
    text = out.getvalue()
    assert "一街道" in text and late.number in text and fresh.number not in text
    assert "escalated" in text and "1 cases at level >= 2" in text
