"""Electronic visit verification: the six elements and the anomaly rules flagged to supervisors."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Sequence

SHORT, GEOFENCE, OVERLAP, PHOTO_REUSE, ELDER_ABSENT, TOO_MANY, NO_LOCATION = (
    "short_visit", "outside_geofence", "helper_overlap", "photo_reused", "elder_absent", "too_many_visits",
    "no_location")
KINDS = (SHORT, GEOFENCE, OVERLAP, PHOTO_REUSE, ELDER_ABSENT, TOO_MANY, NO_LOCATION)

EVV_ELEMENTS = ("service_type", "recipient", "helper", "date", "location", "start", "end")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6371000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def evv_missing(record: dict) -> list[str]:
    """The six EVV elements (start and end are separate keys) a record still lacks."""
    return [k for k in EVV_ELEMENTS if record.get(k) in (None, "")]


@dataclass(frozen=True)
class Visit:
    order_id: int
    elder_id: int
    helper_id: int | None
    service: str
    start: datetime
    end: datetime | None
    home: tuple[float, float] | None        # the elder's home
    check_in: tuple[float, float] | None    # where the helper checked in
    min_minutes: int
    photo_hashes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Finding:
    order_id: int
    kind: str
    detail: str
    other_order_id: int | None = None


def check_visit(v: Visit, radius_m: float) -> list[Finding]:
    out = []
    if v.end is not None:
        minutes = (v.end - v.start).total_seconds() / 60
        if minutes < v.min_minutes:
            out.append(Finding(v.order_id, SHORT, f"服务时长 {minutes:.0f} 分钟，少于该服务最短 {v.min_minutes} 分钟"))
    if v.check_in is None or v.home is None:
        if v.check_in is None:
            out.append(Finding(v.order_id, NO_LOCATION, "签到没有定位"))
    else:
        d = distance_m(*v.home, *v.check_in)
        if d > radius_m:
            out.append(Finding(v.order_id, GEOFENCE, f"签到位置距老人住址 {d:.0f} 米，超出 {radius_m:.0f} 米范围"))
    return out


def overlaps(v: Visit, others: Iterable[Visit]) -> list[Finding]:
    """The same helper in two homes at once (another elder, intervals intersect)."""
    if v.helper_id is None:
        return []
    end = v.end or v.start + timedelta(minutes=max(v.min_minutes, 1))
    out = []
    for o in others:
        if o.order_id == v.order_id or o.helper_id != v.helper_id or o.elder_id == v.elder_id:
            continue
        o_end = o.end or o.start + timedelta(minutes=max(o.min_minutes, 1))
        if o.start < end and v.start < o_end:
            out.append(Finding(v.order_id, OVERLAP, f"同一助老员同时在另一老人家中服务（订单 {o.order_id}）", o.order_id))
    return out


def hamming(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


PHASH_THRESHOLD = 5  # of 64 bits


def photo_reuse(order_id: int, hashes: Sequence[int], seen: Iterable[tuple[int, int]],
                threshold: int = PHASH_THRESHOLD) -> list[Finding]:
    """``seen`` is (order id, hash) of photos of other orders; a near-identical one is a reused photo."""
    out = []
    for other_order, h2 in seen:
        if other_order == order_id:
            continue
        if any(hamming(h, h2) <= threshold for h in hashes):
            out.append(Finding(order_id, PHOTO_REUSE, f"照片与订单 {other_order} 的照片相同或几乎相同", other_order))
    return out


#: Alarm types that by themselves show the elder away from home (the wristband's location outside the safe area).
ELSEWHERE_ALARM_TYPES = frozenset({"geofence_exit"})
#: Help that takes the elder away (an ambulance); a helper, family or community worker going there does not.
ELSEWHERE_DISPATCHES = frozenset({"ambulance"})


@dataclass(frozen=True)
class Absence:
    """A registered absence: in hospital or away from home, from a date until a date (None = not back yet)."""
    start: date
    end: date | None
    kind: str = "hospital"       # hospital / away
    where: str = ""
    # a registered absence of home monitoring (外出报备) knows the hour: from start_at until end_at (the recorded
    # return, or the expected one when ``expected``); then the dates above are not used
    start_at: datetime | None = None
    end_at: datetime | None = None
    expected: bool = False


@dataclass(frozen=True)
class AlarmFact:
    alarm_id: int
    type: str
    label: str                   # the alarm type in words
    raised_at: datetime
    closed_at: datetime | None   # None = still open
    dispatches: tuple[str, ...] = ()   # dispatch targets (ambulance, helper, family, ...)


@dataclass(frozen=True)
class ElderStatus:
    deceased_on: date | None = None
    hospital: tuple[tuple[date, date | None], ...] = ()      # stays: (from, to or None = still in)
    elsewhere_alarms: tuple[tuple[datetime, datetime | None, str], ...] = ()  # open alarms placing them elsewhere
    absences: tuple[Absence, ...] = ()
    alarms: tuple[AlarmFact, ...] = ()


def places_elsewhere(a: AlarmFact) -> str | None:
    """Why an alarm shows the elder away from home, or None when it does not."""
    if a.type in ELSEWHERE_ALARM_TYPES:
        return "定位显示老人离开安全区域"
    if set(a.dispatches) & ELSEWHERE_DISPATCHES:
        return "已派出120救护车"
    return None


def _absence_text(a: Absence) -> str:
    what = "住院" if a.kind == "hospital" else "外出"
    where = f"（{a.where}）" if a.where else ""
    if a.start_at is not None:
        back = "" if a.end_at is None else (f"，预计 {a.end_at:%m-%d %H:%M} 返回" if a.expected
                                             else f"，{a.end_at:%m-%d %H:%M} 已返回")
        return f"服务期间老人有外出报备{where}：{a.start_at:%m-%d %H:%M} 起{back}"
    until = f"至 {a.end}" if a.end else "，尚未登记返回"
    return f"服务当天老人登记{what}{where}：{a.start} 起{until}"


def elder_absent(v: Visit, s: ElderStatus) -> list[Finding]:
    day = v.start.date()
    if s.deceased_on is not None and day >= s.deceased_on:
        return [Finding(v.order_id, ELDER_ABSENT, f"老人已于 {s.deceased_on} 去世")]
    end = v.end or v.start
    for ab in (*(Absence(a, b) for a, b in s.hospital), *s.absences):
        if ab.start_at is not None:
            hit = ab.start_at <= end and (ab.end_at is None or v.start <= ab.end_at)
        else:
            hit = ab.start <= day and (ab.end is None or day <= ab.end)
        if hit:
            return [Finding(v.order_id, ELDER_ABSENT, _absence_text(ab))]
    for a, b, what in s.elsewhere_alarms:
        if a <= end and (b is None or v.start <= b):
            return [Finding(v.order_id, ELDER_ABSENT, f"服务期间有未结告警显示老人不在家：{what}")]
    for al in sorted(s.alarms, key=lambda x: x.raised_at):
        why = places_elsewhere(al)
        if why and al.raised_at <= end and (al.closed_at is None or v.start <= al.closed_at):
            state = "至今未关闭" if al.closed_at is None else f"{al.closed_at:%m-%d %H:%M} 关闭"
            return [Finding(v.order_id, ELDER_ABSENT,
                            f"服务期间老人不在家：告警#{al.alarm_id}「{al.label}」{al.raised_at:%m-%d %H:%M} 触发，"
                            f"{why}，{state}，与服务时段 {v.start:%H:%M}–{end:%H:%M} 重叠")]
    return []


TOO_MANY_PER_DAY = 3


def too_many(order_id: int, same_day_count: int, limit: int = TOO_MANY_PER_DAY) -> list[Finding]:
    if same_day_count > limit:
        return [Finding(order_id, TOO_MANY, f"该老人当天有 {same_day_count} 次上门服务，超过 {limit} 次")]
    return []


def dhash(image: Any, size: int = 8) -> int:
    """64-bit difference hash of a PIL image (robust to re-encoding and resizing)."""
    g = image.convert("L").resize((size + 1, size))
    px = g.tobytes()
    bits = 0
    for row in range(size):
        for col in range(size):
            left, right = px[row * (size + 1) + col], px[row * (size + 1) + col + 1]
            bits = (bits << 1) | (1 if left > right else 0)
    return bits
