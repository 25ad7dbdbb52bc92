"""Per-elder rule configuration.

``config_from_profile(profile, overrides)`` derives defaults from the elder's
profile (living alone, care level, dementia, geofence, time zone) and merges
staff overrides on top. Configs are plain dataclasses and round-trip through
JSON-able dicts (``to_dict`` / ``MonitorConfig.from_dict``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .events import CRITICAL, HIGH, LOW, MEDIUM


@dataclass(frozen=True, slots=True)
class VitalThreshold:
    """Hysteresis band for one measure.

    A ``high`` alarm is raised when a reading >= ``high_enter`` and cleared when a
    reading <= ``high_exit`` (``high_exit < high_enter``). Symmetric for ``low``:
    raised at <= ``low_enter``, cleared at >= ``low_exit``. ``None`` disables a side.
    """
    high_enter: float | None = None
    high_exit: float | None = None
    low_enter: float | None = None
    low_exit: float | None = None
    severity: str = HIGH
    critical_high: float | None = None    # beyond these the alarm is (or becomes) critical
    critical_low: float | None = None


DEFAULT_VITALS: dict[str, VitalThreshold] = {
    "heart_rate": VitalThreshold(high_enter=120, high_exit=110, low_enter=45, low_exit=50,
                                 critical_high=150, critical_low=40),
    "bp_sys": VitalThreshold(high_enter=180, high_exit=165, low_enter=90, low_exit=100,
                             critical_high=200, critical_low=80),
    "bp_dia": VitalThreshold(high_enter=110, high_exit=100, low_enter=50, low_exit=55,
                             severity=MEDIUM, critical_high=120),
    "spo2": VitalThreshold(low_enter=90, low_exit=93, critical_low=85),
    "breath_rate": VitalThreshold(high_enter=30, high_exit=26, low_enter=8, low_exit=10,
                                  critical_high=35, critical_low=6),
}


#: Room air quality (smart rooms): measure -> (enter, exit). Raised at a reading >= enter, cleared only at a
#: reading <= exit, so a value hovering at the threshold does not flap. CO2 in ppm, PM2.5 in µg/m³ (GB 3095 grade II
#: 24-hour limit 75).
DEFAULT_AIR: dict[str, tuple[float, float]] = {"co2": (1500.0, 1000.0), "pm25": (75.0, 50.0)}


@dataclass(frozen=True, slots=True)
class Geofence:
    lat: float
    lon: float
    radius_m: float
    margin_m: float = 50.0   # raise beyond radius+margin, clear inside radius-margin


DEFAULT_SEVERITY: dict[str, str] = {
    "sos": CRITICAL, "fall": CRITICAL, "smoke": CRITICAL, "water_leak": HIGH,
    "inactivity": HIGH, "bathroom_overstay": HIGH, "no_routine": MEDIUM,
    "night_out_of_bed": MEDIUM, "routine_deviation": MEDIUM, "geofence_exit": HIGH,
    "device_offline": MEDIUM, "low_battery": LOW, "sos_test_overdue": LOW,
    "air_high_co2": MEDIUM, "air_high_pm25": MEDIUM, "no_vital_signs": CRITICAL, "away_overdue": HIGH,
}


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    tz: str = "Asia/Shanghai"
    # local day window [day_start_h, night_start_h); the rest is night
    day_start_h: float = 7.0
    night_start_h: float = 22.0
    # "today" starts at this local hour for routine statistics and checks
    day_boundary_h: float = 4.0

    # inactivity (no activity anywhere)
    inactivity_day_h: float = 4.0       # N: by day, counted from max(last activity, day start)
    inactivity_night_h: float = 10.0    # M: by night, counted from last activity
    in_bed_max_h: float = 14.0          # while the mattress says "in bed"
    seated_h: float = 6.0               # while a seat pad is occupied (learned per home)
    seated_floor_h: float = 3.0
    seated_ceiling_h: float = 10.0
    away_h: float = 24.0                # after the entrance door was the last activity
    away_until: float | None = None     # registered absence (外出报备): expected return; absence rules off
    away_from: float | None = None      # registered absence: start (None with away_until: from now on)
    away_grace_min: float = 120.0       # not back this long after the expected return -> away_overdue

    # issue 16: per-place, per-hour quiet model (docs/monitoring-rules.md, "Quiet periods by place and hour")
    quiet_model: bool = True
    quiet_factor: float = 1.5           # THE sensitivity knob: limit = usual longest quiet x factor
    quiet_quantile: float = 1.0         # "usual longest": this quantile of the daily longest quiets (1 = max)
    quiet_min_days: int = 4             # samples a context needs before its own limit is used
    pets: bool = False                  # a pet lives here: a lone PIR pulse is not the person (also learned)
    no_breath_s: float = 120.0          # mattress reports no breathing / heart rate this long -> critical
    oob_needs_quiet: bool = True        # night out of bed only if nothing else was heard (not dementia)

    # learned per-home inactivity thresholds
    learn_thresholds: bool = True
    learn_min_days: int = 5
    history_days: int = 14
    learn_quantile: float = 0.95
    learn_factor: float = 1.25
    inactivity_day_floor_h: float = 2.0
    inactivity_day_ceiling_h: float = 8.0
    inactivity_night_floor_h: float = 6.0
    inactivity_night_ceiling_h: float = 14.0

    # bathroom overstay (last activity in a bathroom room, none elsewhere)
    bathroom_overstay_min: float = 30.0
    bathroom_rooms: tuple[str, ...] = ("bathroom", "toilet")

    # daily routine: an entrance-door or fridge event by this local hour
    routine_check_h: float = 12.0
    routine_check_learn: bool = True      # may move later (never earlier) for late risers
    routine_check_ceiling_h: float = 15.0
    routine_check_margin_min: float = 60.0

    # learned first activity of the day (routine_deviation)
    routine_deviation: bool = True
    deviation_k: float = 3.0              # tolerance = k * 1.4826 * MAD
    deviation_min_spread_min: float = 60.0
    deviation_max_spread_min: float = 240.0
    wake_gap_min: float = 30.0            # activity after a quiet gap this long starts a burst
    wake_sustain_min: float = 10.0        # a burst this long (or a door/fridge) = the day has begun

    # night out of bed
    night_out_of_bed_min: float = 30.0
    # Getting up this close to the day start is waking up, not a night excursion (0 = every exit counts).
    wake_window_h: float = 1.5

    # vitals
    vitals: dict[str, VitalThreshold] = field(default_factory=lambda: dict(DEFAULT_VITALS))

    # room air quality (hysteresis bands, see DEFAULT_AIR)
    air: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_AIR))

    # geofence (wristband GPS), None = off
    geofence: Geofence | None = None

    # device health
    heartbeat_interval_s: float = 300.0
    offline_timeout_s: float = 900.0      # 3 missed heartbeats
    low_battery_pct: float = 20.0
    low_battery_clear_pct: float = 25.0
    sos_test_period_days: float | None = 7.0
    sos_test_grace_h: float = 24.0

    severity: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))

    def __post_init__(self) -> None:
        if not (0 <= self.day_start_h < self.night_start_h <= 24):
            raise ValueError("need 0 <= day_start_h < night_start_h <= 24")
        if not (0 <= self.day_boundary_h < 24):
            raise ValueError("day_boundary_h must be in [0, 24)")

    def sev(self, alarm_type: str) -> str:
        if alarm_type.startswith("vitals_"):
            measure = alarm_type.split("_", 2)[2]
            thr = self.vitals.get(measure)
            return thr.severity if thr else HIGH
        return self.severity.get(alarm_type, MEDIUM)

    # ---- serialisation ----
    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["vitals"] = {k: dataclasses.asdict(v) for k, v in self.vitals.items()}
        d["geofence"] = dataclasses.asdict(self.geofence) if self.geofence else None
        d["bathroom_rooms"] = list(self.bathroom_rooms)
        d["severity"] = dict(self.severity)
        d["air"] = {k: list(v) for k, v in self.air.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MonitorConfig":
        return apply_overrides(cls(), d)


_FIELDS = None


def apply_overrides(base: MonitorConfig, overrides: dict[str, Any] | None) -> MonitorConfig:
    """Merge a dict of overrides on top of ``base``.

    ``vitals`` and ``severity`` merge per key (and per field inside a measure);
    ``geofence`` may be a dict or None; unknown keys raise ``KeyError`` so typos in
    staff overrides are caught.
    """
    if not overrides:
        return base
    global _FIELDS
    if _FIELDS is None:
        _FIELDS = {f.name for f in dataclasses.fields(MonitorConfig)}
    changes: dict[str, Any] = {}
    for k, v in overrides.items():
        if k not in _FIELDS:
            raise KeyError(f"unknown monitoring config field: {k}")
        if k == "vitals":
            merged = dict(base.vitals)
            for measure, thr in (v or {}).items():
                if thr is None:
                    merged.pop(measure, None)
                    continue
                cur = merged.get(measure, VitalThreshold())
                merged[measure] = (thr if isinstance(thr, VitalThreshold)
                                   else dataclasses.replace(cur, **thr))
            changes[k] = merged
        elif k == "air":
            bands = dict(base.air)
            for measure, band in (v or {}).items():
                if band is None:
                    bands.pop(measure, None)
                else:
                    enter, exit_ = float(band[0]), float(band[1])
                    if exit_ >= enter:
                        raise ValueError(f"air {measure}: exit must be below enter")
                    bands[measure] = (enter, exit_)
            changes[k] = bands
        elif k == "severity":
            severities = dict(base.severity)
            severities.update(v or {})
            changes[k] = severities
        elif k == "geofence":
            changes[k] = (v if (v is None or isinstance(v, Geofence)) else Geofence(**v))
        elif k == "bathroom_rooms":
            changes[k] = tuple(v)
        else:
            changes[k] = v
    return dataclasses.replace(base, **changes)


# care levels: 0 = independent, 1 = partially dependent (半失能), 2 = dependent (失能)
_CARE_LEVELS = {"independent": 0, "partial": 1, "semi": 1, "dependent": 2, "full": 2}


def config_from_profile(profile: dict[str, Any] | None,
                        overrides: dict[str, Any] | None = None) -> MonitorConfig:
    """Defaults derived from an elder profile, then staff overrides on top.

    Profile keys (all optional): ``tz`` (IANA zone), ``living_alone`` (bool),
    ``care_level`` (0/1/2 or "independent"/"partial"/"dependent"), ``dementia`` (bool),
    ``geofence`` ({"lat", "lon", "radius_m"}), ``heartbeat_interval_s``.
    """
    p = profile or {}
    d: dict[str, Any] = {}
    if p.get("tz"):
        d["tz"] = p["tz"]
    care = p.get("care_level", 0)
    care = _CARE_LEVELS.get(care, care) if isinstance(care, str) else int(care or 0)
    alone = bool(p.get("living_alone", True))
    dementia = bool(p.get("dementia", False))
    sev = dict(DEFAULT_SEVERITY)

    if care >= 2:
        d.update(inactivity_day_h=3.0, inactivity_night_h=9.0, bathroom_overstay_min=25.0,
                 night_out_of_bed_min=20.0)
        sev.update(night_out_of_bed=HIGH, no_routine=HIGH)
    elif care == 1:
        d.update(inactivity_day_h=3.5, night_out_of_bed_min=25.0)
    if not alone:
        # someone else lives there: absence rules are less telling, keep them but softer
        d.update(inactivity_day_h=max(d.get("inactivity_day_h", 4.0), 6.0))
        sev.update(inactivity=MEDIUM, no_routine=LOW, routine_deviation=LOW)
    if dementia:
        # night wandering is the danger: every exit from bed before the day start counts
        d.update(night_out_of_bed_min=min(d.get("night_out_of_bed_min", 30.0), 15.0), away_h=4.0, wake_window_h=0.0,
                 oob_needs_quiet=False)
        sev.update(night_out_of_bed=HIGH)
        gf = p.get("geofence")
        if gf:
            d["geofence"] = Geofence(lat=float(gf["lat"]), lon=float(gf["lon"]),
                                     radius_m=float(gf.get("radius_m", 500.0)),
                                     margin_m=float(gf.get("margin_m", 50.0)))
    if p.get("pets"):
        d["pets"] = True
    if p.get("heartbeat_interval_s"):
        hb = float(p["heartbeat_interval_s"])
        d.update(heartbeat_interval_s=hb, offline_timeout_s=3 * hb)
    d["severity"] = sev
    return apply_overrides(apply_overrides(MonitorConfig(), d), overrides)
