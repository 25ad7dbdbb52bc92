"""The risk score (动态监测) and the discovery screens (精准识别): pure engines."""
import datetime as dt
from decimal import Decimal

import pytest

from carenet.matching.engine import integrity as ei
from carenet.matching.engine import risk
from carenet.matching.engine import screens as es

R = risk.rules_on(dt.date(2026, 6, 1))


def test_rules_are_dated_and_published():
    assert R.effective_from == dt.date(2024, 1, 1)
    with pytest.raises(ValueError):
        risk.rules_on(dt.date(2023, 12, 31))
    newer = risk.RiskRules(dt.date(2026, 7, 1), 50, dict(R.weights), Decimal("30000"), Decimal("10000"))
    assert risk.rules_on(dt.date(2026, 7, 1), (R, newer)) is newer and risk.rules_on(dt.date(2026, 6, 30), (R, newer)) is R
    text = "\n".join(risk.explain_rules(R))
    assert "20000" in text and "40" in text and "因学" in text


def test_each_signal_says_which_figure_and_threshold():
    s = risk.score(risk.HouseholdFacts(medical_out_of_pocket=Decimal("20000")), R)
    assert s.score == 0 and not s.alert  # at the threshold is not over it
    s = risk.score(risk.HouseholdFacts(medical_out_of_pocket=Decimal("20000.01")), R)
    assert s.alert and s.signals == ["illness"] and "20000.01" in s.reasons[0].text and "超过20000" in s.reasons[0].text
    s = risk.score(risk.HouseholdFacts(disaster_loss=Decimal("12000"), disaster_kind="洪涝"), R)
    assert s.signals == ["disaster"] and "洪涝损失12000元" in s.reasons[0].text


def test_study_needs_a_low_income_household_and_marginal_households_worsen():
    hi = ["张三：某大学本科"]
    assert risk.score(risk.HouseholdFacts(higher_education=hi), R).score == 0
    s = risk.score(risk.HouseholdFacts(higher_education=hi, low_income=True), R)
    assert s.signals == ["study"] and s.score == 30 and not s.alert
    s = risk.score(risk.HouseholdFacts(higher_education=hi, low_income=True, marginal=True), R)
    assert s.signals == ["study", "marginal_worse"] and s.score == 50 and s.alert
    assert risk.score(risk.HouseholdFacts(marginal=True), R).score == 0  # marginal alone is no worsening
    assert risk.is_higher_education("全日制本科") and not risk.is_higher_education("高中")


def test_sudden_events_and_the_score_is_capped():
    s = risk.score(risk.HouseholdFacts(earner_deaths=["李四（2026-03-01）"], unemployed=["李妻（2026-04-01登记）"],
                                       medical_out_of_pocket=Decimal("50000"), disaster_loss=Decimal("50000")), R)
    assert s.score == 100 and set(s.signals) == {"earner_death", "unemployment", "illness", "disaster"}
    assert any("李四" in r.text for r in s.reasons)


def household(*members, assisted=False, alone=False):
    return es.HouseholdData("h1", list(members), assisted, alone)


def test_all_disabled_screen():
    a, b = es.Member("周父", 50, 1, "肢体"), es.Member("周母", 48, 2, "视力")
    assert es.all_disabled(household(a, b)) and "周母：视力残疾2级" in es.all_disabled(household(a, b))
    assert es.all_disabled(household(a, es.Member("周子", 20, 3))) is None
    assert es.all_disabled(household(a, es.Member("周子", 20, 3)), max_grade=3)
    assert es.all_disabled(household(a, es.Member("周子", 20))) is None  # no registry row: not disabled
    assert es.all_disabled(household(a, b, assisted=True)) is None
    assert es.all_disabled(household(a, b, assisted=True), unassisted_only=False)
    assert es.all_disabled(household(a, es.Member("周子", 20, None, died_on=dt.date(2026, 1, 1))))  # the living


def test_alone_elder_and_earner_died_screens():
    e = es.Member("吴老", 82, 1, "肢体")
    assert es.alone_disabled_elder(household(e, alone=True))
    assert es.alone_disabled_elder(household(e)) is None
    assert es.alone_disabled_elder(household(e, alone=True), min_age=85) is None
    head = es.Member("郑父", 45, died_on=dt.date(2026, 2, 1), head=True)
    kid = es.Member("郑女", 10)
    assert "郑女（10岁）" in es.earner_died_children(household(head, kid), 2026)[-1]
    assert es.earner_died_children(household(head, kid), 2025) is None
    assert es.earner_died_children(household(head, es.Member("郑子", 19)), 2026) is None
    assert set(es.run("all_disabled", [household(es.Member("a", 3, 1))], {"max_grade": 2})) == {"h1"}


def test_assets_count_limit_from_the_standards():
    cars = [ei.Asset("vehicle", "轿车", Decimal("80000")), ei.Asset("vehicle", "货车", Decimal("10000"))]
    f = ei.assets_over_limit(cars, {"vehicle_count": 1})
    assert f and "机动车2辆，超过1辆" in f.evidence[0]
    assert ei.assets_over_limit(cars[:1], {"vehicle_count": 1, "property": 1}) is None
    assert ei.assets_over_limit([ei.Asset("property", "a", Decimal(0))] * 2, {"property": 1})
