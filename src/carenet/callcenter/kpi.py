"""Call-center KPI arithmetic on plain rows (no Django), so it can be tested in microseconds.

Definitions (also in docs/callcenter.md):
- An alarm *needs an answer* unless the condition cleared by itself before anybody acknowledged it.
- Acknowledged within T: acknowledged at most T seconds after it was raised. An alarm still waiting longer
  than T counts as a miss; one still waiting less than T is not counted yet (it may still make it).
- Time to acknowledge / dispatch: from raised to acknowledged / first dispatch, over the alarms that have one.
- False-alarm rate: alarms closed by an operator with the code "false_alarm", over all alarms closed by an
  operator (auto-cleared alarms are not operator decisions and are left out).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

TARGETS = (60, 180)


@dataclasses.dataclass(frozen=True)
class AlarmRow:
    id: int
    type: str
    area: str
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None = None
    dispatched_at: dt.datetime | None = None
    status: str = "raised"
    closing_code: str = ""


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def compute(rows: list[AlarmRow], now: dt.datetime, day_of=lambda t: t.date()) -> dict:
    needs = [r for r in rows if not (r.status == "auto_cleared" and r.acknowledged_at is None)]
    ack_s = [(r.acknowledged_at - r.raised_at).total_seconds() for r in needs if r.acknowledged_at]
    disp_s = [(r.dispatched_at - r.raised_at).total_seconds() for r in rows if r.dispatched_at]
    within = {}
    for t in TARGETS:
        hit = counted = 0
        for r in needs:
            if r.acknowledged_at is not None:
                counted += 1
                hit += (r.acknowledged_at - r.raised_at).total_seconds() <= t
            elif (now - r.raised_at).total_seconds() > t:
                counted += 1
        within[t] = {"hit": hit, "counted": counted, "pct": (100.0 * hit / counted) if counted else None}
    closed_by_operator = [r for r in rows if r.status == "resolved"]
    false = sum(1 for r in closed_by_operator if r.closing_code == "false_alarm")
    return {
        "total": len(rows),
        "needing_answer": len(needs),
        "acknowledged": len(ack_s),
        "dispatched": len(disp_s),
        "auto_cleared": sum(1 for r in rows if r.status == "auto_cleared"),
        "open": sum(1 for r in rows if r.status in ("raised", "acknowledged", "dispatched")),
        "within_60": within[60],
        "within_180": within[180],
        "ack_median_s": percentile(ack_s, 50),
        "ack_p95_s": percentile(ack_s, 95),
        "dispatch_median_s": percentile(disp_s, 50),
        "dispatch_p95_s": percentile(disp_s, 95),
        "closed_by_operator": len(closed_by_operator),
        "false_alarms": false,
        "false_alarm_pct": (100.0 * false / len(closed_by_operator)) if closed_by_operator else None,
        "by_type": Counter(r.type for r in rows).most_common(),
        "by_area": Counter(r.area for r in rows).most_common(),
        "by_day": sorted(Counter(day_of(r.raised_at) for r in rows).items()),
        "by_closing": Counter(r.closing_code for r in rows if r.closing_code).most_common(),
    }
