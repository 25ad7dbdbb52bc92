"""Readings with hysteresis: vitals (wristband, mattress), GPS geofence, room air. Used by rules.py."""
from __future__ import annotations

import math
from typing import Any

from . import events as E
from .config import MonitorConfig
from .emit import Signals, _clear, _raise, _sig, _update
from .events import SensorEvent, alarm_key
from .state import ElderState


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
