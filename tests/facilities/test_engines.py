"""Pure facility engines: subsidy bands and caps, evaluation arithmetic, beds from residents, inspection deadlines,
registry status machine."""
from datetime import date
from decimal import Decimal as D

import pytest

from carenet.assistance.engine.rules import RuleSet, Standard
from carenet.facilities.engine import beds, evaluation, inspection, status, subsidy

BANDS = ((90, "1.0"), (80, "0.8"), (70, "0.6"), (60, "0.4"))


def rules(*extra):
    return RuleSet([
        Standard("500112", "center", subsidy.CAP_KEY, D("300000"), date(2024, 1, 1), "区民政〔2024〕1号"),
        Standard("500112", "station", subsidy.CAP_KEY, D("80000"), date(2024, 1, 1)),
        Standard("500112", "*", subsidy.BANDS_KEY, BANDS, date(2024, 1, 1)),
        *extra])


@pytest.mark.parametrize("ftype,score,amount", [
    ("center", 95, 300000), ("center", 90, 300000), ("center", D("89.99"), 240000), ("center", 72, 180000),
    ("center", 60, 120000), ("center", D("59.5"), 0), ("station", 100, 80000), ("station", 85, 64000),
    ("station", 61, 32000),
])
def test_subsidy_bands_times_type_caps(ftype, score, amount):
    s = subsidy.compute(rules(), ftype, "中心", ("500112",), date(2026, 6, 1), D(score))
    assert s.amount == D(amount)
    assert s.amount <= s.cap
    assert any(f"{s.amount:,.2f}" in step for step in s.steps) or amount == 0


def test_subsidy_explains_and_follows_dated_rules_with_street_override():
    later = Standard("500112", "center", subsidy.CAP_KEY, D("320000"), date(2027, 1, 1))
    street = Standard("500112001", "station", subsidy.CAP_KEY, D("60000"), date(2025, 1, 1), "街道补充规定")
    rs = rules(later, street)
    assert subsidy.compute(rs, "center", "中心", ("500112",), date(2026, 12, 31), D(95)).amount == D(300000)
    assert subsidy.compute(rs, "center", "中心", ("500112",), date(2027, 1, 1), D(95)).amount == D(320000)
    s = subsidy.compute(rs, "station", "站", ("500112", "500112001"), date(2026, 3, 1), D(81))
    assert s.amount == D(48000)
    assert "500112001" in s.steps[0] and "街道补充规定" in s.steps[0]
    assert "48,000.00" in s.steps[-1] and "80%" in s.steps[-1]


def test_no_subsidy_when_not_operating():
    s = subsidy.compute(rules(), "center", "中心", ("500112",), date(2026, 6, 1), D(99), operating=False)
    assert s.amount == 0 and "不在运营" in s.steps[-1]


IND = [evaluation.Indicator("fire", "safety", D(20), D(10)), evaluation.Indicator("food", "safety", D(10), D(5)),
       evaluation.Indicator("care", "services", D(30), D(10)), evaluation.Indicator("files", "management", D(20), D(4)),
       evaluation.Indicator("survey", "satisfaction", D(20), D(100))]


def test_evaluation_weighted_groups():
    r = evaluation.score(IND, {"fire": 8, "food": 5, "care": D("7.5"), "files": 3, "survey": 88})
    # 20*0.8 + 10*1 = 26; 30*0.75 = 22.5; 20*0.75 = 15; 20*0.88 = 17.6
    assert r.groups == {"safety": D("26.00"), "services": D("22.50"), "management": D("15.00"),
                        "satisfaction": D("17.60")}
    assert r.total == D("81.10")
    assert evaluation.score(IND, {"fire": 10, "food": 5, "care": 10, "files": 4, "survey": 100}).total == D(100)


@pytest.mark.parametrize("scores,msg", [
    ({"fire": 8, "food": 5, "care": 7, "files": 3}, "not scored"),
    ({"fire": 11, "food": 5, "care": 7, "files": 3, "survey": 1}, "outside"),
    ({"fire": -1, "food": 5, "care": 7, "files": 3, "survey": 1}, "outside"),
])
def test_evaluation_refuses_incomplete_or_out_of_range(scores, msg):
    with pytest.raises(evaluation.EvaluationError, match=msg):
        evaluation.score(IND, scores)


def test_template_weights_must_sum_to_100():
    with pytest.raises(evaluation.EvaluationError, match="100"):
        evaluation.validate_template(IND[:-1])


def test_evaluation_overdue_after_12_months():
    assert evaluation.is_overdue(None, date(2026, 5, 1))
    assert not evaluation.is_overdue(date(2025, 5, 1), date(2026, 5, 1))
    assert evaluation.is_overdue(date(2025, 4, 30), date(2026, 5, 1))
    assert not evaluation.is_overdue(date(2025, 2, 28), date(2026, 2, 28))


def test_beds_are_computed_from_residents():
    stays = [beds.Stay(date(2026, 1, 5), None, True), beds.Stay(date(2026, 2, 1), date(2026, 3, 1)),
             beds.Stay(date(2026, 3, 10), None), beds.Stay(date(2026, 7, 1), None, True)]
    b = beds.figures(10, 7, stays, date(2026, 3, 15))
    assert (b.occupied, b.nursing_occupied, b.available) == (2, 1, 8)
    assert b.occupancy == D("0.2000") and b.nursing_share == D("0.7000")
    assert b.as_of == date(2026, 3, 10)
    b = beds.figures(10, 7, stays, date(2026, 2, 15))
    assert b.occupied == 2 and b.as_of == date(2026, 2, 1)
    full = beds.figures(1, 0, stays, date(2026, 8, 1))
    assert (full.occupied, full.available, full.overbooked, full.nursing_share) == (3, 0, 2, D(0))
    assert beds.figures(0, 0, [], date(2026, 1, 1)).occupancy is None


def test_inspection_deadlines_skip_weekends_and_holidays():
    # National Day 2025: 1-8 Oct off, 28 Sep (Sun) and 11 Oct (Sat) are make-up working days
    assert inspection.deadline(date(2025, 9, 26), "major") == date(2025, 10, 10)   # 28/9, 29, 30, 9/10, 10/10
    assert inspection.deadline(date(2026, 3, 2), "general") == date(2026, 3, 16)
    assert inspection.deadline(date(2026, 3, 6), "major") == date(2026, 3, 13)
    with pytest.raises(ValueError):
        inspection.deadline(date(2026, 3, 2), "urgent")


def test_inspection_escalation_levels():
    due = date(2026, 3, 13)
    assert inspection.escalation(due, date(2026, 3, 13), "assigned") == 0
    assert inspection.escalation(due, date(2026, 3, 16), "assigned") == 1
    assert inspection.escalation(due, date(2026, 3, 20), "assigned") == 1       # 5 working days late
    assert inspection.escalation(due, date(2026, 3, 23), "assigned") == 2       # 6
    assert inspection.escalation(due, date(2026, 4, 30), "rectified") == 0      # waiting for the re-check
    assert inspection.escalation(due, date(2026, 4, 30), "closed") == 0


def test_inspection_loop_steps():
    inspection.check_step("open", "assigned")
    inspection.check_step("rectified", "assigned")     # re-check failed: back to the operator
    with pytest.raises(ValueError):
        inspection.check_step("assigned", "closed")    # nobody closes a finding without a re-check


def test_registry_status_machine():
    status.check_transition("planning", "operating", "通过验收")
    status.check_transition("suspended", "operating", "整改完成")
    for cur, tgt, reason, code in [("closed", "operating", "x", "not_allowed"), ("planning", "suspended", "x", "not_allowed"),
                                   ("operating", "suspended", " ", "reason_required"),
                                   ("operating", "operating", "x", "same_status")]:
        with pytest.raises(status.TransitionError) as e:
            status.check_transition(cur, tgt, reason)
        assert e.value.code == code
    assert status.allowed_targets("operating") == ["suspended", "closed"]
