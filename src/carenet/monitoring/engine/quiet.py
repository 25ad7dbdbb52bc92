"""Quiet periods by place and hour (issue 16), and the Chinese explanation of every absence alarm.

A quiet period is the time between two pieces of the person's activity. Its *context* is where the person
was when it began (in bed, seated, in the bathroom, just out of the bathroom door, by the entrance, elsewhere)
and the 4-hour block of the local day in which it began. Per context the state keeps the longest quiet of
each day over the last ``history_days`` days on which that context occurred. The *usual longest quiet* of a
context is the ``quiet_quantile`` of those daily maxima (pooled with the neighbouring blocks, then the whole
place, while a context has fewer than ``quiet_min_days`` days). The limit is that times ``quiet_factor`` (the
sensitivity knob), within the place's floor and ceiling: the current quiet period is "improbably long for
that place and hour" once it passes the limit. Quiet periods that look like absences (they end with the
entrance door, or began at it) are not learned, so one missed departure cannot stretch a limit.
"""
from __future__ import annotations

from .config import MonitorConfig
from .state import ElderState
from .stats import clamp, quantile
from .timeutil import local_seconds

BUCKET_H = 4
BUCKETS = 24 // BUCKET_H
# place -> (floor h, ceiling h) of the limit, by day and by night (the blocks 20-24, 00-04, 04-08). The
# bathroom's own rule (bathroom_overstay) comes first; "bath" here is only the backstop behind it. Silence
# right after an entrance door is most likely an absence whose passage the door did not make clear ("door").
BOUNDS: dict[str, tuple[float, float]] = {
    "bed": (2.5, 14.0), "seat": (2.0, 8.0), "bath": (3.0, 8.0), "bathdoor": (0.75, 1.25),
    "door": (4.0, 12.0), "room": (1.5, 8.0),
}
NIGHT_BOUNDS: dict[str, tuple[float, float]] = {
    "bed": (4.0, 14.0), "seat": (3.0, 14.0), "bath": (3.0, 8.0), "bathdoor": (0.75, 1.25),
    "door": (6.0, 14.0), "room": (3.0, 14.0),
}
NIGHT_BUCKETS = frozenset({0, 1, 5})
PLACE_ZH = {"bed": "床上", "seat": "座位上", "bath": "卫生间内", "bathdoor": "刚离开卫生间(门已开)",
            "door": "入户门附近", "room": "室内其他位置"}


def bucket(cfg: MonitorConfig, ts: float) -> int:
    return int(local_seconds(cfg.tz, ts) // (BUCKET_H * 3600)) % BUCKETS


def place(state: ElderState, cfg: MonitorConfig) -> str:
    if state.in_bed:
        return "bed"
    if state.seat_since is not None and state.seat_since >= (state.last_activity or 0):
        return "seat"
    if state.zone in cfg.bathroom_rooms:
        return "bathdoor" if state.bath_door_ts is not None else "bath"
    if state.zone == "entrance":
        return "door"
    return "room"


def context(state: ElderState, cfg: MonitorConfig, ts: float) -> str:
    return f"{place(state, cfg)}:{bucket(cfg, ts)}"


def record(state: ElderState, cfg: MonitorConfig, prev: float, ts: float, ends_at_door: bool) -> None:
    """Learn the quiet period [prev, ts] that this activity ends (not absences, not while away)."""
    ctx = state.ctx
    if ctx is None or ts <= prev:
        return
    gap = ts - prev
    if ends_at_door and (ctx.startswith("door") or gap > 3600):
        return                                  # door ... silence ... door: an absence, not a quiet day at home
    if gap > state.q_day.get(ctx, 0.0):
        state.q_day[ctx] = gap


def roll(state: ElderState, cfg: MonitorConfig) -> None:
    """End of a local day: append today's maxima, recompute the usual longest quiet of every context."""
    keep = cfg.history_days
    for ctx, v in state.q_day.items():
        h = state.q_hist.setdefault(ctx, [])
        h.append(round(v, 1))
        if len(h) > keep:
            del h[: len(h) - keep]
    state.q_day = {}
    base: dict[str, float] = {}
    q, need = cfg.quiet_quantile, cfg.quiet_min_days
    for pl in BOUNDS:
        whole = [x for b in range(BUCKETS) for x in state.q_hist.get(f"{pl}:{b}", ())]
        for b in range(BUCKETS):
            own = state.q_hist.get(f"{pl}:{b}", [])
            if len(own) >= need:
                base[f"{pl}:{b}"] = quantile(own, q)
                continue
            near = own + state.q_hist.get(f"{pl}:{(b - 1) % BUCKETS}", []) + state.q_hist.get(
                f"{pl}:{(b + 1) % BUCKETS}", [])
            if len(near) >= need:
                base[f"{pl}:{b}"] = quantile(near, q)
            elif len(whole) >= need:
                base[f"{pl}:{b}"] = quantile(whole, q)
    state.q_base = base


def limit(state: ElderState, cfg: MonitorConfig, ctx: str, default_s: float,
          bounds_of: str | None = None) -> tuple[float, float | None]:
    """(limit in s, usual longest quiet in s or None while still learning) for a context; ``bounds_of``: use
    another place's floor and ceiling."""
    usual = state.q_base.get(ctx)
    pl, b = ctx.split(":", 1)
    pl = bounds_of or pl
    lo, hi = (NIGHT_BOUNDS if int(b) in NIGHT_BUCKETS else BOUNDS).get(pl, (1.5, 8.0))
    if usual is None:
        return clamp(default_s, lo * 3600, hi * 3600), None
    return clamp(usual * cfg.quiet_factor, lo * 3600, hi * 3600), usual


def _h(s: float) -> str:
    return f"{s / 60:.0f} 分钟" if s < 5400 else f"{s / 3600:.1f} 小时"


def explain(ctx: str, quiet_s: float, limit_s: float, usual_s: float | None, days: int) -> str:
    """Which expectation was broken, and by how much, in Chinese."""
    pl, b = ctx.split(":", 1)
    hours = f"{int(b) * BUCKET_H:02d}–{int(b) * BUCKET_H + BUCKET_H:02d}时"
    where = PLACE_ZH.get(pl, pl)
    if usual_s is None:
        return (f"最后一次活动时老人在{where}({hours}开始安静),已 {_h(quiet_s)} 无任何活动;"
                f"本户尚在学习期,按默认上限 {_h(limit_s)} 报警。")
    return (f"最后一次活动时老人在{where}({hours}开始安静),已 {_h(quiet_s)} 无任何活动;"
            f"过去 {days} 天此时此处最长的一次安静为 {_h(usual_s)},"
            f"现已是平时的 {quiet_s / max(usual_s, 1.0):.1f} 倍(上限 {_h(limit_s)})。")
