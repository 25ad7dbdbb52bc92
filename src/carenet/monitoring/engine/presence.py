"""Where the person is: activity, presence zone (bathroom evidence), bed and seat pads with their declared
semantics, lone PIR pulses (pets), inferred absences. Used by rules.py (docs/monitoring-rules.md)."""
from __future__ import annotations

from . import events as E
from . import quiet
from .config import MonitorConfig
from .emit import Signals, _clear
from .events import SensorEvent
from .readings import _vitals
from .routine import _boundary, _next_day_start, is_night, quiet_pieces
from .state import ElderState
from .timeutil import local_day

_BATHROOM_EXIT_MIN_S = 10.0   # a bathroom-door opening this soon after entering is not an exit
_DOOR_ECHO_S = 60.0           # a bathroom door this soon after leaving is the door closing behind
_FLUSH_ECHO_S = 180.0         # a cistern keeps "flushing" while it refills
_PASSAGE_S = 120.0            # entrance-door events closer than this are one passage
_HOLD_S = 600.0               # a pulsing pad without a declared hold time
_CONFIRM_S = 300.0            # a second PIR pulse this soon confirms a person (not a pet)
_PET_EVIDENCE = 6             # lone pulses while out or in bed before the home counts as having a pet


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
    # learn the quiet period that just ended, by place and hour (not while out)
    if prev is not None and state.away_since is None and cfg.quiet_model:
        quiet.record(state, cfg, prev, ts, role == E.ROLE_ENTRANCE)
    # the old global day/night/seat limits (not while away or asleep in bed)
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
            # an opening while inside: with motion or flush sensors in the bathroom it is only a possible
            # way out (a swing door); door-only bathrooms: an opening after a flush, or >= 10 s after
            # entering, is the way out
            if value.get("open", True):
                settled = state.zone_since is not None and ts - state.zone_since >= _BATHROOM_EXIT_MIN_S
                if in_bath and state.bath_evidence:
                    if settled or state.bath_flush:
                        state.bath_door_ts = ts
                elif in_bath and (state.bath_flush or settled):
                    state.zone, state.zone_since = "hall", ts          # leaving
                    state.bath_left = ts
                    state.bath_door_ts = None
                elif not in_bath and not echo:
                    state.zone, state.zone_since = ev.room or "bathroom", ts
                    state.bath_door_ts = None
                state.bath_flush = False
        elif ev.room in bath and ev.kind in (E.MOTION, E.TOILET_FLUSH):
            if ev.kind == E.MOTION:
                state.bath_evidence = True      # a PIR inside: the door alone no longer says "left"
            if in_bath:
                state.zone = ev.room                # toilet <-> bathroom: same visit
                if (state.bath_door_ts is not None and ts - state.bath_door_ts > _BATHROOM_EXIT_MIN_S
                        and value.get("motion", True) is not False):
                    state.bath_door_ts = None       # heard inside after the door: still there
            elif not echo:
                state.zone, state.zone_since = ev.room, ts
                state.bath_flush = False
                state.bath_door_ts = None
        elif ev.room and ev.room != state.zone and not (echo and ev.room in bath):
            if ev.room in bath and in_bath:
                state.zone = ev.room
            else:
                if in_bath:
                    state.bath_left = ts
                state.zone, state.zone_since = ev.room, ts
                state.bath_flush = False
                state.bath_door_ts = None
        if (state.in_bed and state.bed_pulse is not None and ev.kind != E.BED
                and ev.room not in (None, "bedroom")):
            _leave_bed(state, cfg, ts, out)         # a pulsing mat: activity elsewhere means the person is up
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


def _leave_bed(state: ElderState, cfg: MonitorConfig, ts: float, out: Signals) -> None:
    state.in_bed = False
    state.bed_since = None
    state.oob_since = ts if is_night(cfg, ts) and not _waking_up(cfg, ts) else None
    state.nobreath_since = None
    _clear(state, cfg, out, E.A_NO_VITALS, ts, "out_of_bed")


def expire_holds(state: ElderState, cfg: MonitorConfig, now: float, out: Signals) -> None:
    """A pulsing pad that has not pulsed for its hold time is free (the person left, unheard)."""
    if state.in_bed and state.bed_pulse is not None and now >= state.bed_pulse + (state.bed_hold or _HOLD_S):
        _leave_bed(state, cfg, state.bed_pulse + (state.bed_hold or _HOLD_S), out)
    if (state.seat_since is not None and state.seat_pulse is not None
            and now >= state.seat_pulse + (state.seat_hold or _HOLD_S)):
        state.seat_since = None


def _hold(value: dict) -> float:
    h = value.get("hold_s")
    return float(h) if isinstance(h, (int, float)) and not isinstance(h, bool) and h > 0 else _HOLD_S


def _bed(state: ElderState, cfg: MonitorConfig, ev: SensorEvent, value: dict, out: Signals) -> None:
    ts = ev.ts
    in_bed = value.get("in_bed")
    pulse = value.get("sem") == E.SEM_PULSE
    if pulse:
        # a pulsing mat: every "occupied" pulse holds presence for hold_s; its "free" edges mean nothing
        if in_bed and (state.bed_pulse is None or ts >= state.bed_pulse):
            state.bed_pulse, state.bed_hold = ts, _hold(value)
            if not state.in_bed:
                _activity(state, cfg, ev, {}, out)
                state.in_bed, state.bed_since, state.oob_since = True, ts, None
                _clear(state, cfg, out, E.A_NIGHT_OOB, ts, "back_in_bed")
    elif in_bed is not None and (state.bed_ts is None or ts >= state.bed_ts):
        state.bed_ts = ts
        state.bed_pulse = None
        in_bed = bool(in_bed)
        if in_bed != bool(state.in_bed) or state.in_bed is None:
            # a transition is activity (getting in / out of bed)
            _activity(state, cfg, ev, {}, out)
            if in_bed:
                state.in_bed = True
                state.bed_since = ts
                state.oob_since = None
                _clear(state, cfg, out, E.A_NIGHT_OOB, ts, "back_in_bed")
            else:
                _leave_bed(state, cfg, ts, out)
    if state.in_bed:
        _vitals(state, cfg, ev, value, out)
        br, hr = value.get("breath_rate"), value.get("heart_rate")
        zero = any(isinstance(x, (int, float)) and not isinstance(x, bool) and x <= 0 for x in (br, hr))
        alive = all(isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0
                    for x in (br, hr) if x is not None) and (br is not None or hr is not None)
        if zero and state.nobreath_since is None:
            state.nobreath_since = ts
        elif alive:
            state.nobreath_since = None
            _clear(state, cfg, out, E.A_NO_VITALS, ts, "vital_signs_back")


def seat(state: ElderState, cfg: MonitorConfig, ev: SensorEvent, value: dict, out: Signals) -> None:
    """Seat pad: sitting down and getting up are activity; a pulsing pad's pulses only hold presence."""
    ts = ev.ts
    occupied = bool(value.get("occupied", True))
    if value.get("sem") == E.SEM_PULSE:
        if occupied:
            state.seat_pulse, state.seat_hold = ts, _hold(value)
            if state.seat_since is None and _activity(state, cfg, ev, value, out):
                state.seat_since = ts
        return
    state.seat_pulse = None
    if occupied and state.seat_since is None or not occupied and state.seat_since is not None:
        if _activity(state, cfg, ev, value, out):
            state.seat_since = ts if occupied else None


def lone_motion(state: ElderState, cfg: MonitorConfig, ev: SensorEvent, value: dict) -> bool:
    """True if this PIR event is set aside as possibly an animal. While the person is out, four pulses within
    10 minutes are needed to say they are back without the door; in bed elsewhere, or in a home with a pet,
    two within 5 minutes."""
    away = state.away_since is not None
    if ev.kind != E.MOTION or not (away or cfg.pets or state.pet_evidence >= _PET_EVIDENCE
                                   or (state.in_bed and ev.room not in (None, "bedroom"))):
        return False
    if value.get("motion", True) is False:
        return True                         # the end of a pulse confirms nothing
    need, window = (4, 600.0) if away else (2, _CONFIRM_S)
    w, ts = state.weak_ts, ev.ts
    if w is None or not 0 <= ts - w <= window:
        if w is not None and (away or state.in_bed):      # that window ended unconfirmed
            state.pet_evidence = min(state.pet_evidence + 1, 1000)
        state.weak_ts, state.weak_n = ts, 1
        return True
    state.weak_n += 1
    if state.weak_n >= need:
        state.weak_ts, state.weak_n = None, 0
        return False
    return True
