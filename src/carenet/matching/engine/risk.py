"""Risk of falling into poverty (动态监测): a published, explainable score. Pure Python, no Django.

The signals, their weights and thresholds are a dated rule set (RULES): a household is scored with the rules in
force on the day, and every score lists its reasons in Chinese — which signal, the figure, the threshold and the
weight — so the worker who visits knows why the household is on the list.

Signals (因病、因灾、因学、因突发, and marginal households whose situation worsens):
- illness: out-of-pocket medical cost of the household in the last 12 months over a threshold;
- disaster: a recorded disaster loss over a threshold;
- study: a child enrolled in higher education in a low-income household;
- earner_death: death of the main earner (the head of household, or a member of working age) this year;
- unemployment: a member of working age registered unemployed;
- marginal_worse: a marginal (低保边缘) household that has any of the signals above.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

SIGNAL_LABELS_ZH = {
    "illness": "因病", "disaster": "因灾", "study": "因学", "earner_death": "因突发（主要劳动力死亡）",
    "unemployment": "因突发（失业）", "marginal_worse": "低保边缘家庭情况恶化",
}
HIGHER_EDUCATION = ("本科", "专科", "大专", "高职", "研究生", "硕士", "博士", "大学")


@dataclass(frozen=True)
class RiskRules:
    effective_from: dt.date
    threshold: int                      # an alert is raised at or above this score
    weights: dict[str, int]
    medical_threshold: Decimal          # yuan of out-of-pocket cost in 12 months
    disaster_threshold: Decimal         # yuan of recorded loss
    deadline_days: int = 10             # days the worker has to visit
    escalate_after_days: int = 5        # overdue by this many days: escalated to the township


RULES: tuple[RiskRules, ...] = (
    RiskRules(dt.date(2024, 1, 1), threshold=40,
              weights={"illness": 40, "disaster": 40, "study": 30, "earner_death": 50, "unemployment": 25,
                       "marginal_worse": 20},
              medical_threshold=Decimal("20000"), disaster_threshold=Decimal("10000")),
)


def rules_on(day: dt.date, rules: tuple[RiskRules, ...] = RULES) -> RiskRules:
    dated = [r for r in rules if r.effective_from <= day]
    if not dated:
        raise ValueError(f"no risk rules in force on {day.isoformat()}")
    return max(dated, key=lambda r: r.effective_from)


@dataclass
class HouseholdFacts:
    """What the department data say about one household over the last 12 months."""
    medical_out_of_pocket: Decimal = Decimal("0")
    disaster_loss: Decimal = Decimal("0")
    disaster_kind: str = ""
    higher_education: list[str] = field(default_factory=list)   # "name：school level"
    low_income: bool = False            # receives or is marginal for 低保, or declared income below the line
    earner_deaths: list[str] = field(default_factory=list)      # "name（date）"
    unemployed: list[str] = field(default_factory=list)         # "name（registered date）"
    marginal: bool = False


@dataclass(frozen=True)
class Reason:
    signal: str
    weight: int
    text: str


@dataclass(frozen=True)
class Score:
    score: int
    reasons: tuple[Reason, ...]
    rules_from: dt.date
    threshold: int

    @property
    def alert(self) -> bool:
        return self.score >= self.threshold

    @property
    def signals(self) -> list[str]:
        return [r.signal for r in self.reasons]


def is_higher_education(level: str) -> bool:
    return any(k in (level or "") for k in HIGHER_EDUCATION)


def score(facts: HouseholdFacts, rules: RiskRules) -> Score:
    w = rules.weights
    reasons: list[Reason] = []
    if facts.medical_out_of_pocket > rules.medical_threshold:
        reasons.append(Reason("illness", w["illness"],
                              f"因病：近12个月个人自付医疗费用{facts.medical_out_of_pocket}元，"
                              f"超过{rules.medical_threshold}元（权重{w['illness']}）"))
    if facts.disaster_loss > rules.disaster_threshold:
        reasons.append(Reason("disaster", w["disaster"],
                              f"因灾：{facts.disaster_kind or '灾害'}损失{facts.disaster_loss}元，"
                              f"超过{rules.disaster_threshold}元（权重{w['disaster']}）"))
    if facts.higher_education and facts.low_income:
        reasons.append(Reason("study", w["study"],
                              f"因学：低收入家庭子女就读高等教育（{'、'.join(facts.higher_education)}）（权重{w['study']}）"))
    if facts.earner_deaths:
        reasons.append(Reason("earner_death", w["earner_death"],
                              f"因突发：主要劳动力死亡（{'、'.join(facts.earner_deaths)}）（权重{w['earner_death']}）"))
    if facts.unemployed:
        reasons.append(Reason("unemployment", w["unemployment"],
                              f"因突发：劳动年龄成员失业登记（{'、'.join(facts.unemployed)}）（权重{w['unemployment']}）"))
    if facts.marginal and reasons:
        reasons.append(Reason("marginal_worse", w["marginal_worse"],
                              f"低保边缘家庭出现上述风险，情况恶化（权重{w['marginal_worse']}）"))
    total = sum(r.weight for r in reasons)
    return Score(min(total, 100), tuple(reasons), rules.effective_from, rules.threshold)


def explain_rules(rules: RiskRules) -> list[str]:
    """The published rule set, one line per signal, for the risk page."""
    w = rules.weights
    return [
        f"自{rules.effective_from.isoformat()}起执行；得分达到{rules.threshold}分即列入监测，网格员{rules.deadline_days}日内走访，"
        f"逾期{rules.escalate_after_days}日升级至街道（乡镇）",
        f"因病：近12个月个人自付医疗费用超过{rules.medical_threshold}元，{w['illness']}分",
        f"因灾：灾害损失超过{rules.disaster_threshold}元，{w['disaster']}分",
        f"因学：低收入家庭子女就读高等教育，{w['study']}分",
        f"因突发：主要劳动力（户主或劳动年龄成员）当年死亡，{w['earner_death']}分；劳动年龄成员失业登记，{w['unemployment']}分",
        f"低保边缘家庭出现上述任一风险，另加{w['marginal_worse']}分",
    ]
