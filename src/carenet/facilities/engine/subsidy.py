"""Operating subsidy: score band × type cap, from dated rules; every amount explains itself.

The rules are the assistance app's dated-rule mechanism (a RuleSet of Standard rows resolved by division path
and date, street overriding district). This engine takes any object with that `resolve(key, program, path, date)`
contract, so it does not import it. Keys (program = facility type):

* ``subsidy_cap_yearly``: Decimal, the yearly ceiling for the type (center 300,000, station 80,000 …);
* ``subsidy_bands``: ((min_score, rate), ...): the rate of the cap paid for a score at or above min_score.

A score below every band gets nothing. The amount is cap × rate, rounded to the yuan (half up), never above the
cap. Nothing is paid to a facility that is not operating.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Sequence

CAP_KEY = "subsidy_cap_yearly"
BANDS_KEY = "subsidy_bands"
YUAN = Decimal("1")


@dataclass(frozen=True)
class Subsidy:
    amount: Decimal
    cap: Decimal
    rate: Decimal
    band: Decimal | None
    steps: list[str] = field(default_factory=list)     # Chinese explanation, one line per step


def fmt(d: Decimal) -> str:
    return f"{d:,.2f}"


def compute(rules: Any, facility_type: str, type_label: str, division_path: Sequence[str], on_date: date,
            score: Decimal, operating: bool = True) -> Subsidy:
    steps: list[str] = []
    cap_r = rules.resolve(CAP_KEY, facility_type, division_path, on_date)
    cap = Decimal(str(cap_r.value))
    steps.append(f"{type_label}年度运营补贴上限 {fmt(cap)} 元（{cap_r.division_code} 自 "
                 f"{cap_r.effective_from.isoformat()} 起执行{('，' + cap_r.standard.source) if cap_r.standard.source else ''}）")
    bands_r = rules.resolve(BANDS_KEY, facility_type, division_path, on_date)
    bands = sorted(((Decimal(str(lo)), Decimal(str(rate))) for lo, rate in bands_r.value), reverse=True)
    steps.append("评分档次：" + "；".join(f"≥{lo:g} 分按上限的 {(rate * 100).normalize():f}%" for lo, rate in bands)
                 + f"；低于 {bands[-1][0]:g} 分不予补贴")
    score = Decimal(str(score))
    if not operating:
        steps.append("设施不在运营状态，不予补贴")
        return Subsidy(Decimal(0), cap, Decimal(0), None, steps)
    band, rate = None, Decimal(0)
    for lo, r in bands:
        if score >= lo:
            band, rate = lo, r
            break
    if band is None:
        steps.append(f"评估得分 {score:g} 分，低于最低档 {bands[-1][0]:g} 分，补贴 0 元")
        return Subsidy(Decimal(0), cap, Decimal(0), None, steps)
    amount = min(cap, (cap * rate).quantize(YUAN, ROUND_HALF_UP))
    steps.append(f"评估得分 {score:g} 分，落入 ≥{band:g} 分档，补贴 = {fmt(cap)} × {(rate * 100).normalize():f}% = {fmt(amount)} 元/年")
    return Subsidy(amount, cap, rate, band, steps)
