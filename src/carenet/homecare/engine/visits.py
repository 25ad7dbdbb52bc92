"""Visit (探访) plans: which elders are visited how often, when a visit is due, and who is told when it is
overdue. The rules are data (a list of dicts, stored as a dated standard ``homecare_visit_rules``):

    {"name": "空巢独居", "period": "week", "living": ["alone"]}
    {"name": "失能/半失能低保", "period": "week", "care_level": ["moderate", "severe"], "categories": ["dibao"]}

A rule matches when every condition it names holds (``living``/``care_level``: the elder's value is in the
list; ``categories``: the elder has one of them; ``key_elder``: the flag equals it). The shortest period of
the matching rules wins.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable, Iterator, Mapping, Sequence

PERIOD_DAYS = {"week": 7, "month": 30}

DEFAULT_RULES: tuple[dict, ...] = (
    {"name": "空巢独居", "period": "week", "living": ["alone"]},
    {"name": "失能/半失能低保", "period": "week", "care_level": ["mild", "moderate", "severe"], "categories": ["dibao"]},
    {"name": "计生特扶", "period": "week", "categories": ["lost_only_child"]},
    {"name": "重点老人", "period": "week", "key_elder": True},
    {"name": "其他空巢老人", "period": "month", "living": ["empty_nest"]},
)

COMMUNITY, STREET = "community", "street"
ESCALATE_STREET_AFTER_DAYS = 7


@dataclass(frozen=True)
class ElderFacts:
    living: str
    care_level: str
    categories: frozenset[str]
    key_elder: bool = False


@dataclass(frozen=True)
class Frequency:
    period: str
    days: int
    rules: tuple[str, ...]   # names of every matching rule (the explanation)


def validate(rules: Sequence[Mapping]) -> None:
    for r in rules:
        if r.get("period") not in PERIOD_DAYS:
            raise ValueError(f"rule {r.get('name')!r}: period must be one of {sorted(PERIOD_DAYS)}")
        unknown = set(r) - {"name", "period", "living", "care_level", "categories", "key_elder"}
        if unknown:
            raise ValueError(f"rule {r.get('name')!r}: unknown conditions {sorted(unknown)}")


def _matches(rule: Mapping, e: ElderFacts) -> bool:
    if "living" in rule and e.living not in rule["living"]:
        return False
    if "care_level" in rule and e.care_level not in rule["care_level"]:
        return False
    if "categories" in rule and not (e.categories & set(rule["categories"])):
        return False
    if "key_elder" in rule and bool(rule["key_elder"]) != e.key_elder:
        return False
    return True


def frequency(e: ElderFacts, rules: Sequence[Mapping] = DEFAULT_RULES) -> Frequency | None:
    hits = [r for r in rules if _matches(r, e)]
    if not hits:
        return None
    best = min(hits, key=lambda r: PERIOD_DAYS[r["period"]])
    return Frequency(best["period"], PERIOD_DAYS[best["period"]], tuple(r.get("name", "") for r in hits))


def next_due(last_visit: date | None, plan_start: date, days: int) -> date:
    return (last_visit or plan_start - timedelta(days=days)) + timedelta(days=days)


def escalation(due: date, today: date, street_after_days: int = ESCALATE_STREET_AFTER_DAYS) -> str | None:
    """None while not overdue; ``community`` once overdue; ``street`` after ``street_after_days`` more."""
    late = (today - due).days
    if late <= 0:
        return None
    return STREET if late > street_after_days else COMMUNITY


def plan_for(elders: Iterable[tuple[int, ElderFacts]], rules: Sequence[Mapping] = DEFAULT_RULES) -> Iterator[tuple[int, Any]]:
    """(elder id, Frequency) for every elder some rule matches."""
    for eid, facts in elders:
        f = frequency(facts, rules)
        if f is not None:
            yield eid, f
