"""Evaluation arithmetic: weighted indicators in four groups (safety, services, management, satisfaction).

Each indicator has a weight (its maximum points share) and is scored 0..max_points by the evaluator. The total
is sum(weight × score / max_points) over all indicators, scaled so that the weights sum to 100. Group subtotals
are reported on the same scale. Decimal throughout, rounded half-up to 2 places at the end only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

GROUPS = ("safety", "services", "management", "satisfaction")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Indicator:
    code: str
    group: str
    weight: Decimal        # share of 100 points
    max_points: Decimal    # the evaluator scores 0..max_points
    label: str = ""


@dataclass(frozen=True)
class Result:
    total: Decimal
    groups: dict[str, Decimal]
    lines: list[tuple[str, Decimal, Decimal]]   # (code, score given, weighted points)
    missing: list[str]


class EvaluationError(ValueError):
    pass


def validate_template(indicators: list[Indicator]) -> None:
    if not indicators:
        raise EvaluationError("a template needs at least one indicator")
    codes = [i.code for i in indicators]
    if len(set(codes)) != len(codes):
        raise EvaluationError("indicator codes must be unique")
    for i in indicators:
        if i.group not in GROUPS:
            raise EvaluationError(f"indicator {i.code}: unknown group {i.group!r}")
        if i.weight <= 0 or i.max_points <= 0:
            raise EvaluationError(f"indicator {i.code}: weight and maximum must be positive")
    if sum((i.weight for i in indicators), Decimal(0)) != Decimal(100):
        raise EvaluationError("weights must sum to 100")


def score(indicators: list[Indicator], scores: dict[str, Decimal]) -> Result:
    """Weighted total (0..100) and group subtotals. Every indicator must be scored within 0..max_points."""
    validate_template(indicators)
    missing = [i.code for i in indicators if scores.get(i.code) is None]
    if missing:
        raise EvaluationError(f"not scored: {', '.join(missing)}")
    groups = {g: Decimal(0) for g in GROUPS}
    lines = []
    for i in indicators:
        given = Decimal(str(scores[i.code]))
        if given < 0 or given > i.max_points:
            raise EvaluationError(f"indicator {i.code}: {given} is outside 0..{i.max_points}")
        points = i.weight * given / i.max_points
        groups[i.group] += points
        lines.append((i.code, given, points.quantize(CENT, ROUND_HALF_UP)))
    total = sum(groups.values(), Decimal(0))
    return Result(total.quantize(CENT, ROUND_HALF_UP),
                  {g: v.quantize(CENT, ROUND_HALF_UP) for g, v in groups.items()}, lines, [])


def is_overdue(last_evaluated: date | None, today: date, months: int = 12) -> bool:
    """True when the last evaluation is more than `months` before `today` (or there is none)."""
    if last_evaluated is None:
        return True
    y, m = today.year, today.month - months
    while m <= 0:
        y, m = y - 1, m + 12
    import calendar
    day = min(today.day, calendar.monthrange(y, m)[1])
    return bool(last_evaluated < today.replace(year=y, month=m, day=day))
