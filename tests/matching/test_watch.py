"""Payment holds, the asset / income / paid-twice feeds, dynamic monitoring and targeted discovery, with planted
cases in department files loaded through the shared import pipeline."""
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from carenet.assistance import models as am
from carenet.core import pii
from carenet.core.models import AuditLog
from carenet.matching import discovery, monitoring
from carenet.matching import models as m
from carenet.matching import services
from carenet.matching import todo as mtodo
from carenet.people.models import Resident
from tests.assistance.test_django_payroll import aa, clock, run  # noqa: F401 (fixtures)
from tests.factories import ResidentFactory
from tests.matching.test_flow import deaths_csv, paying_case

pytestmark = pytest.mark.django_db


def csv(header, rows) -> bytes:
    return ("\n".join([",".join(header)] + [",".join(str(c) for c in r) for r in rows]) + "\n").encode("gb18030")


def idn(r: Resident) -> str:
    return pii.decrypt(r.id_number_enc)


def source(aa, kind, name="部门数据"):
    return services.create_source(aa.admin, name=name, kind=kind, department="部门", division=aa.district)


# ------------------------------------------------------------------ holds

def test_confirmed_finding_holds_payment_payroll_skips_it_and_the_stop_releases(aa, clock):
    case = paying_case(aa, clock, months=2)
    ent = case.entitlement
    src = source(aa, m.Kind.DEATHS)
    services.load_file(aa.admin, src, deaths_csv([("王小明", idn(aa.applicant), ent.start_month.isoformat())]), "d.csv")
    f = m.Finding.objects.get()
    services.decide(aa.approver, f, confirm=True, reason="死亡属实")
    hold = am.PaymentHold.objects.get(entitlement=ent, released_at__isnull=True)
    assert "民生监察" in hold.reason and hold.source == f"matching.finding:{f.pk}"
    assert AuditLog.objects.filter(note="assistance.payment hold").exists()
    next_month = (am.LedgerLine.objects.filter(entitlement=ent).order_by("-period").first().period
                  + dt.timedelta(days=32)).replace(day=1)
    r = run(aa, clock, next_month)
    assert not am.LedgerLine.objects.filter(entitlement=ent, period=next_month, kind="normal").exists()
    assert "王小明" in r.log and "民生监察" in r.log  # the payroll says why it skipped
    from carenet.assistance import services as asv
    case.refresh_from_db()
    asv.stop_payment(aa.approver, case, effective_month=ent.start_month, reason="死亡")
    hold.refresh_from_db()
    assert hold.released_at is not None and "停发" in hold.release_reason


def test_hold_while_investigating_is_released_by_dismissal(aa, clock):
    case = paying_case(aa, clock, months=1)
    src = source(aa, m.Kind.DEATHS)
    services.load_file(aa.admin, src, deaths_csv([("王小明", idn(aa.applicant), "2020-01-01")]), "d.csv")
    f = m.Finding.objects.get()
    with pytest.raises(PermissionDenied):
        services.hold_while_investigating(aa.reviewer, f, reason="x")
    services.hold_while_investigating(aa.approver, f, reason="死亡证明在案")
    assert services.holds_of(f)
    services.decide(aa.approver, f, confirm=False, reason="同名不同人")
    assert not services.holds_of(f) and not am.PaymentHold.objects.filter(entitlement__case=case, released_at__isnull=True).exists()


# ------------------------------------------------------------------ asset, income and paid-twice feeds

def test_asset_income_and_benefit_feeds_raise_their_findings(aa, clock):
    case = paying_case(aa, clock, months=1)
    me = aa.applicant
    bystander = ResidentFactory(division=aa.comm_a, name="赵无关")
    # assets: a vehicle (limit 0 vehicles) for the beneficiary; a vehicle of someone not assisted: nothing
    load = services.load_file(aa.admin, source(aa, m.Kind.ASSETS, "车辆登记"), csv(
        ["姓名", "身份证号", "财产类型", "财产描述", "价值"],
        [(me.name, idn(me), "车辆", "小型轿车 皖A12345", "86000"), (bystander.name, idn(bystander), "车辆", "货车", "50000"),
         ("坏行", idn(me), "车辆", "x", "很多")]), "cars.xlsx.csv")
    assert load.accepted == 2 and load.rejects and "数" in load.rejects[0]["reason"]
    f = m.Finding.objects.get(rule="assets_over_limit")
    assert f.case_id == case.pk and any("超过0辆" in e for e in f.evidence)
    # income: department data show 3,000 a month; the case declared nothing for him
    services.load_file(aa.admin, source(aa, m.Kind.INCOME, "社保缴费工资"), csv(
        ["姓名", "身份证号", "月收入", "employer"], [(me.name, idn(me), "3000", "某公司")]), "pay.csv")
    f = m.Finding.objects.get(rule="income_underdeclared")
    assert "3000" in f.summary and "某公司" in f.evidence[0]
    # paid twice: another county's roll pays him 低保 as well
    services.load_file(aa.admin, source(aa, m.Kind.BENEFITS, "邻县低保名册"), csv(
        ["姓名", "身份证号", "救助项目", "发放地区", "月发放金额"], [(me.name, idn(me), "城市低保", "邻县", "700")]), "roll.csv")
    f = m.Finding.objects.get(rule="paid_twice")
    assert "两个地区" in f.summary and any("邻县" in e for e in f.evidence)
    assert m.Finding.objects.count() == 3


# ------------------------------------------------------------------ dynamic monitoring

def household(aa, head_name="钱大", members=()):
    from carenet.people.models import Household
    hh = Household.objects.create(division=aa.comm_a, address="甲社区1号")
    head = ResidentFactory(division=aa.comm_a, name=head_name, household=hh, relation="head", birth_date=dt.date(1975, 3, 1))
    others = [ResidentFactory(division=aa.comm_a, name=n, household=hh, relation=rel, birth_date=b) for n, rel, b in members]
    return hh, head, others


def test_medical_costs_raise_an_explained_alert_for_the_worker_who_follows_it_up(aa):
    hh, head, (child,) = household(aa, members=[("钱小", "child", dt.date(2005, 1, 1))])
    today = monitoring.today()
    load = services.load_file(aa.admin, source(aa, m.Kind.MEDICAL, "医保结算"), csv(
        ["姓名", "身份证号", "结算日期", "个人自付"],
        [(head.name, idn(head), today.isoformat(), "15000"), (head.name, idn(head), today.isoformat(), "9000.5")]), "bills.csv")
    assert load.linked == 2
    a = m.RiskAlert.objects.get()
    assert a.household_id == hh.pk and a.resident == head and a.signals == ["illness"] and a.score == 40
    assert "24000.5" in a.reasons[0]["text"] and "20000" in a.reasons[0]["text"]  # which figure, which threshold
    assert a.assigned_to == aa.worker_a and a.deadline == today + dt.timedelta(days=10)
    items = mtodo.items_for(aa.worker_a)
    assert any(head.name in i.title for i in items) and not mtodo.items_for(aa.worker_b)
    # a second bill of the same household: the open alert is refreshed, not duplicated
    services.load_file(aa.admin, source(aa, m.Kind.UNEMPLOYMENT, "失业登记"), csv(
        ["姓名", "身份证号", "失业登记日期"], [(child.name, idn(child), today.isoformat())]), "u.csv")
    a.refresh_from_db()
    assert m.RiskAlert.objects.count() == 1 and a.score == 65 and "unemployment" in a.signals
    with pytest.raises(PermissionDenied):
        monitoring.record_visit(aa.worker_b, a, visited_on=today, notes="x")  # another community
    with pytest.raises(services.MatchingError):
        monitoring.no_need(aa.worker_a, a, reason=" ")
    monitoring.record_visit(aa.worker_a, a, visited_on=today, notes="家中有重病人，收入骤减")
    a = monitoring.admit(aa.worker_a, a, program="temp_aid", reason="大病支出")
    assert a.status == "admitted" and a.case.applicant == head and a.case.channel == "grid"
    assert AuditLog.objects.filter(note="matching.risk admitted").exists()
    with pytest.raises(services.MatchingError):
        monitoring.no_need(aa.worker_a, a, reason="已处理")


def test_death_of_main_earner_and_study_signals_and_no_need_is_not_asked_again(aa):
    hh, head, (wife, son) = household(aa, members=[("孙妻", "spouse", dt.date(1976, 1, 1)), ("孙子", "child", dt.date(2006, 5, 5))])
    today = monitoring.today()
    services.load_file(aa.admin, source(aa, m.Kind.DEATHS), deaths_csv([(head.name, idn(head), today.isoformat())]), "d.csv")
    a = m.RiskAlert.objects.get()
    assert a.signals == ["earner_death"] and a.resident == wife  # the alert is about the living
    monitoring.no_need(aa.worker_a, a, reason="有抚恤金，生活无忧")
    services.load_file(aa.admin, source(aa, m.Kind.DEATHS, "殡葬"), deaths_csv([(head.name, idn(head), today.isoformat())]), "d.csv")
    assert m.RiskAlert.objects.count() == 1  # the same signals after "no need": not raised again
    # a child in higher education alone is not a risk unless the household is low-income
    services.load_file(aa.admin, source(aa, m.Kind.SCHOOL, "教育"), csv(
        ["姓名", "身份证号", "就读学校", "学历层次"], [(son.name, idn(son), "某大学", "本科")]), "s.csv")
    assert m.RiskAlert.objects.count() == 1


def test_escalation_and_figures_by_street(aa):
    hh, head, _ = household(aa)
    services.load_file(aa.admin, source(aa, m.Kind.DISASTER, "应急受灾"), csv(
        ["姓名", "身份证号", "灾种", "损失金额"], [(head.name, idn(head), "洪涝", "30000")]), "z.csv")
    a = m.RiskAlert.objects.get()
    assert "洪涝" in a.reasons[0]["text"]
    later = a.deadline + dt.timedelta(days=6)
    assert monitoring.escalate_overdue(later) == 1 and monitoring.escalate_overdue(later) == 0
    signals, rows = monitoring.figures(aa.admin)
    assert rows == [{"street": "一街道", **{s: 0 for s in signals}, "disaster": 1, "total": 1, "open": 1, "overdue": 0}]


# ------------------------------------------------------------------ targeted discovery

def test_all_disabled_household_screen_visit_plan_and_steps(aa, clock):
    hh, head, (wife,) = household(aa, "周父", members=[("周母", "spouse", dt.date(1978, 1, 1))])
    hh2, head2, (son2,) = household(aa, "吴父", members=[("吴子", "child", dt.date(2000, 1, 1))])
    services.load_file(aa.admin, source(aa, m.Kind.DISABILITY, "残联残疾人名册"), csv(
        ["姓名", "身份证号", "残疾等级", "残疾类别"],
        [(head.name, idn(head), "一级", "肢体"), (wife.name, idn(wife), "2级", "视力"),
         (head2.name, idn(head2), "一级", "肢体"), (son2.name, idn(son2), "三级", "听力")]), "cl.csv")
    with pytest.raises(PermissionDenied):
        discovery.run_screen(aa.worker_a, code="all_disabled", params={}, division=aa.comm_a)
    r = discovery.run_screen(aa.reviewer, code="all_disabled", params={"max_grade": "2"}, division=aa.street1)
    assert (r.found, r.new) == (1, 1)
    d = m.Discovery.objects.get()
    assert d.household_id == hh.pk and any("周母" in e and "2级" in e for e in d.evidence)
    assert discovery.run_screen(aa.reviewer, code="all_disabled", params={}, division=aa.street1).new == 0
    r3 = discovery.run_screen(aa.reviewer, code="all_disabled", params={"max_grade": "3"}, division=aa.street1)
    assert r3.found == 2 and r3.new == 1
    with pytest.raises(services.MatchingError):
        discovery.run_screen(aa.reviewer, code="all_disabled", params={"max_grade": "九"}, division=aa.street1)
    with pytest.raises(services.MatchingError):
        discovery.set_plan(aa.worker_a, d, plan="先走访")  # the visit comes first
    today = discovery.today()
    discovery.record_visit(aa.worker_a, d, visited_on=today, notes="夫妻均重度残疾，无收入")
    discovery.set_plan(aa.worker_a, d, plan="申请特困供养；申请重度残疾人护理补贴；安排助餐")
    s1 = discovery.add_step(aa.worker_a, d, measure="申请特困供养", owner="甲社区 张", due=today)
    s2 = discovery.add_step(aa.worker_a, d, measure="安排助餐", owner="助餐点", due=today + dt.timedelta(days=7))
    assert any("申请特困供养" in i.title for i in mtodo.items_for(aa.worker_a))
    discovery.update_step(aa.worker_a, s1, status="done", note="已受理")
    d.refresh_from_db()
    assert d.status == "planned"
    discovery.update_step(aa.worker_a, s2, status="done")
    d.refresh_from_db()
    assert d.status == "done" and AuditLog.objects.filter(note="matching.discovery plan done").exists()


def test_pages_of_monitoring_and_discovery(aa, client):
    from tests.factories import PASSWORD
    hh, head, _ = household(aa)
    services.load_file(aa.admin, source(aa, m.Kind.DISASTER, "应急受灾"), csv(
        ["姓名", "身份证号", "灾种", "损失金额"], [(head.name, idn(head), "洪涝", "30000")]), "z.csv")
    a = m.RiskAlert.objects.get()
    client.login(username="worker_b", password=PASSWORD)
    assert client.get(f"/matching/risk/{a.pk}/").status_code == 404
    client.login(username="worker_a", password=PASSWORD)
    page = client.get("/matching/risk/").content.decode()
    assert head.name in page and "因灾" in page and "一街道" in page
    resp = client.post(f"/matching/risk/{a.pk}/", {"action": "no_need", "reason": ""}, follow=True)
    assert resp.status_code == 200 and m.RiskAlert.objects.get().status == "open"
    assert client.get("/matching/risk/?export=xlsx")["Content-Type"].startswith("application/vnd.openxml")
    assert client.get("/matching/screens/").status_code == 200
    assert client.get("/matching/").status_code == 403  # department data is not the worker's
    client.login(username="operator1", password=PASSWORD)
    assert client.get("/matching/risk/").status_code == 403
