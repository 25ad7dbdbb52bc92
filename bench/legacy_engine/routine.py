"""Time windows (day and night, quiet periods) and the routine learned from a home's history.

Pure functions of the config and the state, used by the rules in rules.py.
"""
from __future__ import annotations

from .config import MonitorConfig
from .state import ElderState
from .stats import clamp, mad, median, quantile
from .timeutil import local_day, local_seconds, local_time_of_day


# ---------------------------------------------------------------- time windows
def is_night(cfg: MonitorConfig, ts: float) -> bool:
    s = local_seconds(cfg.tz, ts)
    return not (cfg.day_start_h * 3600 <= s < cfg.night_start_h * 3600)


def _day_window(cfg: MonitorConfig, cal_day: int) -> tuple[float, float]:
    return (local_time_of_day(cfg.tz, cal_day, cfg.day_start_h),
            local_time_of_day(cfg.tz, cal_day, cfg.night_start_h))


def _boundary(cfg: MonitorConfig, day: int) -> float:
    return local_time_of_day(cfg.tz, day, cfg.day_boundary_h, cfg.day_boundary_h)


def _day_rule_deadline(cfg: MonitorConfig, a: float, n_s: float) -> float | None:
    """Earliest t in a day window with t - max(a, window start) >= n_s."""
    d0 = local_day(cfg.tz, a)
    for d in range(d0, d0 + 3):
        ds, de = _day_window(cfg, d)
        if de <= a:
            continue
        cand = max(a, ds) + n_s
        if cand < de:
            return cand
    return None


def _night_rule_deadline(cfg: MonitorConfig, a: float, m_s: float) -> float:
    """Earliest t at night with t - a >= m_s."""
    t0 = a + m_s
    if is_night(cfg, t0):
        return t0
    _, de = _day_window(cfg, local_day(cfg.tz, t0))
    return de


def _next_day_start(cfg: MonitorConfig, ts: float) -> float:
    d = local_day(cfg.tz, ts)
    ds, _ = _day_window(cfg, d)
    return ds if ds > ts else _day_window(cfg, d + 1)[0]


def quiet_pieces(cfg: MonitorConfig, a: float, e: float) -> tuple[float, float]:
    """How far the day rule and the night rule would have counted during the quiet gap [a, e].

    Day rule: longest piece of the gap inside one day window (it counts from
    max(last activity, day start)). Night rule: from ``a`` to the last night instant
    of the gap. Learning these (not raw gaps) keeps the learned thresholds
    consistent with how the rules fire.
    """
    if e <= a:
        return 0.0, 0.0
    day_piece = 0.0
    d0, d1 = local_day(cfg.tz, a), local_day(cfg.tz, e)
    for d in range(d0, min(d1, d0 + 3) + 1):
        ds, de = _day_window(cfg, d)
        p = min(e, de) - max(a, ds)
        if p > day_piece:
            day_piece = p
    if is_night(cfg, e):
        night_piece = e - a
    else:
        ds, _ = _day_window(cfg, local_day(cfg.tz, e))
        night_piece = ds - a if ds > a else 0.0
    return day_piece, night_piece


# ---------------------------------------------------------------- learned routine
def learned_inactivity(state: ElderState, cfg: MonitorConfig) -> tuple[float, float]:
    """(day threshold s, night threshold s) in force for this home."""
    n = cfg.inactivity_day_h * 3600.0
    m = cfg.inactivity_night_h * 3600.0
    if cfg.learn_thresholds:
        if len(state.h_quiet_day) >= cfg.learn_min_days:
            n = clamp(quantile(state.h_quiet_day, cfg.learn_quantile) * cfg.learn_factor,
                      cfg.inactivity_day_floor_h * 3600.0, cfg.inactivity_day_ceiling_h * 3600.0)
        if len(state.h_quiet_night) >= cfg.learn_min_days:
            m = clamp(quantile(state.h_quiet_night, cfg.learn_quantile) * cfg.learn_factor,
                      cfg.inactivity_night_floor_h * 3600.0,
                      cfg.inactivity_night_ceiling_h * 3600.0)
    return n, m


def learned_seated(state: ElderState, cfg: MonitorConfig) -> float:
    """Inactivity threshold (s) while a seat pad is occupied and nothing else happens."""
    t = cfg.seated_h * 3600.0
    if cfg.learn_thresholds and len(state.h_quiet_seat) >= cfg.learn_min_days:
        t = clamp(quantile(state.h_quiet_seat, cfg.learn_quantile) * cfg.learn_factor,
                  cfg.seated_floor_h * 3600.0, cfg.seated_ceiling_h * 3600.0)
    return t


def expected_first_activity(state: ElderState, cfg: MonitorConfig) -> tuple[float, float] | None:
    """(median, tolerance) in minutes after the day boundary, or None while learning."""
    h = state.h_first
    if len(h) < cfg.learn_min_days:
        return None
    med = median(h)
    spread = clamp(cfg.deviation_k * 1.4826 * mad(h),
                   cfg.deviation_min_spread_min, cfg.deviation_max_spread_min)
    return med, spread


def routine_check_hour(state: ElderState, cfg: MonitorConfig) -> float:
    """Local hour of the daily routine check (may move later for a late riser)."""
    h = cfg.routine_check_h
    if cfg.routine_check_learn and len(state.h_first_routine) >= cfg.learn_min_days:
        late = cfg.day_boundary_h + (quantile(state.h_first_routine, 0.9)
                                     + cfg.routine_check_margin_min) / 60.0
        h = clamp(late, cfg.routine_check_h, max(cfg.routine_check_h, cfg.routine_check_ceiling_h))
    return h
