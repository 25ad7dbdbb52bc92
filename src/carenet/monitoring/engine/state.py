"""Per-elder engine state and its JSON persistence contract.

The state is everything the engine remembers about one elder between calls:
last activity, presence zone, bed/vitals/geofence/device status, the learned
routine history and -- crucially -- ``active``: the alarms this engine has raised
and will clear itself. Persist ``state.to_dict()`` (JSON-able) in the same
transaction as the alarms produced by the call; after a restart,
``ElderState.from_dict(d)`` gives an engine that neither misses nor repeats
a timer alarm.
"""
from __future__ import annotations

import dataclasses
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

STATE_VERSION = 2


def _floats(values: Iterable[float] = ()) -> "array[float]":
    """Rolling histories are compact float arrays (8 bytes per value, not 32)."""
    return array("d", values)


_HISTORIES = ("h_first", "h_first_routine", "h_quiet_day", "h_quiet_night", "h_quiet_seat")


@dataclass(slots=True)
class ElderState:
    elder_id: str | int | None = None
    v: int = STATE_VERSION
    clock: float | None = None             # latest time seen (event ts or tick now)
    first_seen: float | None = None

    # activity and presence
    last_activity: float | None = None      # ts of the latest activity event
    zone: str | None = None                 # room the person is believed to be in
    zone_since: float | None = None
    away_since: float | None = None         # set when the person is presumed out (left by the door)
    door_ts: float | None = None            # latest entrance-door event (passage grouping)
    last_routine: float | None = None       # latest entrance-door or fridge event
    bath_flush: bool = False                # a toilet flush was heard during this bathroom visit
    bath_left: float | None = None          # when the person was last seen leaving the bathroom
    seat_since: float | None = None         # a seat pressure pad is occupied since
    burst_start: float | None = None        # first activity after the latest long quiet gap
    dev_day: int | None = None              # day for which routine_deviation was raised
    in_bed: bool | None = None
    bed_since: float | None = None
    bed_ts: float | None = None             # ts of the latest bed transition (ordering)
    oob_since: float | None = None          # got out of bed at night at this ts

    # learned routine: current day bucket and rolling history (newest last)
    day: int | None = None                  # local day index (from day_boundary_h)
    day_first: float | None = None          # minutes after boundary of first activity today
    day_first_routine: float | None = None
    day_quiet_day: float = 0.0              # longest daytime quiet today (s, as the day rule counts it)
    day_quiet_night: float = 0.0            # longest night quiet today (s, as the night rule counts it)
    day_quiet_seat: float = 0.0             # longest quiet while seated today (s)
    h_first: array = field(default_factory=_floats)
    h_first_routine: array = field(default_factory=_floats)
    h_quiet_day: array = field(default_factory=_floats)
    h_quiet_night: array = field(default_factory=_floats)
    h_quiet_seat: array = field(default_factory=_floats)

    # issue 16: declared device semantics, evidence-based presence, the per-place, per-hour quiet model
    bed_pulse: float | None = None          # latest presence pulse of a pulsing mattress (None: state mattress)
    bed_hold: float = 0.0                   # its declared hold time (s)
    seat_pulse: float | None = None
    seat_hold: float = 0.0
    weak_ts: float | None = None            # a lone PIR pulse not yet confirmed by other activity (pets)
    weak_n: int = 0                         # PIR pulses in the current unconfirmed window
    pet_evidence: int = 0                   # lone PIR pulses while the person was out or in bed elsewhere
    bath_door_ts: float | None = None       # the bathroom door opened during this visit (maybe the way out)
    bath_evidence: bool = False             # this home has bathroom motion or flush sensors (not door-only)
    ctx: str | None = None                  # context of the current quiet period: "<place>:<4-hour bucket>"
    q_day: dict[str, float] = field(default_factory=dict)      # today's longest quiet per context (s)
    q_hist: dict[str, list] = field(default_factory=dict)      # context -> daily longest quiets (s), newest last
    q_base: dict[str, float] = field(default_factory=dict)     # context -> learned usual longest quiet (s), daily
    nobreath_since: float | None = None     # the mattress reports no breathing / no heart rate since

    # vitals: measure -> [last reading ts, "high"|"low"|None, peak value]
    vitals: dict[str, list] = field(default_factory=dict)
    gps_ts: float | None = None
    outside: bool = False

    # devices: id -> [last seen ts, battery or None, tracked for heartbeats (0/1)]
    devices: dict[str, list] = field(default_factory=dict)
    sos_since: float | None = None          # SOS test tracking started
    sos_test: float | None = None           # last SOS test (or real press)

    # alarms raised by this engine that are still active: key -> [type, severity, ts]
    active: dict[str, list] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        # copy containers so the caller can't alias internal lists
        for k in _HISTORIES:
            d[k] = list(d[k])
        for k in ("vitals", "devices", "active", "q_hist"):
            d[k] = {kk: list(vv) for kk, vv in d[k].items()}
        d["q_day"], d["q_base"] = dict(self.q_day), dict(self.q_base)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ElderState":
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if kw.get("v", STATE_VERSION) > STATE_VERSION:
            raise ValueError(f"state version {kw['v']} is newer than engine ({STATE_VERSION})")
        for k in _HISTORIES:
            if k in kw:
                kw[k] = _floats(kw[k])
        intern = sys.intern
        for k in ("vitals", "devices", "active"):
            if k in kw:
                kw[k] = {intern(kk): [intern(x) if isinstance(x, str) else x for x in vv]
                         for kk, vv in kw[k].items()}
        if "q_hist" in kw:
            kw["q_hist"] = {intern(k): list(v) for k, v in kw["q_hist"].items()}
        if isinstance(kw.get("zone"), str):
            kw["zone"] = intern(kw["zone"])
        kw["v"] = STATE_VERSION
        return cls(**kw)

    def copy(self) -> "ElderState":
        return ElderState.from_dict(self.to_dict())
