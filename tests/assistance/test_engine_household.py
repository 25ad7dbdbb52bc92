"""Household members (最低生活保障审核确认办法 Art. 7), income disregards, rigid expenses, assets."""

from datetime import date
from decimal import Decimal

import pytest

from carenet.assistance.engine.household import (
    Assets, Household, IncomeItem, Member, RigidExpense, age_on, assess_household, classify_member,
)
from carenet.assistance.engine.rules import ANY_PROGRAM, DIBAO_URBAN, RuleSet, Standard, default_standards

PATH = ("330000", "330100", "330106", "330106001")
ON = date(2025, 6, 15)
STD = Decimal("780.00")


def make_rules(*extra):
    rows = default_standards("330000", date(2020, 11, 1))
    rows.append(Standard("330106", DIBAO_URBAN, "dibao_monthly", STD, date(2024, 1, 1)))
    return RuleSet(rows).with_rows(*extra)


def applicant(**kw):
    return Member("p1", "张三", "applicant", date(1970, 3, 1), **kw)


def hh(members, incomes=(), **kw):
    return Household("h1", PATH, "urban", tuple(members), tuple(incomes), **kw)


@pytest.mark.parametrize("member, counted, code", [
    (Member("s", "配偶", "spouse", date(1972, 1, 1)), True, "spouse"),
    (Member("c", "子", "child", date(2008, 6, 16)), True, "minor_child"),           # 16 on ON
    (Member("c", "子", "child", date(2007, 6, 15)), False, "adult_child_independent"),  # 18 exactly on ON
    (Member("c", "子", "child", date(2004, 1, 1), full_time_student=True), True, "adult_child_student"),
    (Member("c", "子", "child", date(1995, 1, 1), cannot_live_independently=True), True, "adult_child_dependent"),
    (Member("m", "母", "parent", date(1945, 1, 1), statutory_support_duty=True), True, "support_duty_cohabiting"),
    (Member("m", "母", "parent", date(1945, 1, 1), statutory_support_duty=True, cohabiting=False), False,
     "support_duty_not_cohabiting"),
    (Member("o", "侄", "other", date(1990, 1, 1)), False, "no_support_duty"),
    (Member("s", "配偶", "spouse", date(1972, 1, 1), exclusion="imprisoned"), False, "excluded.imprisoned"),
    (Member("c", "子", "child", date(2010, 1, 1), exclusion="clergy_3y"), False, "excluded.clergy_3y"),
    (Member("s", "配偶", "spouse", date(1972, 1, 1), exclusion="declared_missing"), False, "excluded.declared_missing"),
    (Member("s", "配偶", "spouse", date(1972, 1, 1), exclusion="compulsory_rehab"), False, "excluded.compulsory_rehab"),
])
def test_member_rules_article_7(member, counted, code):
    d = classify_member(member, ON)
    assert d.counted is counted
    assert d.reason_code == code
    assert d.step.code == ("member.counted" if counted else "member.not_counted")
    assert member.name in d.step.zh


def test_unknown_exclusion_is_an_error():
    with pytest.raises(ValueError):
        classify_member(Member("s", "x", "spouse", date(1972, 1, 1), exclusion="holiday"), ON)


def test_age_on_birthday_and_leap_day():
    assert age_on(date(1945, 6, 15), date(2025, 6, 15)) == 80
    assert age_on(date(1945, 6, 16), date(2025, 6, 15)) == 79
    assert age_on(date(1944, 2, 29), date(2025, 2, 28)) == 80
    assert age_on(date(1944, 2, 29), date(2025, 3, 1)) == 81


def test_per_capita_counts_only_members_and_excluded_income_types():
    members = [applicant(), Member("p2", "李四", "spouse", date(1972, 1, 1)),
               Member("p3", "张小", "child", date(1990, 1, 1))]  # adult independent child: not counted
    incomes = [IncomeItem("p1", "wage", Decimal("1200")), IncomeItem("p2", "pension", Decimal("400.01")),
               IncomeItem("p2", "special_care", Decimal("300")),  # 优待抚恤金: excluded
               IncomeItem("p3", "wage", Decimal("5000"))]  # non-member: ignored
    a = assess_household(hh(members, incomes), make_rules(), ON)
    assert a.size == 2
    assert a.gross_income == Decimal("1900.01")
    assert a.disregarded_income == Decimal("300.00")
    assert a.counted_income == Decimal("1600.01")
    # (1600.01) / 2 = 800.005 -> 800.01 (half up)
    assert a.per_capita_income == Decimal("800.01")
    codes = [s.code for s in a.steps]
    assert "income.member_not_counted" in codes and "income.excluded_type" in codes


def test_excluded_income_types_are_a_dated_rule():
    members = [applicant()]
    incomes = [IncomeItem("p1", "special_care", Decimal("300"))]
    later = make_rules(Standard("330106", ANY_PROGRAM, "income_excluded_types", (), date(2025, 6, 1)))
    assert assess_household(hh(members, incomes), later, date(2025, 5, 31)).per_capita_income == Decimal("0.00")
    assert assess_household(hh(members, incomes), later, date(2025, 6, 1)).per_capita_income == Decimal("300.00")


def test_employment_cost_deduction_only_for_employable_wage_earners():
    rules = make_rules(Standard("330106", ANY_PROGRAM, "employment_cost_deduction", Decimal("200"), date(2024, 1, 1)))
    incomes = [IncomeItem("p1", "wage", Decimal("1000"))]
    assert assess_household(hh([applicant(employable=True)], incomes), rules, ON).counted_income == Decimal("800.00")
    assert assess_household(hh([applicant(employable=False)], incomes), rules, ON).counted_income == Decimal("1000.00")


def test_new_employment_income_disregarded_while_on_dibao_up_to_cap_and_period():
    # 浙江 Art.50: not counted for 6..12 months, at most 3x the standard per month
    wage = STD * 4  # above the cap
    started = date(2025, 1, 10)
    item = IncomeItem("p1", "wage", wage, employment_started_on=started)
    rules = make_rules()
    on_dibao = hh([applicant()], [item], receiving_dibao=True)
    a = assess_household(on_dibao, rules, date(2025, 6, 15))
    assert a.disregarded_income == STD * 3
    assert a.counted_income == wage - STD * 3
    # 12 months after the start the disregard ends
    assert assess_household(on_dibao, rules, date(2026, 1, 10)).disregarded_income == 0
    assert assess_household(on_dibao, rules, date(2026, 1, 9)).disregarded_income == STD * 3
    # an applicant household (not yet on dibao) gets no such disregard
    assert assess_household(hh([applicant()], [item]), rules, date(2025, 6, 15)).disregarded_income == 0


def test_rigid_expenses_deductible_per_local_rule():
    incomes = [IncomeItem("p1", "wage", Decimal("1500"))]
    exp = (RigidExpense("medical", Decimal("600")), RigidExpense("other", Decimal("100")))
    a = assess_household(hh([applicant()], incomes, rigid_expenses=exp), make_rules(), ON)
    assert a.rigid_expenses == Decimal("600.00")
    assert a.per_capita_income == Decimal("900.00")
    no_medical = make_rules(Standard("330106", ANY_PROGRAM, "rigid_expense_deductible", ("education",), date(2024, 1, 1)))
    assert assess_household(hh([applicant()], incomes, rigid_expenses=exp), no_medical, ON).per_capita_income == Decimal("1500.00")
    # expenses never make income negative
    big = (RigidExpense("medical", Decimal("9000")),)
    assert assess_household(hh([applicant()], incomes, rigid_expenses=big), make_rules(), ON).per_capita_income == 0


def test_asset_limits_deposits_vehicles_housing():
    members = [applicant(), Member("p2", "李四", "spouse", date(1972, 1, 1))]
    limit = STD * 24  # default deposit_limit_months per capita
    ok = assess_household(hh(members, assets=Assets(deposits=limit * 2, housing_units=1)), make_rules(), ON)
    assert ok.assets_ok
    over = assess_household(hh(members, assets=Assets(deposits=limit * 2 + Decimal("0.02"))), make_rules(), ON)
    assert over.asset_failures == ("deposits",)
    car = assess_household(hh(members, assets=Assets(vehicles=1)), make_rules(), ON)
    assert car.asset_failures == ("vehicles",)
    exempt = assess_household(hh(members, assets=Assets(vehicles=1, exempt_vehicles=1)), make_rules(), ON)
    assert exempt.assets_ok
    houses = assess_household(hh(members, assets=Assets(housing_units=2)), make_rules(), ON)
    assert houses.asset_failures == ("housing",)


def test_household_needs_one_applicant():
    with pytest.raises(ValueError):
        assess_household(hh([Member("p2", "李四", "spouse", date(1972, 1, 1))]), make_rules(), ON)
