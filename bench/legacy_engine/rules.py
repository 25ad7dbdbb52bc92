"""The alarm rules: ``process`` (one event), ``tick`` (timers), ``next_deadline``.

Contract
--------
* ``process(state, config, event) -> (state, signals)`` applies one event. Before
  applying it, timer rules that came due strictly before ``event.ts`` are fired
  (catch-up), so an event that arrives late after a worker outage never hides an
  alarm that should have been raised meanwhile.
* ``tick(state, config, now) -> (state, signals)`` fires every timer rule whose
  deadline is ``<= now`` and that is not already active.
* ``next_deadline(state, config) -> float | None`` is the earliest time at which a
  timer rule could fire if no further event arrives. Schedule ``tick`` then.

The state object is updated in place and returned (for speed with 100k homes);
use ``state.copy()`` if you need the old one. ``state.active`` remembers which
alarms are raised, so ticking twice, or ticking again after a restart from the
persisted state, raises nothing twice; the engine emits ``clear`` when the
condition goes away (activity resumes, reading back in band, device back...).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterator

from . import events as E
from .config import MonitorConfig
from .events import SensorEvent, alarm_key
from .routine import (
    is_night,
    _boundary,
    _day_rule_deadline,
    _night_rule_deadline,
    _next_day_start,
    quiet_pieces,
    learned_inactivity,
    learned_seated,
    expected_first_activity,
    routine_check_hour,
)
from .emit import Signals, _clear, _raise, _sig, _update
from .state import ElderState
from .timeutil import DAY, local_day, local_time_of_day


_BATHROOM_EXIT_MIN_S = 10.0   # a bathroom-door opening this soon after entering is not an exit
_DOOR_ECHO_S = 60.0           # a bathroom door this soon after leaving is the door closing behind
_FLUSH_ECHO_S = 180.0         # a cistern keeps "flushing" while it refills
_PASSAGE_S = 120.0            # entrance-door events closer than this are one passage
_FIRST_ACTIVITY_SOURCES = E.ACTIVITY_KINDS | {E.BED}


# ---------------------------------------------------------------- helpers
def _roll_day(state: ElderState, cfg: MonitorConfig, ts: float) -> None:
    d = local_day(cfg.tz, ts, cfg.day_boundary_h)
    if state.day is None:
        state.day = d
        return
    if d <= state.day:
        return
    if state.day_first is not None:        # only days on which the elder was seen at home
        keep = cfg.history_days
        for hist, val in ((state.h_first, state.day_first),
                          (state.h_first_routine, state.day_first_routine),
                          (state.h_quiet_day, state.day_quiet_day),
                          (state.h_quiet_night, state.day_quiet_night),
                          (state.h_quiet_seat, state.day_quiet_seat or None)):
            if val is None:
                continue
            hist.append(round(val, 1))
            if len(hist) > keep:
                del hist[: len(hist) - keep]
    state.day = d
    state.day_first = state.day_first_routine = None
    state.day_quiet_day = state.day_quiet_night = state.day_quiet_seat = 0.0


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------- timer rules
def _timer_candidates(state: ElderState, cfg: MonitorConfig) -> Iterator[tuple]:
    """Yield (deadline, type, device, message, details) for timer rules not yet active."""
    active = state.active
    a = state.last_activity
    au = cfg.away_until

    def absence(dl: float) -> float:
        return dl if (au is None or dl >= au) else au

    if a is not None and E.A_INACTIVITY not in active:
        if state.away_since is not None:
            yield (absence(a + cfg.away_h * 3600), E.A_INACTIVITY, None, "not_returned",
                   {"last_activity": a, "threshold_h": cfg.away_h})
        elif state.in_bed:
            start = max(a, state.bed_since or a)
            yield (absence(start + cfg.in_bed_max_h * 3600), E.A_INACTIVITY, None,
                   "in_bed_too_long", {"in_bed_since": state.bed_since,
                                       "threshold_h": cfg.in_bed_max_h})
        elif state.seat_since is not None and state.seat_since >= a:
            st = learned_seated(state, cfg)
            yield (absence(a + st), E.A_INACTIVITY, None, "seated_too_long",
                   {"seated_since": state.seat_since, "threshold_h": round(st / 3600, 2)})
        else:
            n, m = learned_inactivity(state, cfg)
            dd = _day_rule_deadline(cfg, a, n)
            dn = _night_rule_deadline(cfg, a, m)
            if dd is not None and dd <= dn:
                yield (absence(dd), E.A_INACTIVITY, None, "no_activity_day",
                       {"last_activity": a, "threshold_h": round(n / 3600, 2)})
            else:
                yield (absence(dn), E.A_INACTIVITY, None, "no_activity_night",
                       {"last_activity": a, "threshold_h": round(m / 3600, 2)})

    if (a is not None and state.zone in cfg.bathroom_rooms and E.A_BATHROOM not in active):
        yield (a + cfg.bathroom_overstay_min * 60, E.A_BATHROOM, None, "bathroom_overstay",
               {"room": state.zone, "since": state.zone_since, "last_activity": a,
                "threshold_min": cfg.bathroom_overstay_min})

    if state.away_since is None and E.A_NO_ROUTINE not in active:
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
            yield (absence(dl), E.A_NO_ROUTINE, None, "no_entrance_or_fridge",
                   {"check_hour": round(ch, 2), "last_routine": ref})

    if (cfg.routine_deviation and a is not None and state.away_since is None
            and state.day is not None and E.A_ROUTINE_DEV not in active):
        exp = expected_first_activity(state, cfg)
        if exp is not None and exp[0] + exp[1] < 24 * 60:
            d = state.day
            if state.day_first is not None or state.dev_day == d:
                d += 1
            dl = _boundary(cfg, d) + (exp[0] + exp[1]) * 60
            if state.first_seen is not None and dl <= state.first_seen:
                dl = _boundary(cfg, d + 1) + (exp[0] + exp[1]) * 60
            yield (absence(dl), E.A_ROUTINE_DEV, None, "day_not_started",
                   {"usual_first_min": round(exp[0], 1), "tolerance_min": round(exp[1], 1),
                    "last_activity": a})

    if state.oob_since is not None and not state.in_bed and E.A_NIGHT_OOB not in active:
        dl = state.oob_since + cfg.night_out_of_bed_min * 60
        if dl < _next_day_start(cfg, state.oob_since):
            yield (dl, E.A_NIGHT_OOB, None, "out_of_bed_at_night",
                   {"since": state.oob_since, "threshold_min": cfg.night_out_of_bed_min})

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


def _fire_timers(state: ElderState, cfg: MonitorConfig, now: float, out: Signals,
                 inclusive: bool = True) -> None:
    due = [c for c in _timer_candidates(state, cfg)
           if (c[0] <= now if inclusive else c[0] < now)]
    for dl, type_, dev, msg, details in due:
        if type_ == E.A_ROUTINE_DEV:
            state.dev_day = local_day(cfg.tz, dl, cfg.day_boundary_h)
        _raise(state, cfg, out, type_, dl, msg, details, dev)


def deadlines(state: ElderState, config: MonitorConfig) -> dict[str, float]:
    """Pending timer rules: alarm key -> deadline (for consoles, tests and debugging)."""
    return {alarm_key(c[1], c[2]): c[0] for c in _timer_candidates(state, config)}


def summary(state: ElderState, config: MonitorConfig) -> dict:
    """JSON-able picture of what the engine believes and has learned, for the staff UI."""
    n, m = learned_inactivity(state, config)
    exp = expected_first_activity(state, config)
    return {
        "last_activity": state.last_activity,
        "zone": state.zone,
        "in_bed": state.in_bed,
        "seated": state.seat_since is not None and state.seat_since >= (state.last_activity or 0),
        "away_since": state.away_since,
        "history_days": len(state.h_first),
        "learned": {
            "inactivity_day_h": round(n / 3600, 2),
            "inactivity_night_h": round(m / 3600, 2),
            "seated_h": round(learned_seated(state, config) / 3600, 2),
            "first_activity_local_h": (round(config.day_boundary_h + exp[0] / 60, 2)
                                       if exp else None),
            "first_activity_tolerance_min": round(exp[1]) if exp else None,
            "routine_check_h": round(routine_check_hour(state, config), 2),
        },
        "pending": deadlines(state, config),
        "active": {k: {"type": v[0], "severity": v[1], "since": v[2]}
                   for k, v in state.active.items()},
    }


def next_deadline(state: ElderState, config: MonitorConfig) -> float | None:
    """Earliest time a timer rule could fire without further events (None: nothing pending)."""
    best = None
    for c in _timer_candidates(state, config):
        if best is None or c[0] < best:
            best = c[0]
    return best


def tick(state: ElderState, config: MonitorConfig, now: float) -> tuple[ElderState, Signals]:
    """Fire all timer rules due at ``now``."""
    out: Signals = []
    # fire first, with the statistics that next_deadline() used, then roll the day
    _fire_timers(state, config, now, out, inclusive=True)
    _roll_day(state, config, now)
    if state.clock is None or now > state.clock:
        state.clock = now
    return state, out


# ---------------------------------------------------------------- event rules
def process(state: ElderState, config: MonitorConfig,
            event: SensorEvent) -> tuple[ElderState, Signals]:
    """Apply one event; returns the (same, updated) state and the alarm signals."""
    cfg = config
    out: Signals = []
    ts = _num(event.ts)
    if ts is None:
        return state, out                   # no usable time: nothing to reason about
    if event.ts.__class__ is not float:
        event = dataclasses.replace(event, ts=ts)
    if state.elder_id is None:
        state.elder_id = event.elder_id
    if state.first_seen is None:
        state.first_seen = ts
    if state.clock is not None and ts > state.clock:
        _fire_timers(state, cfg, ts, out, inclusive=False)     # catch-up
    if state.clock is None or ts > state.clock:
        state.clock = ts
    _roll_day(state, cfg, ts)
    value = event.value if isinstance(event.value, dict) else {}
    kind = event.kind
    _device(state, cfg, event, value, out)

    if kind in E.ACTIVITY_KINDS:
        applied = _activity(state, cfg, event, value, out)
        if kind == E.SEAT and applied:
            if value.get("occupied", True):
                state.seat_since = ts
            else:
                state.seat_since = None
    if kind == E.SOS:
        state.sos_test = max(state.sos_test or ts, ts)
        _start_sos_tracking(state, ts)
        out.append(_sig(state, cfg, E.A_SOS, E.RAISE, ts, "sos_pressed", {"room": event.room},
                        event.device_id))
    elif kind == E.SOS_TEST:
        _start_sos_tracking(state, ts)
        state.sos_test = max(state.sos_test or ts, ts)
        _clear(state, cfg, out, E.A_SOS_TEST, ts, "sos_test_done")
    elif kind == E.FALL:
        det = {k: _num(value.get(k)) for k in ("confidence", "lat", "lon")}
        out.append(_sig(state, cfg, E.A_FALL, E.RAISE, ts, "fall_detected",
                        {k: v for k, v in det.items() if v is not None}, event.device_id))
    elif kind in (E.SMOKE, E.WATER_LEAK):
        key = alarm_key(kind, event.device_id)
        if value.get("alarm", True):
            if key in state.active:
                out.append(_sig(state, cfg, kind, E.UPDATE, ts, f"{kind}_repeat",
                                {"room": event.room}, event.device_id))
            else:
                _raise(state, cfg, out, kind, ts, f"{kind}_detected", {"room": event.room},
                       event.device_id)
        else:
            _clear(state, cfg, out, kind, ts, f"{kind}_cleared", {}, event.device_id)
    elif kind == E.BED:
        _bed(state, cfg, event, value, out)
    elif kind == E.VITALS:
        _vitals(state, cfg, event, value, out)
    elif kind == E.GPS:
        _gps(state, cfg, event, value, out)
    elif kind == E.AIR:
        _air(state, cfg, event, value, out)
    return state, out


def _air(state: ElderState, cfg: MonitorConfig, ev: SensorEvent, value: dict, out: Signals) -> None:
    """Room air quality with hysteresis: raise at >= enter, clear at <= exit, per device and measure."""
    for m in E.AIR_MEASURES:
        x = _num(value.get(m))
        band = cfg.air.get(m)
        if x is None or band is None or x < 0:
            continue
        enter, exit_ = band
        type_ = E.AIR_TYPES[m]
        active = alarm_key(type_, ev.device_id) in state.active
        details = {"measure": m, "value": x, "enter": enter, "exit": exit_, "room": ev.room}
        if not active and x >= enter:
            _raise(state, cfg, out, type_, ev.ts, "above_threshold", details, ev.device_id)
        elif active and x <= exit_:
            _clear(state, cfg, out, type_, ev.ts, "back_in_range", details, ev.device_id)


def register_device(state: ElderState, device_id: str, ts: float, *, heartbeat: bool = True,
                    device_type: str | None = None) -> ElderState:
    """Start watching a device when it is bound to the elder (before it ever reports).

    ``heartbeat=True``: it must send heartbeats, so silence since ``ts`` raises
    ``device_offline``. SOS-capable device types (``sos_button``, ``wristband``,
    ``sos_phone``) also start the periodic SOS-test clock.
    """
    rec = state.devices.get(device_id)
    if rec is None:
        state.devices[device_id] = [ts, None, 1 if heartbeat else 0]
    elif heartbeat:
        rec[2] = 1
    if isinstance(device_type, str) and device_type in E.SOS_DEVICE_TYPES:
        _start_sos_tracking(state, ts)
    return state


def unregister_device(state: ElderState, config: MonitorConfig, device_id: str,
                      ts: float) -> tuple[ElderState, Signals]:
    """Stop watching a device (unbound, replaced); clears its device-scoped alarms."""
    out: Signals = []
    state.devices.pop(device_id, None)
    for t in (E.A_OFFLINE, E.A_LOW_BATTERY, E.A_SMOKE, E.A_WATER_LEAK, E.A_AIR_CO2, E.A_AIR_PM25):
        _clear(state, config, out, t, ts, "device_removed", {}, device_id)
    return state, out


def _start_sos_tracking(state: ElderState, ts: float) -> None:
    if state.sos_since is None or ts < state.sos_since:
        state.sos_since = ts


def _device(state: ElderState, cfg: MonitorConfig, ev: SensorEvent, value: dict, out: Signals) -> None:
    ts = ev.ts
    bat = _num(value.get("battery"))
    rec = state.devices.get(ev.device_id)
    if rec is None:
        if ev.kind != E.HEARTBEAT and bat is None:
            return          # event-only sensors need no record (the registry has last contact)
        rec = state.devices[ev.device_id] = [ts, None, 0]
    elif ts > rec[0]:
        rec[0] = ts
    if ev.kind == E.HEARTBEAT:
        rec[2] = 1
        dtype = value.get("device_type")
        if isinstance(dtype, str) and dtype in E.SOS_DEVICE_TYPES:
            _start_sos_tracking(state, ts)
    if alarm_key(E.A_OFFLINE, ev.device_id) in state.active:
        _clear(state, cfg, out, E.A_OFFLINE, ts, "device_back", {}, ev.device_id)
    if bat is not None:
        rec[1] = bat
        key = alarm_key(E.A_LOW_BATTERY, ev.device_id)
        if key not in state.active and bat <= cfg.low_battery_pct:
            _raise(state, cfg, out, E.A_LOW_BATTERY, ts, "low_battery",
                   {"battery": bat, "threshold": cfg.low_battery_pct}, ev.device_id)
        elif key in state.active and bat >= cfg.low_battery_clear_pct:
            _clear(state, cfg, out, E.A_LOW_BATTERY, ts, "battery_ok", {"battery": bat},
                   ev.device_id)


def _activity(state: ElderState, cfg: MonitorConfig, ev: SensorEvent, value: dict,
              out: Signals) -> bool:
    """Apply an activity event; False if it was older than the latest activity."""
    ts = ev.ts
    role = value.get("role") if ev.kind == E.DOOR else None
    if role in (E.ROLE_ENTRANCE, E.ROLE_FRIDGE):
        if state.last_routine is None or ts > state.last_routine:
            state.last_routine = ts
        _clear(state, cfg, out, E.A_NO_ROUTINE, ts, "routine_seen", {"role": role})
    prev = state.last_activity
    if prev is not None and ts < prev:
        return False                            # late event: never move clocks backwards
    # learn the quiet period that just ended (not while away or asleep in bed)
    if prev is not None and state.away_since is None and not state.in_bed:
        if state.seat_since is not None and state.seat_since >= prev:
            if ts - prev > state.day_quiet_seat:
                state.day_quiet_seat = ts - prev
        else:
            dq, nq = quiet_pieces(cfg, prev, ts)
            if dq > state.day_quiet_day:
                state.day_quiet_day = dq
            if nq > state.day_quiet_night:
                state.day_quiet_night = nq
    if prev is None or ts - prev >= cfg.wake_gap_min * 60:
        state.burst_start = ts
    state.last_activity = ts
    if state.day is not None and local_day(cfg.tz, ts, cfg.day_boundary_h) == state.day:
        b = _boundary(cfg, state.day)
        if state.day_first is None:
            start = max(b, state.burst_start if state.burst_start is not None else ts)
            if (ts - start >= cfg.wake_sustain_min * 60
                    or role in (E.ROLE_ENTRANCE, E.ROLE_FRIDGE)):
                state.day_first = (start - b) / 60.0
        if role in (E.ROLE_ENTRANCE, E.ROLE_FRIDGE) and state.day_first_routine is None:
            state.day_first_routine = (ts - b) / 60.0

    # presence zone
    if role == E.ROLE_ENTRANCE:
        # door openings less than _PASSAGE_S apart are one passage; a passage while at
        # home is leaving, a passage while presumed out is coming back
        if value.get("open", True):
            if state.door_ts is None or ts - state.door_ts >= _PASSAGE_S:
                state.away_since = ts if state.away_since is None else None
            state.door_ts = ts
        state.zone, state.zone_since = "entrance", ts
    else:
        state.away_since = None
        bath = cfg.bathroom_rooms
        in_bath = state.zone in bath
        # just left the bathroom: the door swinging shut or the cistern refilling behind
        # the person is not a new visit
        echo = (state.bath_left is not None and not in_bath
                and ts - state.bath_left < (_FLUSH_ECHO_S if ev.kind == E.TOILET_FLUSH
                                            else _DOOR_ECHO_S))
        if role == E.ROLE_BATHROOM:
            # door-only bathrooms: an opening toggles in/out; an opening after a flush,
            # or >= 10 s after entering, is the way out
            if value.get("open", True):
                if in_bath and (state.bath_flush or (
                        state.zone_since is not None
                        and ts - state.zone_since >= _BATHROOM_EXIT_MIN_S)):
                    state.zone, state.zone_since = "hall", ts          # leaving
                    state.bath_left = ts
                elif not in_bath and not echo:
                    state.zone, state.zone_since = ev.room or "bathroom", ts
                state.bath_flush = False
        elif ev.room and ev.room != state.zone and not (echo and ev.room in bath):
            if ev.room in bath and in_bath:
                state.zone = ev.room                # toilet <-> bathroom: same visit
            else:
                if in_bath:
                    state.bath_left = ts
                state.zone, state.zone_since = ev.room, ts
                state.bath_flush = False
        if ev.kind == E.TOILET_FLUSH and state.zone in bath:
            state.bath_flush = True

    # activity clears absence alarms
    for t, msg in ((E.A_INACTIVITY, "activity_resumed"), (E.A_ROUTINE_DEV, "activity_resumed"),
                   (E.A_BATHROOM, "activity_resumed")):
        if t in state.active:
            _clear(state, cfg, out, t, ts, msg, {"device": ev.device_id, "room": ev.room})
    if E.A_NIGHT_OOB in state.active and not is_night(cfg, ts):
        _clear(state, cfg, out, E.A_NIGHT_OOB, ts, "day_started")
        state.oob_since = None
    return True


def _waking_up(cfg: MonitorConfig, ts: float) -> bool:
    """Out of bed within cfg.wake_window_h before the day starts: the morning, not a night excursion."""
    return cfg.wake_window_h > 0 and ts >= _next_day_start(cfg, ts) - cfg.wake_window_h * 3600


def _bed(state: ElderState, cfg: MonitorConfig, ev: SensorEvent, value: dict, out: Signals) -> None:
    ts = ev.ts
    in_bed = value.get("in_bed")
    if in_bed is not None and (state.bed_ts is None or ts >= state.bed_ts):
        state.bed_ts = ts
        in_bed = bool(in_bed)
        if in_bed != bool(state.in_bed) or state.in_bed is None:
            # a transition is activity (getting in / out of bed)
            _activity(state, cfg, ev, {}, out)
            state.in_bed = in_bed
            if in_bed:
                state.bed_since = ts
                state.oob_since = None
                _clear(state, cfg, out, E.A_NIGHT_OOB, ts, "back_in_bed")
            else:
                state.bed_since = None
                state.oob_since = ts if is_night(cfg, ts) and not _waking_up(cfg, ts) else None
    if state.in_bed:
        _vitals(state, cfg, ev, value, out)


def _vitals(state: ElderState, cfg: MonitorConfig, ev: SensorEvent, value: dict, out: Signals) -> None:
    ts = ev.ts
    for m in E.VITAL_MEASURES:
        x = _num(value.get(m))
        thr = cfg.vitals.get(m)
        if x is None or thr is None or x <= 0:
            continue
        rec = state.vitals.get(m)
        if rec is None:
            rec = state.vitals[m] = [ts, None, None]
        elif ts < rec[0]:
            continue                                # older than the last reading
        rec[0] = ts
        cur = rec[1]
        t_hi, t_lo = E.vitals_type("high", m), E.vitals_type("low", m)
        sev_hi = (E.CRITICAL if thr.critical_high is not None and x >= thr.critical_high
                  else thr.severity)
        sev_lo = (E.CRITICAL if thr.critical_low is not None and x <= thr.critical_low
                  else thr.severity)
        if cur == "high":
            if thr.high_exit is None or x <= thr.high_exit or thr.high_enter is None:
                _clear(state, cfg, out, t_hi, ts, "back_in_range", {"measure": m, "value": x})
                cur = rec[1] = None
            elif x > rec[2]:
                rec[2] = x
                _update(state, out, t_hi, ts, "new_peak", {"measure": m, "value": x},
                        ev.device_id, sev_hi)
        elif cur == "low":
            if thr.low_exit is None or x >= thr.low_exit or thr.low_enter is None:
                _clear(state, cfg, out, t_lo, ts, "back_in_range", {"measure": m, "value": x})
                cur = rec[1] = None
            elif x < rec[2]:
                rec[2] = x
                _update(state, out, t_lo, ts, "new_low", {"measure": m, "value": x},
                        ev.device_id, sev_lo)
        if cur is None:
            if thr.high_enter is not None and x >= thr.high_enter:
                rec[1], rec[2] = "high", x
                _raise(state, cfg, out, t_hi, ts, "above_threshold",
                       {"measure": m, "value": x, "enter": thr.high_enter,
                        "exit": thr.high_exit}, ev.device_id, sev_hi)
            elif thr.low_enter is not None and x <= thr.low_enter:
                rec[1], rec[2] = "low", x
                _raise(state, cfg, out, t_lo, ts, "below_threshold",
                       {"measure": m, "value": x, "enter": thr.low_enter,
                        "exit": thr.low_exit}, ev.device_id, sev_lo)


def _gps(state: ElderState, cfg: MonitorConfig, ev: SensorEvent, value: dict, out: Signals) -> None:
    gf = cfg.geofence
    lat, lon = _num(value.get("lat")), _num(value.get("lon"))
    if gf is None or lat is None or lon is None:
        return
    if state.gps_ts is not None and ev.ts < state.gps_ts:
        return
    state.gps_ts = ev.ts
    dist = _haversine_m(gf.lat, gf.lon, lat, lon)
    det = {"distance_m": round(dist), "radius_m": gf.radius_m, "lat": lat, "lon": lon}
    if not state.outside and dist > gf.radius_m + gf.margin_m:
        state.outside = True
        _raise(state, cfg, out, E.A_GEOFENCE, ev.ts, "left_geofence", det, ev.device_id)
    elif state.outside and dist < max(0.0, gf.radius_m - gf.margin_m):
        state.outside = False
        _clear(state, cfg, out, E.A_GEOFENCE, ev.ts, "back_inside", det, ev.device_id)
    elif state.outside and E.A_GEOFENCE in state.active:
        out.append(_sig(state, cfg, E.A_GEOFENCE, E.UPDATE, ev.ts, "still_outside", det,
                        ev.device_id))
