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

from . import events as E
from . import presence, quiet, timers
from .config import MonitorConfig
from .events import SensorEvent, alarm_key
from .routine import (
    learned_inactivity,
    learned_seated,
    expected_first_activity,
    routine_check_hour,
)
from .emit import Signals, _clear, _raise, _sig
from .presence import _activity, _bed
from .readings import _air, _gps, _num, _vitals
from .state import ElderState
from .timeutil import local_day


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
    if cfg.quiet_model:
        quiet.roll(state, cfg)
    state.day = d
    state.day_first = state.day_first_routine = None
    state.day_quiet_day = state.day_quiet_night = state.day_quiet_seat = 0.0


# ---------------------------------------------------------------- timer rules
_timer_candidates = timers.candidates


def _fire_timers(state: ElderState, cfg: MonitorConfig, now: float, out: Signals,
                 inclusive: bool = True) -> None:
    for _ in range(4):
        due = [c for c in _timer_candidates(state, cfg)
               if (c[0] <= now if inclusive else c[0] < now)]
        holds = [c for c in due if c[1] == timers.HOLD]
        if holds:
            # a pulsing pad's hold ran out: the person left it; then look again at what is due
            presence.expire_holds(state, cfg, now, out)
            continue
        for dl, type_, dev, msg, details in sorted(due, key=lambda c: c[0]):
            if callable(details.get("explain")):        # built only when an alarm is raised (cost)
                details = {**details, "explain": details["explain"]()}
            if type_ == E.A_ROUTINE_DEV:
                state.dev_day = local_day(cfg.tz, dl, cfg.day_boundary_h)
            _raise(state, cfg, out, type_, dl, msg, details, dev)
        return


def deadlines(state: ElderState, config: MonitorConfig) -> dict[str, float]:
    """Pending timer rules: alarm key -> deadline (for consoles, tests and debugging)."""
    return {alarm_key(c[1], c[2]): c[0] for c in _timer_candidates(state, config) if c[1] != timers.HOLD}


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

    if kind == E.SEAT:
        presence.seat(state, cfg, event, value, out)
    elif kind in E.ACTIVITY_KINDS and not presence.lone_motion(state, cfg, event, value):
        _activity(state, cfg, event, value, out)
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
    if state.last_activity == ts:
        state.ctx = quiet.context(state, cfg, ts)     # where and when the quiet period that starts now began
    return state, out


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

