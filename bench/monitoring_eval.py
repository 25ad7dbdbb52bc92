"""Evaluation protocol of issue 16: detection in homes the engine has never seen (docs/monitoring-evaluation.md).

Fixed BEFORE any tuning (committed with the old engine's figures):

* homes: the two development homes (real: ``ordonez_a``, ``kasteren_a``) and the simulated kits of
  ``carenet.monitoring.simhomes.EVAL_HOMES`` (seeds fixed there);
* leave-one-home-out on the development homes: the operating point is chosen on one home and the figures are
  reported on the other; the simulated homes get the point chosen on both development homes;
* choice rule: the most sensitive setting whose pooled false alarms/day on the training homes is <= 0.1
  (if none, the setting with the fewest false alarms);
* false alarms: every raise (except device housekeeping) after the warm-up, split into at home / during a
  labelled absence; raises inside an absence that was registered (外出报备) are not counted;
* (a) daytime collapse: moments uniform over 07:00-22:00 local while at home, after the warm-up; the person's
  stream stops (pets and pressure pads go on, see ``simhomes.collapse_tail``); time to detect = first raise;
* (b) bathroom collapse: one moment inside every labelled bathroom visit (up to ``BATH_TRIALS``), same
  measurement; "caught" = within 90 minutes;
* trials and seeds: ``SEED``, ``DAY_TRIALS``, ``BATH_TRIALS``, horizon ``HORIZON_H``.
"""
from __future__ import annotations

import dataclasses
import random
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any, Callable
from zoneinfo import ZoneInfo

from carenet.monitoring.adl import AdlDataset, SensorSpec, load
from carenet.monitoring.simhomes import SimHome, collapse_tail, eval_homes

SEED = 20261207
DAY_TRIALS = 40
BATH_TRIALS = 40
HORIZON_H = 24.0
AIM_FA, AIM_TTD, AIM_BATH = 0.1, 120.0, 0.9
NOT_DETECTIONS = {"device_offline", "low_battery", "sos_test_overdue", "air_high_co2", "air_high_pm25",
                  "geofence_exit", "smoke", "water_leak", "sos", "fall"}
BATH_LABELS = {"toileting", "showering", "grooming", "use toilet", "take shower"}
H = 3600.0


@dataclass
class Home:
    name: str
    kind: str                      # dev | sim
    ds: AdlDataset
    events: list                   # with role / semantics attached, as ingest passes them
    warmup: int                    # dates with data before the evaluation starts
    registered: list[tuple[float, float, float]]
    sim: SimHome | None = None


@dataclass
class EngineAdapter:
    """One engine under test: its module, the knob of its sensitivity curve and how a registration reaches it."""
    name: str
    mod: ModuleType
    knob: str
    grid: tuple[float, ...]
    registered: Callable[[float, float], dict[str, Any]]


def _spec_for(ds: AdlDataset, dev: str) -> SensorSpec | None:
    if dev in ds.sensors:
        return ds.sensors[dev]
    tail = dev.split("-", 1)[-1]
    for k, v in ds.sensors.items():
        if k.lower() == tail:
            return v
    return None


def with_semantics(ds: AdlDataset) -> list:
    """Events as the ingest path hands them to the engine: the registry's door role and declared semantics."""
    out = []
    cache: dict[str, SensorSpec | None] = {}
    for e in ds.events:
        if e.device_id not in cache:
            cache[e.device_id] = _spec_for(ds, e.device_id)
        spec = cache[e.device_id]
        if spec is None:
            out.append(e)
            continue
        v = dict(e.value)
        if spec.role and e.kind == "door":
            v.setdefault("role", spec.role)
        if spec.semantics != "state":
            v["sem"] = spec.semantics
            if spec.hold_s:
                v["hold_s"] = spec.hold_s
        out.append(dataclasses.replace(e, value=v))
    return out


def homes(which: str = "all", mappings: tuple[str, ...] = ()) -> list[Home]:
    """The protocol's homes; ``mappings``: more homes given as a sensor log and a mapping file (kind "unseen",
    never used to choose the operating point)."""
    from carenet.monitoring.adl import load_mapped
    out: list[Home] = []
    for path in mappings:
        ds = load_mapped(path)
        out.append(Home(ds.name, "unseen", ds, with_semantics(ds), 5, []))
    if which in ("all", "dev"):
        for name in ("ordonez_a", "kasteren_a"):
            ds = load(name)
            out.append(Home(name, "dev", ds, with_semantics(ds), 5, []))
    if which in ("all", "sim"):
        for sh in eval_homes():
            out.append(Home(sh.spec.name, "sim", sh.dataset, with_semantics(sh.dataset), 7, sh.registered, sh))
    return out


def eval_start(h: Home) -> float:
    d = h.ds.dates_with_events()[h.warmup]
    return datetime(d.year, d.month, d.day, 4, tzinfo=ZoneInfo(h.ds.tz)).timestamp()


def _inside(t: float, iv: list[tuple[float, float]]) -> bool:
    return any(a <= t <= b for a, b in iv)


# ---------------------------------------------------------------- the replay driver
class Run:
    """Drives one home like the worker: every due deadline is ticked at its time, then the event is processed.
    The configuration changes at each registered absence (as the service rewrites the overrides)."""

    def __init__(self, eng: EngineAdapter, cfgs: list[tuple[float, Any]], state: Any = None):
        self.eng, self.cfgs = eng, cfgs
        self.state = state if state is not None else eng.mod.ElderState()
        self.signals: list = []

    def cfg(self, t: float) -> Any:
        c = self.cfgs[0][1]
        for t0, cc in self.cfgs:
            if t0 <= t:
                c = cc
        return c

    def advance(self, now: float) -> list:
        m, new = self.eng.mod, []
        cfg = self.cfg(now)
        dl = m.next_deadline(self.state, cfg)
        while dl is not None and dl <= now:
            self.state, sig = m.tick(self.state, self.cfg(dl), dl)
            new += sig
            dl = m.next_deadline(self.state, self.cfg(dl))
        self.signals += new
        return new

    def feed(self, ev: Any) -> list:
        new = self.advance(ev.ts)
        self.state, sig = self.eng.mod.process(self.state, self.cfg(ev.ts), ev)
        self.signals += sig
        return new + sig


def configs(eng: EngineAdapter, h: Home, value: float) -> list[tuple[float, Any]]:
    m = eng.mod
    base = m.apply_overrides(m.config_from_profile({"tz": h.ds.tz, "living_alone": True, "care_level": 0}),
                             {eng.knob: value})
    out = [(float("-inf"), base)]
    for start, expected, _actual in sorted(h.registered):
        out.append((start, m.apply_overrides(base, eng.registered(start, expected))))
    return out


def _first_detection(sigs: list, t0: float) -> Any:
    for x in sigs:
        if x.action == "raise" and x.type not in NOT_DETECTIONS and x.ts >= t0:
            return x
    return None


def false_alarms(eng: EngineAdapter, h: Home, value: float) -> dict:
    r = Run(eng, configs(eng, h, value))
    for e in h.events:
        r.feed(e)
    r.advance(h.ds.end)
    t0 = eval_start(h)
    days = (h.ds.end - t0) / 86400
    away = h.ds.away_intervals()
    reg = [(a, max(b, c)) for a, b, c in h.registered]
    home, out, regd = Counter(), Counter(), Counter()
    for x in r.signals:
        if x.action != "raise" or x.ts < t0 or x.type in NOT_DETECTIONS:
            continue
        key = f"{x.type}:{x.message}"
        if _inside(x.ts, reg):
            regd[key] += 1
        elif _inside(x.ts, away):
            out[key] += 1
        else:
            home[key] += 1
    return {"days": days, "home": home, "away": out, "registered": regd, "state": r.state}


def _moments(h: Home, rng: random.Random) -> tuple[list[float], list[float]]:
    t0, t1 = eval_start(h), h.ds.end - HORIZON_H * H
    away = h.ds.away_intervals()
    tz = ZoneInfo(h.ds.tz)
    day: list[float] = []
    tries = 0
    while len(day) < DAY_TRIALS and tries < 100 * DAY_TRIALS:
        tries += 1
        t = rng.uniform(t0, t1)
        if 7 <= datetime.fromtimestamp(t, tz).hour < 22 and not _inside(t, away):
            day.append(t)
    visits = [a for a in h.ds.activities if a.label.lower() in BATH_LABELS and t0 <= a.start < t1]
    if len(visits) > BATH_TRIALS:
        visits = rng.sample(visits, BATH_TRIALS)
    bath = [rng.uniform(a.start, max(a.start, a.end)) for a in visits]
    return sorted(day), sorted(bath)


def collapse_trials(eng: EngineAdapter, h: Home, value: float, seed: int = SEED) -> dict:
    """Time to detect (minutes, inf = not within the horizon) for (a) daytime and (b) bathroom collapses."""
    rng = random.Random(f"{seed}-{h.name}")
    day, bath = _moments(h, rng)
    todo = sorted([(t, "day") for t in day] + [(t, "bath") for t in bath])
    cfgs = configs(eng, h, value)
    r = Run(eng, cfgs)
    evs, i = h.events, 0
    res: dict[str, list[tuple[float, str]]] = {"day": [], "bath": []}
    for T, what in todo:
        while i < len(evs) and evs[i].ts <= T:
            r.feed(evs[i])
            i += 1
        r.advance(T)
        probe = Run(eng, cfgs, r.state.copy())
        tail = collapse_tail(h.sim, T, HORIZON_H * H) if h.sim is not None else []
        tail = with_semantics(dataclasses.replace(h.ds, events=tail)) if tail else []
        hit = None
        for e in tail:
            hit = _first_detection(probe.feed(e), T)
            if hit is not None:
                break
        if hit is None:
            hit = _first_detection(probe.advance(T + HORIZON_H * H), T)
        res[what].append(((hit.ts - T) / 60 if hit is not None else float("inf"),
                          f"{hit.type}:{hit.message}" if hit is not None else "-"))
    return res


def evaluate(eng: EngineAdapter, h: Home, value: float) -> dict:
    fa = false_alarms(eng, h, value)
    tr = collapse_trials(eng, h, value)
    return {"home": h.name, "value": value, "days": fa["days"], "fa_home": sum(fa["home"].values()),
            "fa_away": sum(fa["away"].values()), "fa_registered": sum(fa["registered"].values()),
            "fa_types": fa["home"] + fa["away"], "day": tr["day"], "bath": tr["bath"], "state": fa["state"]}


# ---------------------------------------------------------------- figures
def pooled(rows: list[dict]) -> dict:
    days = sum(r["days"] for r in rows)
    fh, fa = sum(r["fa_home"] for r in rows), sum(r["fa_away"] for r in rows)
    day = [t for r in rows for t, _ in r["day"]]
    bath = [t for r in rows for t, _ in r["bath"]]
    return {"days": days, "fa_home": fh / days, "fa_away": fa / days, "fa_total": (fh + fa) / days,
            "ttd_day": statistics.median(day) if day else float("nan"),
            "bath90": sum(t <= 90 for t in bath) / len(bath) if bath else float("nan"),
            "n_day": len(day), "n_bath": len(bath)}


def choose(results: dict[float, list[dict]]) -> float:
    """The operating point: most sensitive setting (lowest median TTD) with pooled FA/day <= AIM_FA."""
    ok = [(pooled(rows)["ttd_day"], v) for v, rows in results.items() if pooled(rows)["fa_total"] <= AIM_FA]
    if ok:
        return min(ok)[1]
    return min((pooled(rows)["fa_total"], v) for v, rows in results.items())[1]


def fmt_ttd(x: float) -> str:
    return "never" if x == float("inf") else f"{x:.0f}"


# ---------------------------------------------------------------- the printed report
def _table(header: list[str], rows: list[list]) -> None:
    cols = [header] + [[str(c) for c in r] for r in rows]
    w = [max(len(r[i]) for r in cols) for i in range(len(header))]
    print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(header)) + " |")
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in cols[1:]:
        print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |")


def _row(label: str, p: dict) -> list:
    return [label, f"{p['days']:.1f}", f"{p['fa_home']:.2f}", f"{p['fa_away']:.2f}", f"{p['fa_total']:.2f}",
            fmt_ttd(p["ttd_day"]), f"{p['bath90']:.0%}", p["n_day"], p["n_bath"]]


ROW_HEADER = ["home", "days", "FA/day at home", "FA/day away", "FA/day together", "daytime collapse median TTD min",
              "bathroom caught <=90 min", "daytime trials", "bathroom trials"]


def report(eng: EngineAdapter, hs: list[Home]) -> float:
    """Curves, leave-one-home-out, the operating point and the per-home figures for one engine."""
    print(f"\n=== engine: {eng.name} (knob `{eng.knob}`, grid {eng.grid}) ===")
    res: dict[float, list[dict]] = {v: [] for v in eng.grid}
    for h in hs:                                  # one line per home and setting as soon as it is measured
        for v in eng.grid:
            res[v].append(evaluate(eng, h, v))
            print("  measured:", " | ".join(str(c) for c in _row(f"{h.name} {eng.knob}={v}", pooled([res[v][-1]]))),
                  flush=True)
    dev = [i for i, h in enumerate(hs) if h.kind == "dev"]
    sim = [i for i, h in enumerate(hs) if h.kind != "dev"]
    for label, idx in (("development homes (pooled)", dev), ("unseen homes: simulated kits and mapped logs (pooled)", sim)):
        if not idx:
            continue
        print(f"\nCurve, {label}: false alarms/day vs median time-to-detect of a daytime collapse")
        _table([eng.knob] + ROW_HEADER[1:], [_row(str(v), pooled([res[v][i] for i in idx])) for v in eng.grid])
    if len(dev) == 2:
        print("\nLeave-one-home-out on the development homes (point chosen on the other home)")
        rows = []
        for test, train in ((dev[0], dev[1]), (dev[1], dev[0])):
            v = choose({k: [res[k][train]] for k in eng.grid})
            rows.append(_row(f"{hs[test].name} (point {eng.knob}={v} from {hs[train].name})",
                             pooled([res[v][test]])))
        _table(ROW_HEADER, rows)
    op = choose({k: [res[k][i] for i in dev] for k in eng.grid}) if dev else eng.grid[0]
    print(f"\nOperating point (chosen on the development homes, rule: most sensitive with <= {AIM_FA} FA/day): "
          f"{eng.knob} = {op}")
    rows = [_row(hs[i].name, pooled([res[op][i]])) for i in range(len(hs))]
    for label, idx in (("development homes", dev), ("unseen homes", sim), ("all homes", dev + sim)):
        if idx:
            rows.append(_row(f"**{label}**", pooled([res[op][i] for i in idx])))
    _table(ROW_HEADER, rows)
    print("\nFalse alarms at the operating point, by type:message (at home + away; registered absences excluded)")
    _table(["home", "false alarms", "registered (not counted)"],
           [[hs[i].name, ", ".join(f"{k} {n}" for k, n in sorted(res[op][i]["fa_types"].items())) or "-",
             res[op][i]["fa_registered"]] for i in range(len(hs))])
    print("\nFirst alarm of the collapse trials at the operating point")
    _table(["home", "daytime: first alarm (count)", "bathroom: first alarm (count)"],
           [[hs[i].name, _kinds(res[op][i]["day"]), _kinds(res[op][i]["bath"])] for i in range(len(hs))])
    return op


def _kinds(trials: list[tuple[float, str]]) -> str:
    return ", ".join(f"{k} {n}" for k, n in Counter(k for _, k in trials).most_common(4))
