"""Payroll job, ledger, bank file, figures, public notice and the pages around them."""
import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from carenet.assistance import adapter, jobs, selectors, services
from carenet.assistance import models as m
from carenet.assistance.engine import eligibility as elig
from carenet.assistance.engine import workflow as ewf
from carenet.core.models import AuditLog
from carenet.core.roles import Role
from tests.factories import ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db

POOR = {"incomes": [{"type": "wage", "amount": "300.00"}], "assets": {"deposits": "1000"},
        "bank_account": "6228480012345678901"}


@pytest.fixture
def aa(area):
    services.seed_default_standards(area.district)
    area.approver = UserFactory(username="approver1", role=Role.APPROVER, division=area.district)
    area.applicant = ResidentFactory(division=area.comm_a, name="王小明", birth_date=dt.date(1970, 5, 1))
    return area


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        at = None

        def set(self, day, hour=10):
            self.at = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))

    c = Clock()
    real = adapter.now
    monkeypatch.setattr(adapter, "now", lambda: c.at or real())
    return c


def approved_case(aa, clock, day=dt.date(2026, 3, 2), applicant=None, facts=POOR, worker=None, reviewer=None):
    worker, reviewer = worker or aa.worker_a, reviewer or aa.reviewer
    clock.set(day)
    case = services.intake(worker, program="dibao_urban", applicant=applicant or aa.applicant)
    case = services.record_survey(worker, case, visited_on=day, visitors="甲、乙", notes="走访", facts=facts)
    case = services.review(reviewer, case, recommend=True, opinion="同意")
    case = services.start_notice(reviewer, case)
    clock.set(case.notice_ends_on + dt.timedelta(days=1))
    case = services.submit(reviewer, case)
    clock.set(case.notice_ends_on + dt.timedelta(days=3))
    return services.approve(aa.approver, case)


def run(aa, clock, month: dt.date, program="*", area=None):
    clock.set(month.replace(day=5))
    r = services.start_payroll(aa.approver, run_month=month, program=program, area=area or aa.district)
    return jobs.execute(r.pk)


def test_payroll_job_pays_from_the_month_after_approval_and_is_idempotent(aa, clock):
    case = approved_case(aa, clock)
    ent = case.entitlement
    assert ent.start_month.month == case.history.get(action="approve").at.month + 1
    before = run(aa, clock, ent.start_month - dt.timedelta(days=1))  # the approval month itself pays nothing
    assert before.status == "done" and before.lines == 0
    first = run(aa, clock, ent.start_month)
    assert first.status == "done" and first.progress == 100
    assert first.lines == 1 and first.total == case.monthly_amount
    line = m.LedgerLine.objects.get()
    assert (line.kind, line.period, line.amount) == ("normal", ent.start_month, case.monthly_amount)
    case.refresh_from_db()
    assert case.state == ewf.PAYING and case.history.last().action == "start_payment"
    again = run(aa, clock, ent.start_month)
    assert again.status == "done" and again.lines == 0 and again.total == 0
    assert m.LedgerLine.objects.count() == 1
    assert "台账" in again.log and "完成" in again.log and "done" not in again.log


def test_back_pay_and_recovery_after_retroactive_changes(aa, clock):
    case = approved_case(aa, clock)
    start = case.entitlement.start_month  # April
    months = [start.replace(month=start.month + i) for i in range(6)]  # Apr..Sep
    for mo in months[:3]:
        run(aa, clock, mo)
    case.refresh_from_db()
    old = case.monthly_amount
    paid = {l.period: l.amount for l in m.LedgerLine.objects.all()}
    assert set(paid) == set(months[:3])
    # raise from May, decided in June after June was paid: July pays July + back pay for May and June
    clock.set(months[2].replace(day=20))
    new = old + Decimal("120.00")
    services.change_payment(aa.approver, case, action="raise", monthly_amount=new, effective_month=months[1],
                            reason="家庭成员患病")
    run(aa, clock, months[3])
    lines = {(l.period, l.kind): l.amount for l in m.LedgerLine.objects.filter(run_month=months[3])}
    assert lines == {(months[1], "back_pay"): new - old, (months[2], "back_pay"): new - old,
                     (months[3], "normal"): new}
    # paid lines were never edited
    assert {l.period: l.amount for l in m.LedgerLine.objects.filter(run_month__lt=months[3])} == paid
    # stop from August, decided in September after August was paid: recovery of August
    run(aa, clock, months[4])
    clock.set(months[5].replace(day=2))
    services.stop_payment(aa.approver, case, effective_month=months[4], reason="人均收入超过标准")
    sep = run(aa, clock, months[5])
    rec = m.LedgerLine.objects.filter(run_month=months[5])
    assert [(l.period, l.kind, l.amount) for l in rec] == [(months[4], "recovery", -new)]
    assert sep.total == -new
    # net per period: what is owed
    net = {}
    for l in m.LedgerLine.objects.all():
        net[l.period] = net.get(l.period, 0) + l.amount
    assert net[months[0]] == old and net[months[1]] == new and net[months[4]] == 0
    case.refresh_from_db()
    assert case.state == ewf.CLOSED
    # every payroll run and every payment change left an audit row
    assert AuditLog.objects.filter(model="assistance.payrollrun", note="assistance.payroll lines written").count() == 6
    assert AuditLog.objects.filter(note__startswith="assistance.payment").count() == 2


def test_a_second_run_for_the_same_month_and_area_is_refused_while_one_is_open(aa, clock):
    clock.set(dt.date(2026, 4, 5))
    services.start_payroll(aa.approver, run_month=dt.date(2026, 4, 1), program="*", area=aa.district)
    with pytest.raises(services.AssistanceError):
        services.start_payroll(aa.approver, run_month=dt.date(2026, 4, 1), program="dibao_urban", area=aa.street1)
    # another month is fine
    services.start_payroll(aa.approver, run_month=dt.date(2026, 5, 1), program="*", area=aa.district)


def test_payroll_page_runs_the_job_and_progress_bank_file_ledger_and_figures(aa, clock, client, monkeypatch):
    case = approved_case(aa, clock)
    reviewer_c = UserFactory(username="reviewer_c", role=Role.REVIEWER, division=aa.street2)
    other = approved_case(aa, clock, applicant=ResidentFactory(division=aa.comm_c, name="丙申请人"),
                          worker=reviewer_c, reviewer=reviewer_c)
    month = case.entitlement.start_month
    clock.set(month.replace(day=3))
    monkeypatch.setattr(jobs, "launch", lambda r: jobs.execute(r.pk))  # no thread inside a test transaction
    client.force_login(aa.approver)
    r = client.post(reverse("assistance:payroll"), {"run_month": month.strftime("%Y-%m"), "program": "*",
                                                    "area": aa.district.pk})
    assert r.status_code == 302
    run_obj = m.PayrollRun.objects.get()
    progress = client.get(reverse("assistance:run", args=[run_obj.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="done"' in progress and "100%" in progress and "hx-trigger" not in progress
    body = client.get(reverse("assistance:bank_file", args=[run_obj.pk, "csv"])).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == 3
    by_name = {row[1]: row for row in rows[1:]}
    assert Decimal(by_name["王小明"][4]) == case.monthly_amount and by_name["王小明"][3] == POOR["bank_account"]
    assert AuditLog.objects.filter(action="export", note="assistance.bank file csv").count() == 1
    xlsx = client.get(reverse("assistance:bank_file", args=[run_obj.pk, "xlsx"]))
    assert load_workbook(io.BytesIO(xlsx.content)).active.max_row == 3
    ledger = client.get(reverse("assistance:ledger")).content.decode()
    assert ledger.count('data-testid="ledger-row"') == 2
    figures = client.get(reverse("assistance:figures") + f"?month={month:%Y-%m}").content.decode()
    total = (case.monthly_amount + other.monthly_amount) / 10000
    assert f"城乡低保2户2人, 累计发放资金{total:.2f}万" in figures
    assert "新增1户1人" in figures  # one added household in each township
    # a worker of community A sees only A's ledger line; the bank file needs the payroll capability
    client.force_login(aa.worker_a)
    assert client.get(reverse("assistance:ledger")).content.decode().count('data-testid="ledger-row"') == 1
    assert client.get(reverse("assistance:bank_file", args=[run_obj.pk, "csv"])).status_code == 403


def test_dynamic_adjustments_count_added_and_stopped(aa, clock):
    case = approved_case(aa, clock)
    start = case.entitlement.start_month
    run(aa, clock, start)
    adj = selectors.adjustments(aa.approver, start)
    assert [(a["adj"].added_households, a["adj"].added_persons, a["adj"].stopped_households) for a in adj] == [(1, 1, 0)]
    stop_month = start.replace(month=start.month + 2)
    clock.set(start.replace(day=20))
    services.stop_payment(aa.approver, case, effective_month=stop_month, reason="迁出本区")
    adj = selectors.adjustments(aa.approver, stop_month)
    assert [(a["adj"].added_households, a["adj"].stopped_households, a["adj"].stopped_persons) for a in adj] == [(0, 1, 1)]


def test_public_notice_masks_names_in_page_and_excel(aa, clock, client):
    clock.set(dt.date(2026, 6, 1))
    case = services.intake(aa.worker_a, program="dibao_urban", applicant=aa.applicant)
    case = services.record_survey(aa.worker_a, case, visited_on=services.today(), visitors="甲、乙", notes="走访",
                                  facts=POOR)
    case = services.review(aa.reviewer, case, recommend=True, opinion="同意")
    services.start_notice(aa.reviewer, case)
    client.force_login(aa.reviewer)
    page = client.get(reverse("assistance:notice")).content.decode()
    assert "王*明" in page and "王小明" not in page
    wb = load_workbook(io.BytesIO(client.get(reverse("assistance:notice_export")).content))
    cells = [str(c.value) for row in wb.active.iter_rows() for c in row if c.value]
    assert "王*明" in cells and not any("王小明" in c for c in cells)
    assert AuditLog.objects.filter(action="export", note="assistance.notice export").count() == 1


def test_every_page_renders_for_each_role(aa, clock, client):
    case = approved_case(aa, clock)
    services.refer(aa.worker_a, resident=aa.applicant, department="housing", need="房屋漏雨")
    for user in (aa.approver, aa.reviewer, aa.worker_a, aa.supervisor):
        client.force_login(user)
        for name in ("cases", "notice", "payroll", "ledger", "figures", "standards", "relatives", "referrals"):
            assert client.get(reverse(f"assistance:{name}")).status_code == 200, (user.username, name)
        assert client.get(reverse("assistance:case", args=[case.pk])).status_code == 200
    client.force_login(aa.worker_a)
    for name in ("case_new", "report"):
        assert client.get(reverse(f"assistance:{name}")).status_code == 200
    client.force_login(aa.operator)
    assert client.get(reverse("assistance:cases")).status_code == 403


def test_a_standard_from_a_future_date_changes_payments_from_that_date_never_earlier(aa, clock):
    case = approved_case(aa, clock)
    start = case.entitlement.start_month  # April
    run(aa, clock, start)
    old = case.monthly_amount
    clock.set(start.replace(day=20))
    july = start.replace(month=start.month + 3)
    row = services.add_standard(aa.approver, division=aa.district, program="dibao_urban", key="dibao_monthly",
                                value=Decimal("1100.00"), effective_from=july, source="区政府2026年第5号")
    assert row.restated == 1 and row.needs_decision == []
    change = m.EntitlementChange.objects.get()
    expected = services.assess(case, july).monthly_amount
    assert change.effective_month == july and change.monthly_amount == expected and expected > old
    for mo in (start.replace(month=start.month + i) for i in range(1, 5)):
        run(aa, clock, mo)
    paid = {l.period: (l.kind, l.amount) for l in m.LedgerLine.objects.all()}
    assert all(paid[p] == ("normal", old) for p in paid if p < july)
    assert all(paid[p] == ("normal", expected) for p in paid if p >= july)
    assert not m.LedgerLine.objects.exclude(kind="normal").exists()


def test_a_standard_that_ends_eligibility_asks_for_a_stop_decision(aa, clock):
    case = approved_case(aa, clock)
    clock.set(case.entitlement.start_month.replace(day=20))
    row = services.add_standard(aa.approver, division=aa.district, program="dibao_urban", key="dibao_monthly",
                                value=Decimal("250.00"), effective_from=services.today() + dt.timedelta(days=40),
                                source="test")
    assert row.restated == 0 and row.needs_decision == [case.pk]
    assert not m.EntitlementChange.objects.exists()


def test_decision_buttons_follow_delegation(aa, clock, client):
    reviewer2 = UserFactory(username="reviewer2", role=Role.REVIEWER, division=aa.street1)
    clock.set(dt.date(2026, 3, 2))
    case = services.intake(aa.worker_a, program="dibao_urban", applicant=aa.applicant)
    case = services.record_survey(aa.worker_a, case, visited_on=services.today(), visitors="甲、乙", notes="走访", facts=POOR)
    case = services.review(aa.reviewer, case, recommend=True, opinion="同意")
    case = services.start_notice(aa.reviewer, case)
    clock.set(case.notice_ends_on + dt.timedelta(days=1))
    case = services.submit(aa.reviewer, case)
    assert "approve" not in selectors.allowed_actions(reviewer2, case)
    assert "approve" in selectors.allowed_actions(aa.approver, case)
    services.add_standard(None, division=aa.district, program="*", key="approval_delegated_to_township",
                          value=True, effective_from=dt.date(2026, 1, 1), allow_past=True)
    assert "approve" in selectors.allowed_actions(reviewer2, case)


def test_recheck_cycle_and_a_lower_decided_during_recheck(aa, clock):
    case = approved_case(aa, clock)
    run(aa, clock, case.entitlement.start_month)
    case.refresh_from_db()
    assert case.state == ewf.PAYING and case.next_recheck_on > case.history.get(action="approve").at.date()
    clock.set(case.next_recheck_on)
    case = services.start_recheck(aa.reviewer, case)
    assert case.state == ewf.RECHECK and case.due_step == "recheck" and case.due_on > services.today()
    case = services.complete_recheck(aa.reviewer, case, notes="家庭情况无变化")
    assert case.state == ewf.PAYING and case.next_recheck_on > services.today()
    case = services.start_recheck(aa.reviewer, case)
    new = case.monthly_amount - Decimal("100.00")
    case = services.change_payment(aa.approver, case, action="lower", monthly_amount=new,
                                   effective_month=services.today().replace(day=1), reason="家庭成员就业，收入增加")
    assert case.state == ewf.PAYING and case.monthly_amount == new
    assert case.entitlement.changes.get().monthly_amount == new


def test_run_payroll_command_runs_queued_jobs(aa, clock):
    from django.core.management import call_command

    case = approved_case(aa, clock)
    clock.set(case.entitlement.start_month)
    r = services.start_payroll(aa.approver, run_month=case.entitlement.start_month, program="dibao_urban",
                               area=aa.street1)
    out = io.StringIO()
    call_command("run_payroll", "--pending", stdout=out)
    r.refresh_from_db()
    assert r.status == "done" and r.lines == 1 and f"run {r.pk}: done" in out.getvalue()


def test_a_failed_run_writes_nothing_and_can_run_again(aa, clock, client, monkeypatch):
    case = approved_case(aa, clock)
    month = case.entitlement.start_month
    clock.set(month)

    def broken(run, lines):
        raise RuntimeError("disk full")

    real = jobs.write_lines
    monkeypatch.setattr(jobs, "write_lines", broken)
    r = services.start_payroll(aa.approver, run_month=month, program="*", area=aa.district)
    r = jobs.execute(r.pk)
    assert r.status == "failed" and "disk full" in r.log and not m.LedgerLine.objects.exists()
    monkeypatch.setattr(jobs, "write_lines", real)
    monkeypatch.setattr(jobs, "launch", lambda run: jobs.execute(run.pk))
    client.force_login(aa.approver)
    assert 'data-testid="run-resume"' in client.get(reverse("assistance:run", args=[r.pk])).content.decode()
    client.post(reverse("assistance:run_resume", args=[r.pk]))
    r.refresh_from_db()
    assert r.status == "done" and r.lines == 1 and m.LedgerLine.objects.count() == 1


def test_first_aid_is_paid_this_month_and_approval_completes_the_paperwork(aa, clock, client):
    clock.set(dt.date(2026, 6, 10))
    case = services.intake(aa.worker_a, program="temp_aid", applicant=aa.applicant, reason="突发火灾",
                           facts={"temp_aid": {"aid_type": "emergency"}}, requested_amount="800")
    assert services.first_aid_possible(case)
    assert "first_aid" in selectors.allowed_actions(aa.reviewer, case)
    assert "first_aid" not in selectors.allowed_actions(aa.worker_a, case)
    # the approver pays it: whoever pays first aid has decided, and may not review the case (issue 9 §5)
    client.force_login(aa.approver)
    assert client.post(reverse("assistance:action", args=[case.pk, "first_aid"]), {"opinion": "急难，先行救助"}).status_code == 302
    case.refresh_from_db()
    ent = case.entitlement
    assert ent.start_month == dt.date(2026, 6, 1) and ent.monthly_amount == Decimal("800.00")
    assert case.history.last().action == "first_aid" and case.state == "accepted"
    assert not services.first_aid_possible(case)
    june = run(aa, clock, dt.date(2026, 6, 1))
    assert june.lines == 1 and june.total == Decimal("800.00")
    # the procedure follows; approval does not pay a second time
    case = services.record_survey(aa.worker_a, case, visited_on=services.today(), visitors="甲、乙", notes="补充调查",
                                  facts={"temp_aid": {"aid_type": "emergency"}})
    case = services.review(aa.reviewer, case, recommend=True, opinion="同意")
    case = services.start_notice(aa.reviewer, case)
    clock.set(case.notice_ends_on + dt.timedelta(days=1))
    case = services.submit(aa.reviewer, case)
    case = services.approve(aa.approver, case)
    assert m.Entitlement.objects.filter(case=case).count() == 1 and case.state == ewf.PAYING
    assert run(aa, clock, dt.date(2026, 7, 1)).lines == 0
    # a large grant is not first aid
    big = services.intake(aa.worker_a, program="temp_aid", applicant=ResidentFactory(division=aa.comm_a),
                          facts={"temp_aid": {"aid_type": "emergency"}}, requested_amount="4000")
    with pytest.raises(services.AssistanceError):
        services.pay_first_aid(aa.reviewer, big)


def test_old_age_allowance_moves_to_the_next_tier_after_the_birthday(aa, clock):
    elder = ResidentFactory(division=aa.comm_a, name="高龄甲", birth_date=dt.date(1936, 7, 15))  # 90 on 2026-07-15
    clock.set(dt.date(2026, 3, 2))
    case = services.intake(aa.worker_a, program="elderly_allowance", applicant=elder)
    case = services.record_survey(aa.worker_a, case, visited_on=services.today(), visitors="甲、乙", notes="走访")
    case = services.review(aa.reviewer, case, recommend=True, opinion="同意")
    case = services.start_notice(aa.reviewer, case)
    clock.set(case.notice_ends_on + dt.timedelta(days=1))
    case = services.approve(aa.approver, services.submit(aa.reviewer, case))
    tiers = {lo: amount for lo, hi, amount in elig.elderly_tiers(services.rules_for(aa.comm_a),
                                                                 services.path_codes(aa.comm_a), dt.date(2026, 7, 1))}
    assert case.monthly_amount == tiers[80]
    for month in range(4, 10):
        run(aa, clock, dt.date(2026, month, 1))
    paid = {l.period.month: l.amount for l in m.LedgerLine.objects.filter(entitlement=case.entitlement)}
    assert paid == {4: tiers[80], 5: tiers[80], 6: tiers[80], 7: tiers[80], 8: tiers[90], 9: tiers[90]}
    assert case.entitlement.changes.get().reason == "年龄进入高龄津贴新档次"
    assert "调档" in m.PayrollRun.objects.get(run_month=dt.date(2026, 7, 1)).log + \
        m.PayrollRun.objects.get(run_month=dt.date(2026, 8, 1)).log
