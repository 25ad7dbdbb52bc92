"""A deaths file against a paid beneficiary: finding, investigation, confirmation, recovery, re-check."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from carenet.assistance import models as am
from carenet.assistance.engine import workflow as ewf
from carenet.core import pii
from carenet.core.models import AuditLog
from carenet.matching import models as m
from carenet.matching import services
from tests.assistance.test_django_payroll import aa, approved_case, clock, run  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def paying_case(aa, clock, months=4):
    case = approved_case(aa, clock)
    month = case.entitlement.start_month
    for _ in range(months):
        run(aa, clock, month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    case.refresh_from_db()
    return case


def deaths_csv(rows):
    return ("姓名,公民身份号码,死亡日期\n" + "".join(f"{n},{i},{d}\n" for n, i, d in rows)).encode("gbk")


def test_deaths_file_raises_a_finding_and_confirmation_recovers_and_reopens(aa, clock):
    case = paying_case(aa, clock)
    assert case.state == ewf.PAYING
    ent = case.entitlement
    periods = list(am.LedgerLine.objects.filter(entitlement=ent).order_by("period").values_list("period", flat=True))
    death = periods[1] + dt.timedelta(days=10)  # died in the second month paid: two months are not owed
    src = services.create_source(aa.admin, name="公安死亡名单", kind=m.Kind.DEATHS, department="公安", division=aa.district)
    id_number = pii.decrypt(aa.applicant.id_number_enc)
    load = services.load_file(aa.admin, src, deaths_csv([("王小明", id_number, death.isoformat()),
                                                         ("查无此人", "12345", "2026-01-01")]), "deaths.csv")
    assert (load.version, load.rows, load.accepted, load.linked) == (1, 2, 1, 1)
    assert load.rejects[0]["row"] == 3 and "15" in load.rejects[0]["reason"]
    assert AuditLog.objects.filter(action="import", note__contains="公安死亡名单").exists()
    f = m.Finding.objects.get()
    assert f.rule == "paid_after_death" and f.case_id == case.pk
    assert f.amount == 2 * case.monthly_amount and len(f.months) == 2

    # a second load of the same file does not ask again
    again = services.load_file(aa.admin, src, deaths_csv([("王小明", id_number, death.isoformat())]), "deaths.csv")
    assert again.version == 2 and m.Finding.objects.count() == 1

    with pytest.raises(PermissionDenied):
        services.decide(aa.reviewer, f, confirm=True, reason="x")  # reviewers investigate, approvers decide
    services.investigate(aa.reviewer, f, notes="入户核实，已于该月去世")
    f = services.decide(aa.approver, f, confirm=True, reason="死亡证明属实")
    assert f.status == "confirmed"
    rec = am.LedgerLine.objects.filter(entitlement=ent, kind="recovery")
    assert sorted(rec.values_list("period", flat=True)) == periods[2:4]
    assert sum(rec.values_list("amount", flat=True)) == -f.amount
    case.refresh_from_db()
    assert case.state == ewf.RECHECK and "stop" in ewf.ACTIONS and case.history.last().action == "finding_recheck"
    recovery = f.recovery
    services.record_repayment(aa.reviewer, recovery, amount="100", paid_on=dt.date(2026, 9, 1))
    recovery.refresh_from_db()
    assert recovery.repaid == Decimal("100.00") and recovery.outstanding == f.amount - 100
    with pytest.raises(services.MatchingError):
        services.record_repayment(aa.reviewer, recovery, amount=str(f.amount), paid_on=dt.date(2026, 9, 2))


def test_investigator_cannot_decide_and_dismissal_needs_a_reason(aa, clock):
    case = paying_case(aa, clock, months=3)
    src = services.create_source(aa.admin, name="死亡", kind=m.Kind.DEATHS, department="卫健", division=aa.district)
    death = case.entitlement.start_month
    services.load_file(aa.admin, src, deaths_csv([("王小明", pii.decrypt(aa.applicant.id_number_enc), death.isoformat())]),
                       "d.csv")
    f = m.Finding.objects.get()
    with pytest.raises(services.MatchingError):
        services.decide(aa.approver, f, confirm=False, reason="  ")
    f = services.decide(aa.approver, f, confirm=False, reason="同名不同人")
    assert f.status == "dismissed" and not am.LedgerLine.objects.filter(kind="recovery").exists()
    case.refresh_from_db()
    assert case.state == ewf.PAYING


def test_unmapped_required_column_asks_for_the_mapping_which_is_saved_for_the_source(aa):
    from carenet.core.models import ColumnMapping
    from carenet.core.tabular import MappingNeeded

    src = services.create_source(aa.admin, name="死亡", kind=m.Kind.DEATHS, department="卫健", division=aa.district)
    other = services.create_source(aa.admin, name="殡葬", kind=m.Kind.DEATHS, department="民政", division=aa.district)
    data = "姓名,身份证号,殁日\n张三,340899197001010011,2026-01-03\n李四,12345,2026-01-04\n".encode()
    with pytest.raises(MappingNeeded) as e:
        services.load_file(aa.admin, src, data, "d.csv")
    assert "死亡日期" in str(e.value) and m.Load.objects.count() == 0
    load = services.load_file(aa.admin, src, data, "d.csv", mapping={"姓名": "name", "身份证号": "id_number", "殁日": "death_date"})
    assert (load.rows, load.accepted) == (2, 1) and "15" in load.rejects[0]["reason"] and load.import_run_id
    assert ColumnMapping.objects.filter(importer=f"matching.s{src.pk}").exists()
    again = services.load_file(aa.admin, src, data, "d2.csv")  # the saved mapping is used: no question
    assert again.version == 2
    with pytest.raises(MappingNeeded):  # the mapping belongs to that source, not to every deaths source
        services.load_file(aa.admin, other, data, "d.csv")


def test_staff_relative_flagged_for_the_same_township_not_for_another(aa, clock):
    case = paying_case(aa, clock, months=1)
    src = services.create_source(aa.admin, name="干部亲属", kind=m.Kind.STAFF, department="组织部", division=aa.district)
    rel_id = pii.decrypt(aa.applicant.id_number_enc)

    def staff_csv(unit):
        return (f"姓名,工作单位,是否民政系统,单位区划代码,亲属姓名,亲属身份证号,关系\n"
                f"李干部,某乡镇政府,否,{unit},王小明,{rel_id},兄弟\n").encode()

    services.load_file(aa.admin, src, staff_csv("340899002000"), "other.csv")  # another township
    assert not m.Finding.objects.exists()
    services.load_file(aa.admin, src, staff_csv("340899001000"), "same.csv")  # the township handling the case
    f = m.Finding.objects.get()
    assert f.rule == "staff_relative" and f.case_id == case.pk and "李干部" in f.evidence[0]


def test_pages_scope_export_and_refusals(aa, clock, client):
    from openpyxl import load_workbook

    from carenet.core.roles import Role
    from tests.factories import PASSWORD, UserFactory

    paying_case(aa, clock, months=2)
    src = services.create_source(aa.admin, name="死亡", kind=m.Kind.DEATHS, department="卫健", division=aa.district)
    services.load_file(aa.admin, src, deaths_csv([("王小明", pii.decrypt(aa.applicant.id_number_enc), "2020-01-01")]),
                       "d.csv")
    f = m.Finding.objects.get()
    other = UserFactory(username="rev2", role=Role.REVIEWER, division=aa.street2)
    client.login(username="rev2", password=PASSWORD)
    assert client.get(f"/matching/findings/{f.pk}/").status_code == 404  # another street's finding
    assert "王小明" not in client.get("/matching/findings/").content.decode()
    client.login(username="reviewer1", password=PASSWORD)
    page = client.get(f"/matching/findings/{f.pk}/").content.decode()
    assert "死亡后仍在发放" in page and aa.applicant.id_masked in page
    resp = client.get("/matching/findings/?export=xlsx")
    ws = load_workbook(__import__("io").BytesIO(resp.content)).active
    rows = list(ws.values)
    assert rows[0][0] == "编号" and rows[1][2] == "王小明" and "*" in rows[1][3]
    assert AuditLog.objects.filter(action="export", model="matching.finding").exists()
    client.login(username="worker_a", password=PASSWORD)
    assert client.get("/matching/").status_code == 403
    assert other.pk


def test_uncertain_pair_goes_to_review_and_the_answer_is_remembered(aa, clock):
    paying_case(aa, clock, months=1)
    src = services.create_source(aa.admin, name="殡葬", kind=m.Kind.DEATHS, department="殡葬", division=aa.district)
    # no ID and no birth date: the name and the community make it likely, not certain
    data = f"姓名,区划代码,死亡日期\n王小明,{aa.applicant.division.code},2020-01-01\n".encode()
    services.load_file(aa.admin, src, data, "d.csv")
    pair = m.ReviewPair.objects.get()
    assert pair.resident_id == aa.applicant.pk and 0.5 <= pair.probability < 0.95
    assert not m.Finding.objects.exists()
    services.decide_pair(aa.reviewer, pair, same_person=True)
    assert m.Finding.objects.get().rule == "paid_after_death"  # the rules ran again for the linked record
    assert AuditLog.objects.filter(note="matching.link_decision").count() == 1
    load2 = services.load_file(aa.admin, src, data, "d.csv")  # next month's file: not asked again
    assert not m.ReviewPair.objects.exists()
    assert load2.records.get().resident_id == aa.applicant.pk
