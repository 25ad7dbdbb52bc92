"""Timer rules: every (deadline, type, device, message, details) that would fire if nothing else is heard.

``candidates`` is used by rules.py for ``tick``, ``next_deadline`` and the catch-up before an event. The
absence rules of issue 16 live here: the quiet model by place and hour (quiet.py), the bathroom with its
evidence, night out of bed explained by activity elsewhere, mattress vital signs, and registered absences
(外出报备) whose "not back by the expected time" check replaces the absence rules. Every absence alarm carries
``details["explain"]``: in Chinese, which expectation was broken and by how much.
"""
from __future__ import annotations

from functools import partial
from typing import Iterator

from . import events as E
from . import quiet
from .config import MonitorConfig
from .events import alarm_key
from .routine import (_boundary, _day_rule_deadline, _next_day_start, _night_rule_deadline,
                      expected_first_activity, learned_inactivity, learned_seated, routine_check_hour)
from .state import ElderState
from .stats import quantile
from .timeutil import DAY, local_day, local_time_of_day

HOLD = "_hold"            # internal: a pulsing pad's hold time runs out (no alarm)
_NIGHT_BUCKETS = {0, 1, 5}


def _hm(cfg: MonitorConfig, ts: float) -> str:
    from .timeutil import local_seconds
    s = local_seconds(cfg.tz, ts)
    return f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}"


def _min(s: float) -> str:
    return f"{s / 60:.0f} 分钟" if s < 5400 else f"{s / 3600:.1f} 小时"


def _why_bath(cfg: MonitorConfig, since: float) -> str:
    return (f"{_hm(cfg, since)} 进入卫生间,已 {_min(cfg.bathroom_overstay_min * 60)} 未见离开、"
            f"也无其他活动(上限 {cfg.bathroom_overstay_min:.0f} 分钟)。")


def _why_bathdoor(cfg: MonitorConfig, door_ts: float, lim: float) -> str:
    return f"卫生间门 {_hm(cfg, door_ts)} 打开后再无任何活动已 {_min(lim)};可能仍在卫生间内(门未必表示离开)。"


def registered_out(state: ElderState, cfg: MonitorConfig) -> bool:
    """The person left during a registered absence (or has not been heard since it began)."""
    au, af = cfg.away_until, cfg.away_from
    if au is None:
        return False
    if state.away_since is not None and state.away_since <= au and (af is None or state.away_since >= af - 12 * 3600):
        return True
    a = state.last_activity
    return af is not None and state.clock is not None and state.clock >= af and (a is None or a < af)


def _inactivity(state: ElderState, cfg: MonitorConfig, a: float) -> Iterator[tuple]:
    if state.away_since is not None:
        yield (a + cfg.away_h * 3600, E.A_INACTIVITY, None, "not_returned",
               {"last_activity": a, "threshold_h": cfg.away_h,
                "explain": lambda: f"{_hm(cfg, state.away_since)} 经入户门外出后已 {_min(cfg.away_h * 3600)} 未见返回"
                           f"(未报备外出)。"})
        return
    if not cfg.quiet_model:
        yield from _inactivity_v1(state, cfg, a)
        return
    ctx = state.ctx or quiet.context(state, cfg, a)
    pl, b = ctx.split(":", 1)
    night = int(b) in _NIGHT_BUCKETS
    default = {"bed": cfg.in_bed_max_h if night else cfg.inactivity_day_h,
               "seat": cfg.seated_h}.get(pl, cfg.inactivity_night_h if night else cfg.inactivity_day_h) * 3600
    lim, usual = quiet.limit(state, cfg, ctx, default, "room" if pl == "bathdoor" else None)
    days = len(state.q_hist.get(ctx, ()))
    yield (a + lim, E.A_INACTIVITY, None, "quiet_too_long",
           {"last_activity": a, "context": ctx, "threshold_h": round(lim / 3600, 2),
            "usual_h": round(usual / 3600, 2) if usual is not None else None,
            "explain": lambda: quiet.explain(ctx, lim, lim, usual, days)})


def _inactivity_v1(state: ElderState, cfg: MonitorConfig, a: float) -> Iterator[tuple]:
    """The rules before issue 16 (quiet_model=False): one day, one night, one seated limit."""
    if state.in_bed:
        start = max(a, state.bed_since or a)
        yield (start + cfg.in_bed_max_h * 3600, E.A_INACTIVITY, None, "in_bed_too_long",
               {"in_bed_since": state.bed_since, "threshold_h": cfg.in_bed_max_h,
                "explain": lambda: f"在床上已 {_min(cfg.in_bed_max_h * 3600)} 无任何活动。"})
    elif state.seat_since is not None and state.seat_since >= a:
        st = learned_seated(state, cfg)
        yield (a + st, E.A_INACTIVITY, None, "seated_too_long",
               {"seated_since": state.seat_since, "threshold_h": round(st / 3600, 2),
                "explain": lambda: f"坐在座位上已 {_min(st)} 无任何活动。"})
    else:
        n, m = learned_inactivity(state, cfg)
        dd = _day_rule_deadline(cfg, a, n)
        dn = _night_rule_deadline(cfg, a, m)
        if dd is not None and dd <= dn:
            yield (dd, E.A_INACTIVITY, None, "no_activity_day",
                   {"last_activity": a, "threshold_h": round(n / 3600, 2),
                    "explain": lambda: f"白天已 {_min(n)} 无任何活动。"})
        else:
            yield (dn, E.A_INACTIVITY, None, "no_activity_night",
                   {"last_activity": a, "threshold_h": round(m / 3600, 2),
                    "explain": lambda: f"夜间已 {_min(m)} 无任何活动。"})


def _routine_late(state: ElderState, cfg: MonitorConfig) -> bool:
    """A late riser or day sleeper whose first door/fridge event is usually after the latest check hour."""
    h = state.h_first_routine
    if not cfg.quiet_model or len(h) < cfg.learn_min_days:
        return False
    late = cfg.day_boundary_h + (quantile(h, 0.9) + cfg.routine_check_margin_min) / 60.0
    return late > max(cfg.routine_check_h, cfg.routine_check_ceiling_h)


def candidates(state: ElderState, cfg: MonitorConfig) -> Iterator[tuple]:
    """Yield (deadline, type, device, message, details) for timer rules not yet active."""
    active = state.active
    a = state.last_activity
    au, af = cfg.away_until, cfg.away_from

    def absence(dl: float) -> float:
        # a registered absence pauses the absence rules until the expected return
        if au is None or dl >= au or (af is not None and dl < af):
            return dl
        return au

    if state.in_bed and state.bed_pulse is not None:
        yield (state.bed_pulse + (state.bed_hold or 600.0), HOLD, None, "", {})
    if state.seat_since is not None and state.seat_pulse is not None:
        yield (state.seat_pulse + (state.seat_hold or 600.0), HOLD, None, "", {})

    reg_out = registered_out(state, cfg)
    if reg_out and au is not None and E.A_AWAY_OVERDUE not in active:
        grace = cfg.away_grace_min * 60
        yield (au + grace, E.A_AWAY_OVERDUE, None, "not_back_by_expected",
               {"away_from": af, "away_until": au, "grace_min": cfg.away_grace_min,
                "explain": lambda: f"已报备外出,预计 {_hm(cfg, au)} 返回;已过预计时间 {_min(grace)} 仍未见返回迹象。"})

    if a is not None and E.A_INACTIVITY not in active and not reg_out:
        for c in _inactivity(state, cfg, a):
            yield (absence(c[0]),) + c[1:]

    if a is not None and state.zone in cfg.bathroom_rooms and E.A_BATHROOM not in active:
        if state.bath_door_ts is None or not cfg.quiet_model:
            x = cfg.bathroom_overstay_min * 60
            why = partial(_why_bath, cfg, state.zone_since or a)
            msg = "bathroom_overstay"
        else:
            ctx = f"bathdoor:{quiet.bucket(cfg, a)}"
            x, usual = quiet.limit(state, cfg, ctx, 2700.0)
            if usual is not None and usual * cfg.quiet_factor > x:
                return_early = True     # here the door usually means "left": the inactivity rule applies
            else:
                return_early = False
            why = partial(_why_bathdoor, cfg, state.bath_door_ts or a, x)
            msg = "bathroom_door_then_quiet"
            if return_early:
                x = -1.0
        if x > 0:
            yield (a + x, E.A_BATHROOM, None, msg,
                   {"room": state.zone, "since": state.zone_since, "last_activity": a,
                    "threshold_min": round(x / 60), "explain": why})

    if (state.away_since is None and E.A_NO_ROUTINE not in active and not reg_out
            and (state.last_routine is not None or not cfg.quiet_model) and not _routine_late(state, cfg)):
        ch = routine_check_hour(state, cfg)
        b = cfg.day_boundary_h
        ref = state.last_routine
        if ref is not None:
            d = local_day(cfg.tz, ref, b) + 1
            dl = local_time_of_day(cfg.tz, d, ch, b)
        elif state.first_seen is not None:
            d = local_day(cfg.tz, state.first_seen, b)
            dl = local_time_of_day(cfg.tz, d, ch, b)
            if dl <= state.first_seen:
                dl = local_time_of_day(cfg.tz, d + 1, ch, b)
        else:
            dl = None
        if dl is not None:
            hh = f"{int(ch):02d}:{int(ch % 1 * 60):02d}"
            yield (absence(dl), E.A_NO_ROUTINE, None, "no_entrance_or_fridge",
                   {"check_hour": round(ch, 2), "last_routine": ref,
                    "explain": lambda: f"今天到 {hh} 仍未开过入户门或冰箱(本户通常在此之前已开过)。"})

    if (cfg.routine_deviation and a is not None and state.away_since is None and not reg_out
            and state.day is not None and E.A_ROUTINE_DEV not in active):
        exp = expected_first_activity(state, cfg)
        if exp is not None and exp[0] + exp[1] < 24 * 60:
            d = state.day
            if state.day_first is not None or state.dev_day == d:
                d += 1
            dl = _boundary(cfg, d) + (exp[0] + exp[1]) * 60
            if state.first_seen is not None and dl <= state.first_seen:
                dl = _boundary(cfg, d + 1) + (exp[0] + exp[1]) * 60
            usual = cfg.day_boundary_h * 60 + exp[0]
            yield (absence(dl), E.A_ROUTINE_DEV, None, "day_not_started",
                   {"usual_first_min": round(exp[0], 1), "tolerance_min": round(exp[1], 1),
                    "last_activity": a,
                    "explain": lambda: f"平时约 {int(usual // 60) % 24:02d}:{int(usual % 60):02d} 开始一天的活动,"
                               f"今天已晚 {_min(exp[1] * 60)} 仍未开始。"})

    if (state.oob_since is not None and not state.in_bed and E.A_NIGHT_OOB not in active
            and state.away_since is None):
        start = max(state.oob_since, a or state.oob_since) if cfg.oob_needs_quiet else state.oob_since
        dl = start + cfg.night_out_of_bed_min * 60
        if dl < _next_day_start(cfg, state.oob_since):
            yield (dl, E.A_NIGHT_OOB, None, "out_of_bed_at_night",
                   {"since": state.oob_since, "threshold_min": cfg.night_out_of_bed_min,
                    "explain": lambda: f"夜间 {_hm(cfg, state.oob_since)} 离床,之后 {cfg.night_out_of_bed_min:.0f} 分钟"
                               f"{'家中再无任何活动' if cfg.oob_needs_quiet else '未回到床上'},也未外出。"})

    if state.nobreath_since is not None and state.in_bed and E.A_NO_VITALS not in active:
        yield (state.nobreath_since + cfg.no_breath_s, E.A_NO_VITALS, None, "no_breathing",
               {"since": state.nobreath_since, "threshold_s": cfg.no_breath_s,
                "explain": lambda: f"床垫自 {_hm(cfg, state.nobreath_since)} 起测不到呼吸或心跳,已持续 "
                           f"{cfg.no_breath_s / 60:.0f} 分钟,老人仍在床上。"})

    for dev, rec in state.devices.items():
        if rec[2] and alarm_key(E.A_OFFLINE, dev) not in active:
            yield (rec[0] + cfg.offline_timeout_s, E.A_OFFLINE, dev, "no_heartbeat",
                   {"last_seen": rec[0], "timeout_s": cfg.offline_timeout_s})

    if (cfg.sos_test_period_days and state.sos_since is not None
            and E.A_SOS_TEST not in active):
        ref = max(state.sos_test or state.sos_since, state.sos_since)
        yield (ref + cfg.sos_test_period_days * DAY + cfg.sos_test_grace_h * 3600,
               E.A_SOS_TEST, None, "sos_test_overdue",
               {"last_test": state.sos_test, "period_days": cfg.sos_test_period_days})
