"""Program rules: 低保, 低保边缘, 特困, 临时救助, 高龄津贴, 暖心基金."""

from datetime import date
from decimal import Decimal

import pytest

from carenet.assistance.engine.eligibility import (
    Supporter, TekunApplicant, assess_dibao, assess_elderly_allowance, assess_marginal, assess_tekun,
    assess_temp_aid, assess_warm_fund,
)
from carenet.assistance.engine.household import Assets, Household, IncomeItem, Member
from carenet.assistance.engine.rules import (
    DIBAO_RURAL, DIBAO_URBAN, ELDERLY, MARGINAL, TEKUN, TEMP_AID, WARM_FUND, RuleSet, Standard, default_standards,
)

DISTRICT, STREET = "330106", "330106001"
PATH = ("330000", "330100", DISTRICT, STREET)
ON = date(2025, 6, 15)
URBAN, RURAL = Decimal("780.00"), Decimal("700.00")


def make_rules(*extra):
    rows = default_standards("330000", date(2020, 11, 1))
    rows += [Standard(DISTRICT, DIBAO_URBAN, "dibao_monthly", URBAN, date(2024, 1, 1)),
             Standard(DISTRICT, DIBAO_RURAL, "dibao_monthly", RURAL, date(2024, 1, 1))]
    return RuleSet(rows).with_rows(*extra)


def family(income_per_month: Decimal, n: int = 2, area: str = "urban", **kw) -> Household:
    members = [Member("p1", "张三", "applicant", date(1970, 1, 1))]
    members += [Member(f"p{i}", f"成员{i}", "spouse" if i == 2 else "child", date(2012, 1, 1) if i > 2 else date(1972, 1, 1))
                for i in range(2, n + 1)]
    return Household("h1", PATH, area, tuple(members), (IncomeItem("p1", "wage", income_per_month),), **kw)


# ------------------------------------------------------------------ 低保

def test_dibao_difference_times_members_with_explanation():
    out = assess_dibao(family(Decimal("1024"), n=2), make_rules(), ON)  # per capita 512
    assert out.eligible and out.code == "dibao.eligible"
    assert out.monthly_amount == (URBAN - Decimal("512")) * 2
    assert "家庭人均收入 512.00 < 当地低保标准 780.00，符合收入条件" in out.explanation
    s = next(s for s in out.steps if s.code == "dibao.below_standard")
    assert s.params == {"per_capita": "512.00", "standard": "780.00"}
    assert "512.00" in s.en


def test_dibao_income_equal_to_standard_is_not_below():
    out = assess_dibao(family(URBAN * 2, n=2), make_rules(), ON)
    assert not out.eligible and out.code == "dibao.income_above_standard"
    assert out.monthly_amount is None


def test_dibao_rural_uses_rural_standard():
    out = assess_dibao(family(Decimal("1300"), n=2, area="rural"), make_rules(), ON)  # 650 per capita
    assert out.program == DIBAO_RURAL
    assert out.monthly_amount == (RURAL - Decimal("650")) * 2
    assert not assess_dibao(family(Decimal("1500"), n=2, area="rural"), make_rules(), ON).eligible  # 750 >= 700


def test_dibao_assets_fail():
    out = assess_dibao(family(Decimal("0"), assets=Assets(vehicles=1)), make_rules(), ON)
    assert not out.eligible and out.code == "dibao.assets_exceed_limits"


def test_dibao_minimum_per_person_is_a_dated_key():
    rules = make_rules(Standard(DISTRICT, DIBAO_URBAN, "dibao_min_per_person", Decimal("50"), date(2025, 6, 1)))
    h = family(Decimal("1540"), n=2)  # per capita 770, gap 10
    assert assess_dibao(h, rules, date(2025, 5, 31)).monthly_amount == Decimal("20.00")
    out = assess_dibao(h, rules, date(2025, 6, 1))
    assert out.monthly_amount == Decimal("100.00")
    assert "dibao.minimum_applied" in [s.code for s in out.steps]


def test_dibao_standard_change_applies_from_its_date_and_street_override():
    rules = make_rules(Standard(DISTRICT, DIBAO_URBAN, "dibao_monthly", Decimal("820"), date(2025, 7, 1)))
    h = family(Decimal("1024"), n=2)
    assert assess_dibao(h, rules, date(2025, 6, 30)).monthly_amount == (URBAN - 512) * 2
    assert assess_dibao(h, rules, date(2025, 7, 1)).monthly_amount == (Decimal("820") - 512) * 2
    street = rules.with_rows(Standard(STREET, DIBAO_URBAN, "dibao_monthly", Decimal("900"), date(2025, 7, 1)))
    out = assess_dibao(h, street, date(2025, 7, 1))
    assert out.monthly_amount == (Decimal("900") - 512) * 2
    assert any(p["division"] == STREET and p["key"] == "dibao_monthly" for p in out.provenance)


# ------------------------------------------------------------------ 低保边缘

def test_marginal_band_between_standard_and_multiple():
    rules = make_rules()
    threshold = URBAN * Decimal("1.5")
    assert assess_marginal(family(threshold * 2, n=2), rules, ON).eligible  # equal: "一点五倍以下"
    above = assess_marginal(family(threshold * 2 + Decimal("0.02"), n=2), rules, ON)
    assert not above.eligible and above.code == "marginal.income_above_threshold"
    below = assess_marginal(family(Decimal("1000"), n=2), rules, ON)
    assert not below.eligible and below.code == "marginal.qualifies_for_dibao"
    assert below.details["threshold"] == threshold


def test_marginal_multiple_override_and_min_wage_cap():
    h = family(Decimal("2000"), n=2)  # 1000 per capita
    raised = make_rules(Standard(DISTRICT, MARGINAL, "marginal_multiple", Decimal("1.2"), date(2025, 1, 1)))
    assert not assess_marginal(h, raised, ON).eligible  # 936 threshold
    capped = make_rules(Standard(DISTRICT, MARGINAL, "min_wage_monthly", Decimal("990"), date(2025, 1, 1)))
    out = assess_marginal(h, capped, ON)
    assert out.details["threshold"] == Decimal("990.00") and not out.eligible


# ------------------------------------------------------------------ 特困

def elder(**kw):
    base = dict(person_id="t1", name="王五", birth_date=date(1950, 1, 1), division_path=PATH, area="urban",
                support_mode="dispersed", care_level="partial")
    base.update(kw)
    return TekunApplicant(**base)


def test_tekun_elderly_without_supporter_gets_basic_plus_care():
    rules = make_rules()
    out = assess_tekun(elder(), rules, ON)
    assert out.eligible
    basic = rules.value("tekun_basic_monthly", TEKUN, PATH, ON)
    care = dict(rules.value("tekun_care_monthly", TEKUN, PATH, ON))
    assert out.monthly_amount == basic + care["partial"]
    assert out.details["payee"] == "person"
    full = assess_tekun(elder(care_level="full", support_mode="centralised"), rules, ON)
    assert full.monthly_amount == basic + care["full"] and full.details["payee"] == "institution"


@pytest.mark.parametrize("kw, code", [
    (dict(birth_date=date(1980, 1, 1)), "tekun.not_in_category"),  # 45, not disabled
    (dict(birth_date=date(1980, 1, 1), disability_grade=4), "tekun.has_labour_capacity"),
    (dict(monthly_income=URBAN), "tekun.has_means_of_living"),
    (dict(deposits=URBAN * 24 + 1), "tekun.has_means_of_living"),
    (dict(supporters=(Supporter("王小", "子女", True),)), "tekun.has_able_supporter"),
])
def test_tekun_each_condition_can_fail(kw, code):
    out = assess_tekun(elder(**kw), make_rules(), ON)
    assert not out.eligible and out.code == code


@pytest.mark.parametrize("kw", [
    dict(birth_date=date(1980, 1, 1), disability_grade=2),
    dict(birth_date=date(1980, 1, 1), disability_grade=3, disability_kind="mental"),
    dict(birth_date=date(2012, 1, 1)),  # 13: minor under 16
    dict(supporters=(Supporter("王小", "子女", False),)),  # supporter unable
    dict(birth_date=date(1980, 1, 1), disability_grade=4, labour_capacity=False),  # assessed
])
def test_tekun_qualifying_variants(kw):
    assert assess_tekun(elder(**kw), make_rules(), ON).eligible


def test_tekun_16_year_old_not_minor():
    assert assess_tekun(elder(birth_date=date(2009, 6, 15)), make_rules(), ON).code == "tekun.not_in_category"


# ------------------------------------------------------------------ 临时救助

def test_temp_aid_cap_six_times_per_person_and_twelve_special():
    h = family(Decimal("0"), n=3)
    rules = make_rules()
    out = assess_temp_aid(h, rules, ON, aid_type="emergency", requested=Decimal("100000"))
    assert out.grant_amount == URBAN * 6 * 3 and out.code == "temp_aid.eligible"
    assert "temp.capped" in [s.code for s in out.steps]
    sp = assess_temp_aid(h, rules, ON, aid_type="emergency", requested=Decimal("100000"), special=True)
    assert sp.grant_amount == URBAN * 12 * 3


def test_temp_aid_expense_type_requires_dibao_or_marginal():
    h = family(Decimal("0"))
    assert assess_temp_aid(h, make_rules(), ON, aid_type="expense", requested=Decimal("500")).code == \
        "temp_aid.expense_requires_dibao_or_marginal"
    assert assess_temp_aid(h, make_rules(), ON, aid_type="expense", requested=Decimal("500"),
                           household_status="marginal").eligible


def test_temp_aid_first_aid_and_township_approval_thresholds():
    rules = make_rules(Standard(DISTRICT, TEMP_AID, "first_aid_cap", Decimal("800"), date(2025, 1, 1)))
    h = family(Decimal("0"))
    small = assess_temp_aid(h, rules, ON, aid_type="emergency", requested=Decimal("800"))
    assert small.details["first_aid"] is True
    larger = assess_temp_aid(h, rules, ON, aid_type="emergency", requested=Decimal("800.01"))
    assert larger.details["first_aid"] is False
    town = rules.value("temp_aid_township_approval_max", TEMP_AID, PATH, ON)
    assert assess_temp_aid(h, rules, ON, aid_type="emergency", requested=town).details["township_may_approve"]
    assert not assess_temp_aid(h, rules, ON, aid_type="emergency", requested=town + 1).details["township_may_approve"]


# ------------------------------------------------------------------ 高龄津贴

def tiers_rules():
    return make_rules(Standard(DISTRICT, ELDERLY, "elderly_allowance_tiers",
                               ((80, 89, Decimal("60")), (90, 99, Decimal("150")), (100, None, Decimal("500"))),
                               date(2025, 1, 1)))


@pytest.mark.parametrize("birth, amount", [
    (date(1945, 6, 16), None),  # 79 the day before the 80th birthday
    (date(1945, 6, 15), Decimal("60")),
    (date(1935, 6, 16), Decimal("60")),  # 89
    (date(1935, 6, 15), Decimal("150")),  # 90 today
    (date(1925, 6, 15), Decimal("500")),  # 100
    (date(1920, 1, 1), Decimal("500")),  # 105, open-ended top tier
])
def test_elderly_allowance_tiers_by_birth_date(birth, amount):
    out = assess_elderly_allowance("e1", birth, PATH, tiers_rules(), ON)
    assert out.eligible is (amount is not None)
    assert out.monthly_amount == amount


def test_elderly_tiers_before_local_change_use_older_row():
    rules = tiers_rules()
    provincial = rules.resolve("elderly_allowance_tiers", ELDERLY, PATH, date(2024, 12, 31))
    assert provincial.division_code == "330000"
    out = assess_elderly_allowance("e1", date(1944, 1, 1), PATH, rules, date(2024, 12, 31))  # 80
    assert out.monthly_amount == provincial.value[0][2]


# ------------------------------------------------------------------ 暖心基金

def test_warm_fund_capped_at_max_and_interval():
    rules = make_rules()
    assert assess_warm_fund(Decimal("3000"), PATH, rules, ON).grant_amount == Decimal("3000.00")
    out = assess_warm_fund(Decimal("8000"), PATH, rules, ON)
    assert out.grant_amount == Decimal("5000.00") and "warm.capped" in [s.code for s in out.steps]
    assert assess_warm_fund(Decimal("100"), PATH, rules, ON, previous_grants=[date(2024, 6, 16)]).code == "warm_fund.too_soon"
    assert assess_warm_fund(Decimal("100"), PATH, rules, ON, previous_grants=[date(2024, 6, 15)]).eligible
    lower = rules.with_rows(Standard(STREET, WARM_FUND, "warm_fund_max", Decimal("2000"), date(2025, 1, 1)))
    assert assess_warm_fund(Decimal("8000"), PATH, lower, ON).grant_amount == Decimal("2000.00")


def test_temp_aid_persons_default_to_counted_members_only():
    members = (Member("p1", "张三", "applicant", date(1970, 1, 1)),
               Member("p2", "李四", "spouse", date(1972, 1, 1), exclusion="imprisoned"),
               Member("p3", "张大", "child", date(1995, 1, 1)))  # adult, independent: not counted
    h = Household("h1", PATH, "urban", members)
    out = assess_temp_aid(h, make_rules(), ON, aid_type="emergency", requested=Decimal("999999"))
    assert out.persons == 1 and out.grant_amount == URBAN * 6


@pytest.mark.parametrize("income, n, expected", [
    # hand-worked: standard 780, amounts rounded once at the end (docs/assistance-rules.md, "Money")
    ("620", 3, "1720.00"),    # 780 × 3 − 620; per-capita-first would give (780 − 206.67) × 3 = 1719.99
    ("1000", 3, "1340.00"),   # 2340 − 1000; per-capita-first: (780 − 333.33) × 3 = 1340.01
    ("100", 7, "5360.00"),    # 5460 − 100; per-capita-first: (780 − 14.29) × 7 = 5359.97
    ("1024", 2, "536.00"),
])
def test_dibao_amount_is_rounded_once_on_household_totals(income, n, expected):
    out = assess_dibao(family(Decimal(income), n=n), make_rules(), ON)
    assert out.monthly_amount == Decimal(expected)
    line = next(x for x in out.explanation if x.startswith("低保金"))
    assert f"家庭月收入 {Decimal(income):.2f} = {expected} 元/月" in line
