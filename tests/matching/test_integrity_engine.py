"""Integrity rules (pure): each flags what it should and nothing else."""
import datetime as dt
from decimal import Decimal as D

from carenet.matching.engine import integrity as ei


def pay(*months, amount="620.00"):
    return [ei.Payment(dt.date(2026, m, 1), D(amount)) for m in months]


def test_paid_after_death_counts_months_after_the_month_of_death():
    f = ei.paid_after_death(dt.date(2026, 3, 15), pay(1, 2, 3, 4, 5), "公安")
    assert f.rule == ei.DEATH and f.months == ["2026-04", "2026-05"] and f.amount == D("1240.00")
    assert "2026-03-15" in f.evidence[0]


def test_no_finding_when_payments_stop_in_the_month_of_death_or_were_recovered():
    assert ei.paid_after_death(dt.date(2026, 3, 31), pay(1, 2, 3)) is None
    assert ei.paid_after_death(dt.date(2026, 3, 1), pay(1, 2, 3) + [ei.Payment(dt.date(2026, 4, 1), D("0"))]) is None


def rel(township, civil=False):
    return ei.StaffRelative("李干部", "某单位", civil, township, "子女")


def test_relative_of_staff_of_the_same_township_is_flagged():
    assert ei.staff_relative("340899001", [rel("340899001")]).rule == ei.STAFF_RELATIVE


def test_relative_of_staff_of_another_township_is_not_flagged():
    assert ei.staff_relative("340899001", [rel("340899002")]) is None
    assert ei.staff_relative("340899001", [rel(None)]) is None  # a district body other than civil affairs


def test_relative_of_civil_affairs_staff_is_flagged_wherever_they_work():
    f = ei.staff_relative("340899001", [rel("340899005", civil=True)])
    assert f is not None and "民政系统" in f.evidence[0]


def test_assets_over_limits():
    limits = {"vehicle": 50000, "property": 1, "company": 0}
    assert ei.assets_over_limit([ei.Asset("vehicle", "皖H12345", D("30000"))], limits) is None
    f = ei.assets_over_limit([ei.Asset("vehicle", "皖H12345", D("80000")), ei.Asset("property", "A", D(0)),
                              ei.Asset("property", "B", D(0))], limits)
    assert f.rule == ei.ASSETS and len(f.evidence) == 2


def test_paid_in_two_areas_or_twice_in_one_program():
    a = ei.Grant("低保", "340899001", "一街道", D("620"), True)
    b = ei.Grant("低保", "340899002", "二街道", D("620"), True)
    assert ei.paid_twice([a]) is None
    assert ei.paid_twice([a, b]).summary.startswith("同一人在两个地区")
    same = ei.paid_twice([a, ei.Grant("低保", "340899001", "一街道", D("620"), True)])
    assert "同一项目" in same.summary and same.amount == D("620")
    assert ei.paid_twice([a, ei.Grant("低保", "340899002", "二街道", D("620"), False)]) is None


def test_income_underdeclared_beyond_tolerance():
    assert ei.income_underdeclared(D("1000"), D("1150"), "人社") is None
    f = ei.income_underdeclared(D("1000"), D("2500"), "人社")
    assert f.rule == ei.INCOME and "2500" in f.summary
