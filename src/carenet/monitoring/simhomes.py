"""Simulated homes for evaluating the rules engine in homes it has never seen (pure Python, no Django).

A home is a :class:`HomeSpec`: a sensor kit with declared semantics (state, pulse with hold time, edge) and a
person with habits (sleep window, day sleeper, naps, outings, long trips, night activity, early departures,
pets, several exits, radio losses). :func:`simulate` plans the person's life as a timeline of places, renders
it through the kit into :class:`SensorEvent` s, and returns an :class:`~carenet.monitoring.adl.AdlDataset`
with the ground truth as labels ("leave house", "toileting", "showering", "sleeping") plus the absences that
the family registered (外出报备).

Event ids say who caused the event: ``p-`` the person, ``pet-`` an animal, so the evaluation can stop the
person's stream at a collapse and keep the rest (see :func:`collapse_tail`). The specs and their seeds are
fixed in ``EVAL_HOMES`` and must not be tuned on (docs/monitoring-evaluation.md).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from .adl import Activity, AdlDataset, SensorSpec
from .engine.events import BED, DOOR, MOTION, SEAT, TOILET_FLUSH, SensorEvent

H = 3600.0


@dataclass(frozen=True)
class HomeSpec:
    name: str
    seed: int
    days: int = 28
    tz: str = "Asia/Shanghai"
    # ---- kit
    pir_rooms: tuple[str, ...] = ("bedroom", "living", "kitchen", "bathroom")
    pir: str = "state"              # state: motion true/false; edge: only "motion: true" pulses
    mat: str | None = "state"       # None, "state" (in_bed true/false), "pulse" (short on/off pulses, hold)
    mat_hold_s: float = 0.0         # the vendor's declared hold time for a pulsing mat
    mat_vitals: bool = False        # the mat reports heart and breath rate
    seat: str | None = None         # None, "state", "pulse"
    seat_hold_s: float = 0.0
    bath_door: str | None = "normal"  # None, "normal" (open/close on the way in and out), "swing"
    flush: bool = True
    fridge: bool = True
    exits: int = 1                  # entrance doors
    door_edge: bool = False         # doors report only the opening (no close)
    miss_p: float = 0.0             # probability that a door/edge event is lost on the radio
    # ---- person
    wake_h: float = 7.0
    bed_h: float = 22.5
    day_sleeper: bool = False       # sleeps from about 09:00 to 16:00, awake at night
    nap_p: float = 0.5              # afternoon nap probability
    nap_where: str = "bed"          # bed or seat
    outings: float = 0.8            # outings per day
    trip_every: int = 0             # a long trip every N days (0: none)
    trip_days: tuple[float, float] = (1.5, 4.0)
    trip_registered_p: float = 0.5  # the family registers the trip (外出报备)
    night_active_p: float = 0.1     # a long night-time activity elsewhere in the home
    early_leave_p: float = 0.0      # leaves the house before 06:00 straight from bed
    tv_h: tuple[float, float] = (1.0, 3.0)
    pets: float = 0.0               # animal PIR triggers per hour
    # the mapping the evaluation hands to the engine: device -> SensorSpec (with semantics)
    sensors: dict[str, SensorSpec] = field(default_factory=dict)


@dataclass
class Seg:
    start: float
    end: float
    place: str          # bed, seat, bedroom, living, kitchen, bathroom, hall, away
    label: str = ""     # toileting, showering, sleeping, leave house, ...


@dataclass
class SimHome:
    spec: HomeSpec
    dataset: AdlDataset
    timeline: list[Seg]
    registered: list[tuple[float, float, float]]   # (start, expected return, actual return)

    def place_at(self, t: float) -> Seg | None:
        for s in self.timeline:
            if s.start <= t < s.end:
                return s
        return None


# ---------------------------------------------------------------- the evaluation homes (fixed, not tuned)
EVAL_SEED = 20261207
EVAL_HOMES: tuple[HomeSpec, ...] = (
    HomeSpec("sim_standard", EVAL_SEED + 1),
    HomeSpec("sim_pulse_mat", EVAL_SEED + 2, mat="pulse", mat_hold_s=2400, seat="pulse", seat_hold_s=1200,
             pir="edge", nap_where="seat"),
    HomeSpec("sim_swing_door", EVAL_SEED + 3, bath_door="swing", pir_rooms=("living", "kitchen", "bathroom"),
             mat=None, seat="state"),
    HomeSpec("sim_pets_exits", EVAL_SEED + 4, pets=1.5, exits=2, door_edge=True, outings=1.5,
             pir_rooms=("bedroom", "living", "kitchen", "hall")),
    HomeSpec("sim_day_sleeper", EVAL_SEED + 5, day_sleeper=True, wake_h=16.0, bed_h=8.5, night_active_p=0.6,
             mat="state", mat_vitals=True),
    HomeSpec("sim_long_trips", EVAL_SEED + 6, trip_every=7, miss_p=0.05, pets=0.5, early_leave_p=0.15),
    HomeSpec("sim_vitals_night", EVAL_SEED + 7, mat="pulse", mat_hold_s=2400, mat_vitals=True,
             night_active_p=0.35, early_leave_p=0.1, wake_h=5.8, bed_h=21.0),
    HomeSpec("sim_door_only", EVAL_SEED + 8, pir_rooms=(), mat=None, seat=None, outings=1.2, trip_every=10),
)


def eval_homes() -> list[SimHome]:
    return [simulate(s) for s in EVAL_HOMES]


# ---------------------------------------------------------------- planning a life
def _plan(spec: HomeSpec, rng: random.Random, day0: float) -> tuple[list[Seg], list[tuple[float, float, float]]]:
    segs: list[Seg] = []
    registered: list[tuple[float, float, float]] = []
    t = day0 + (spec.wake_h - (spec.wake_h - spec.bed_h) % 24) * H     # in bed since the evening before

    def add(place: str, minutes: float, label: str = "") -> None:
        nonlocal t
        segs.append(Seg(t, t + minutes * 60, place, label))
        t += minutes * 60

    for d in range(spec.days):
        base = day0 + d * 86400
        wake = base + (spec.wake_h + rng.gauss(0, 0.5)) * H
        sleep = base + (spec.bed_h + rng.gauss(0, 0.4)) * H
        if sleep <= wake:
            sleep += 86400
        # ---- the night (or day, for a day sleeper) in bed, with bathroom trips and restless spells
        if t >= sleep - 2 * H:
            continue                        # still away on a trip
        early = t < wake and not spec.day_sleeper and rng.random() < spec.early_leave_p
        if early:
            wake = base + rng.uniform(4.8, 5.8) * H
        if t < wake:
            bed_end = wake
            while t < bed_end - 30 * 60:
                chunk = rng.uniform(1.5, 4.0) * H
                if t + chunk >= bed_end - 20 * 60:
                    add("bed", (bed_end - t) / 60, "sleeping")
                    break
                add("bed", chunk / 60, "sleeping")
                if rng.random() < spec.night_active_p / 2:
                    add("hall", 0.5)
                    add(rng.choice(["kitchen", "living"]), rng.uniform(30, 90), "night activity")
                else:
                    add("bathroom", rng.uniform(3, 8), "toileting")
            if t < bed_end:
                add("bed", (bed_end - t) / 60, "sleeping")
            if early:                       # leaves the house straight from bed
                add("bedroom", 3)
                add("hall", 1)
                add("away", rng.uniform(60, 150), "leave house")
        # ---- a long trip
        if spec.trip_every and d > 5 and d % spec.trip_every == 0:
            length = rng.uniform(*spec.trip_days) * 86400
            start = t
            add("hall", 1)
            add("away", length / 60, "leave house")
            if rng.random() < spec.trip_registered_p:
                registered.append((start, t + rng.uniform(0, 3) * H, t))
            add("hall", 1)
            continue
        # ---- the waking day
        add("bedroom", rng.uniform(2, 6))
        add("bathroom", rng.uniform(8, 20), "showering" if rng.random() < 0.4 else "toileting")
        add("kitchen", rng.uniform(15, 35), "breakfast")
        awake_end = sleep
        meals = [awake_end - (awake_end - t) * f for f in (0.62, 0.25)]
        outs = [t + rng.uniform(0.1, 0.8) * (awake_end - t) for _ in range(_poisson(rng, spec.outings))]
        nap_at = t + rng.uniform(0.35, 0.5) * (awake_end - t) if rng.random() < spec.nap_p else None
        last_bath = t
        while t < awake_end - 45 * 60:
            if outs and t >= min(outs):
                outs.remove(min(outs))
                add("hall", 1)
                add("away", rng.uniform(40, 240), "leave house")
                add("hall", 1)
                continue
            if meals and t >= min(meals):
                meals.remove(min(meals))
                add("kitchen", rng.uniform(20, 50), "meal")
                continue
            if nap_at is not None and t >= nap_at:
                nap_at = None
                add("bed" if spec.nap_where == "bed" else "seat", rng.uniform(30, 110), "nap")
                continue
            if t - last_bath > rng.uniform(1.5, 3.5) * H:
                last_bath = t
                add("bathroom", rng.uniform(3, 10), "toileting")
                continue
            r = rng.random()
            if r < 0.45:
                add("seat" if spec.seat else "living", rng.uniform(*spec.tv_h) * 60, "tv")
            elif r < 0.7:
                add("living", rng.uniform(10, 40))
            elif r < 0.85:
                add("kitchen", rng.uniform(5, 20))
            else:
                add("bedroom", rng.uniform(5, 25))
        if t < awake_end:
            add("living", (awake_end - t) / 60)
        add("bathroom", rng.uniform(5, 12), "toileting")
        add("bedroom", rng.uniform(2, 5))
    return segs, registered


def _poisson(rng: random.Random, lam: float) -> int:
    n, p, limit = 0, 1.0, pow(2.718281828, -lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


# ---------------------------------------------------------------- rendering through the kit
def _kit(spec: HomeSpec) -> dict[str, SensorSpec]:
    k: dict[str, SensorSpec] = {}
    pir_sem = "edge" if spec.pir == "edge" else "state"
    for r in spec.pir_rooms:
        k[f"pir-{r}"] = SensorSpec(MOTION, r, None, f"PIR {r}", pir_sem)
    door_sem = "edge" if spec.door_edge else "state"
    for i in range(spec.exits):
        k[f"door-entrance-{i}"] = SensorSpec(DOOR, "hall", "entrance", f"entrance {i}", door_sem)
    if spec.fridge:
        k["door-fridge"] = SensorSpec(DOOR, "kitchen", "fridge", "fridge", door_sem)
    if spec.bath_door:
        k["door-bathroom"] = SensorSpec(DOOR, "bathroom", "bathroom", f"bathroom door ({spec.bath_door})", door_sem)
    if spec.flush:
        k["flush"] = SensorSpec(TOILET_FLUSH, "bathroom", None, "flush", "edge")
    if spec.mat:
        k["mat"] = SensorSpec(BED, "bedroom", None, "mattress" + (" with vitals" if spec.mat_vitals else ""),
                              spec.mat, spec.mat_hold_s)
    if spec.seat:
        k["seat"] = SensorSpec(SEAT, "living", None, "seat pad", spec.seat, spec.seat_hold_s)
    return k


class _Out:
    def __init__(self, rng: random.Random, spec: HomeSpec, kit: dict[str, SensorSpec]):
        self.rng, self.spec, self.kit = rng, spec, kit
        self.ev: list[tuple[float, str, str, str, dict]] = []   # ts, who, device, kind, value

    def put(self, t: float, dev: str, value: dict, who: str = "p", lossy: bool = False) -> None:
        if dev not in self.kit:
            return
        if lossy and self.spec.miss_p and self.rng.random() < self.spec.miss_p:
            return
        self.ev.append((t, who, dev, self.kit[dev].kind, value))

    def motion(self, t: float, room: str, who: str = "p") -> None:
        dev = f"pir-{room}"
        if dev in self.kit:
            self.put(t, dev, {"motion": True}, who)
            if self.spec.pir != "edge":
                self.put(t + self.rng.uniform(20, 60), dev, {"motion": False}, who)

    def door(self, t: float, dev: str) -> None:
        self.put(t, dev, {"open": True}, lossy=True)
        if not self.spec.door_edge:
            self.put(t + self.rng.uniform(4, 25), dev, {"open": False}, lossy=True)

    def presence(self, t0: float, t1: float, dev: str, mode: str | None, vitals: bool, who: str = "p",
                 abnormal: bool = False) -> None:
        """A bed or seat pad occupied over [t0, t1)."""
        if mode is None or dev not in self.kit:
            return
        on = {"in_bed": True} if dev == "mat" else {"occupied": True}
        off = {"in_bed": False} if dev == "mat" else {"occupied": False}
        if mode == "state":
            self.put(t0, dev, dict(on), who)
            if vitals:
                t = t0 + 60
                while t < t1:
                    self.put(t, dev, {**on, **self._vitals(abnormal)}, who)
                    t += 300 if not abnormal else 60
            if t1 < float("inf"):
                self.put(t1, dev, dict(off), who)
            return
        # pulse: a short on/off pair every 20-60 s while occupied, with pauses while the person lies still
        t = t0
        while t < t1:
            v = {**on, **(self._vitals(abnormal) if vitals else {})}
            self.put(t, dev, v, who)
            self.put(t + 2, dev, dict(off), who)
            gap = self.rng.uniform(45, 120)
            if self.rng.random() < 0.02 and not abnormal:
                gap = self.rng.uniform(5, 35) * 60        # the mat pauses (no pulses) while the sleeper is still
            t += gap

    def _vitals(self, abnormal: bool) -> dict:
        if abnormal:
            return {"heart_rate": 0, "breath_rate": 0}
        return {"heart_rate": round(self.rng.uniform(52, 74)), "breath_rate": round(self.rng.uniform(11, 18))}


def _render(spec: HomeSpec, rng: random.Random, segs: list[Seg], out: _Out) -> None:
    prev = None
    for s in segs:
        t0, t1, p = s.start, s.end, s.place
        if p == "away":
            door = f"door-entrance-{rng.randrange(spec.exits)}"
            out.door(t0 - 20, door)
            out.door(t1 + 5, door)
            prev = p
            continue
        if p == "bed":
            out.motion(t0 - 30, "bedroom")
            out.presence(t0, t1, "mat", spec.mat, spec.mat_vitals)
            t = t0 + rng.expovariate(1 / (75 * 60))
            while t < t1 - 60:                      # turning over in bed now and then
                out.motion(t, "bedroom")
                t += rng.expovariate(1 / (75 * 60))
        elif p == "seat":
            out.motion(t0 - 20, "living")
            out.presence(t0, t1, "seat", spec.seat, False)
            t = t0 + rng.expovariate(1 / (25 * 60))
            while t < t1 - 60:
                out.motion(t, "living")
                t += rng.expovariate(1 / (25 * 60))
        elif p == "bathroom":
            if spec.bath_door:
                out.door(t0, "door-bathroom")
                if spec.bath_door == "swing":
                    for _ in range(rng.choice([0, 1, 1, 2])):
                        out.door(rng.uniform(t0 + 15, t1 - 20), "door-bathroom")
            t = t0 + 5
            while t < t1 - 20:
                out.motion(t, "bathroom")
                t += rng.uniform(60, 150)
            if spec.flush and s.label == "toileting" and rng.random() < 0.9:
                out.put(t1 - rng.uniform(20, 60), "flush", {})
            if spec.bath_door:
                out.door(t1 - 5, "door-bathroom")
        else:
            room = "hall" if p == "hall" else p
            t = t0 + 2
            while t < t1:
                out.motion(t, room)
                t += rng.uniform(50, 140)
            if p == "kitchen" and spec.fridge and (t1 - t0) > 300:
                for _ in range(rng.choice([1, 2, 3])):
                    out.door(rng.uniform(t0, t1), "door-fridge")
        prev = p
    del prev


def _pets(spec: HomeSpec, rng: random.Random, t0: float, t1: float, out: _Out) -> None:
    rooms = [r for r in spec.pir_rooms if r != "bathroom"]
    if not spec.pets or not rooms:
        return
    t = t0 + rng.expovariate(spec.pets / H)
    while t < t1:
        out.motion(t, rng.choice(rooms), who="pet")
        t += rng.expovariate(spec.pets / H)


def _day0(spec: HomeSpec) -> float:
    return datetime(2026, 3, 2, tzinfo=ZoneInfo(spec.tz)).timestamp()


def _events(out: _Out, elder: str) -> list[SensorEvent]:
    rows = sorted(out.ev, key=lambda e: e[0])
    return [SensorEvent(dev, elder, kind, out.kit[dev].room, ts, val, f"{who}-{i}")
            for i, (ts, who, dev, kind, val) in enumerate(rows)]


def simulate(spec: HomeSpec) -> SimHome:
    rng = random.Random(spec.seed)
    kit = _kit(spec)
    segs, registered = _plan(spec, rng, _day0(spec))
    out = _Out(random.Random(spec.seed * 7 + 1), spec, kit)
    _render(spec, rng, segs, out)
    _pets(spec, random.Random(spec.seed * 11 + 3), segs[0].start, segs[-1].end, out)
    acts = [Activity(s.start, s.end, s.label) for s in segs if s.label]
    ds = AdlDataset(spec.name, spec.tz, _events(out, spec.name), acts, kit)
    return SimHome(replace(spec, sensors=kit), ds, segs, registered)


def collapse_tail(home: SimHome, t: float, horizon_s: float) -> list[SensorEvent]:
    """Events after a collapse at ``t``: the person makes none; pets go on; a pad the person lies or sits on
    keeps reporting presence (a pulsing pad keeps pulsing; a vitals mattress reports no breathing)."""
    spec = home.spec
    rng = random.Random(int(t))
    out = _Out(rng, spec, home.dataset.sensors)
    seg = home.place_at(t)
    if seg is not None and seg.place == "bed":
        if spec.mat == "pulse" or spec.mat_vitals:
            out.presence(t + 30, t + horizon_s, "mat", "pulse" if spec.mat == "pulse" else "state",
                         spec.mat_vitals, abnormal=True)
            if spec.mat == "state":     # the first edge is already in the stream
                out.ev = [e for e in out.ev if "heart_rate" in e[4]]
    elif seg is not None and seg.place == "seat" and spec.seat == "pulse":
        out.presence(t + 30, t + horizon_s, "seat", "pulse", False)
    _pets(spec, random.Random(int(t) + 5), t, t + horizon_s, out)
    return [SensorEvent(dev, home.dataset.name, kind, out.kit[dev].room, ts, val, f"c{who}-{i}")
            for i, (ts, who, dev, kind, val) in enumerate(sorted(out.ev, key=lambda e: e[0]))]
