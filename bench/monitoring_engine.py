"""Monitoring rules engine: real-home replay evaluation and cost of timer rules.

    .venv/bin/python bench/monitoring_engine.py replay     # ADL evaluation (docs/monitoring-evaluation.md)
    .venv/bin/python bench/monitoring_engine.py cost       # 100,000 homes: memory, us/event, us/tick
    .venv/bin/python bench/monitoring_engine.py generalise # issue 16: unseen homes, curves, operating point
    .venv/bin/python bench/monitoring_engine.py            # all

Options: --trials N (collapse trials per home, default 500), --seed S, --homes N (cost).
Pure Python; no Django, no database: this measures the engine alone.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from carenet.monitoring.adl import AdlDataset, load  # noqa: E402
from carenet.monitoring.engine import (DeadlineScheduler, ElderState, MonitorConfig,  # noqa: E402
                                       SensorEvent, apply_overrides, config_from_profile,
                                       learned_inactivity, learned_seated, is_night,
                                       expected_first_activity, next_deadline, process,
                                       routine_check_hour, tick)

ABSENCE_TYPES = {"inactivity", "routine_deviation", "no_routine", "bathroom_overstay",
                 "night_out_of_bed"}
HOUR = 3600.0


# ====================================================================== replay driver
class Replayer:
    """Drives one home like the Django worker: tick at every due deadline, then process."""

    def __init__(self, cfg: MonitorConfig, state: ElderState | None = None):
        self.cfg = cfg
        self.state = state or ElderState()
        self.signals = []

    def advance(self, now: float) -> None:
        """Fire every deadline <= now, exactly at its time."""
        s, cfg = self.state, self.cfg
        dl = next_deadline(s, cfg)
        while dl is not None and dl <= now:
            s, sig = tick(s, cfg, dl)
            self.signals += sig
            dl = next_deadline(s, cfg)

    def feed(self, ev: SensorEvent) -> None:
        self.advance(ev.ts)
        self.state, sig = process(self.state, self.cfg, ev)
        self.signals += sig

    def first_raise_after(self, t0: float, horizon: float, types=ABSENCE_TYPES):
        """With no more events, the first absence alarm raised at or after t0."""
        s, cfg = self.state, self.cfg
        dl = next_deadline(s, cfg)
        while dl is not None and dl <= t0 + horizon:
            s, sig = tick(s, cfg, dl)
            for x in sig:
                if x.action == "raise" and x.type in types and x.ts >= t0:
                    return x
            dl = next_deadline(s, cfg)
        return None


def home_config(ds: AdlDataset, learn: bool = True, **over) -> MonitorConfig:
    cfg = config_from_profile({"tz": ds.tz, "living_alone": True, "care_level": 0})
    if not learn:
        over.update(learn_thresholds=False, routine_deviation=False, routine_check_learn=False)
    return apply_overrides(cfg, over)


def eval_start(ds: AdlDataset, warmup_days: int) -> float:
    """Local 04:00 after the first ``warmup_days`` dates with data."""
    dates = ds.dates_with_events()
    from datetime import datetime
    from zoneinfo import ZoneInfo
    d = dates[warmup_days]
    return datetime(d.year, d.month, d.day, 4, tzinfo=ZoneInfo(ds.tz)).timestamp()


def in_intervals(t: float, iv) -> bool:
    return any(a <= t <= b for a, b in iv)


def false_alarms(ds: AdlDataset, cfg: MonitorConfig, warmup_days: int):
    r = Replayer(cfg)
    for e in ds.events:
        r.feed(e)
    end = ds.end
    r.advance(end)
    t0 = eval_start(ds, warmup_days)
    days = (end - t0) / 86400
    away = ds.away_intervals()
    raises = [x for x in r.signals if x.action == "raise" and x.ts >= t0]
    at_home = Counter(x.type for x in raises if not in_intervals(x.ts, away))
    while_away = Counter(x.type for x in raises if in_intervals(x.ts, away))
    return days, at_home, while_away, r.state


def collapse_trials(ds: AdlDataset, cfg: MonitorConfig, warmup_days: int, trials: int,
                    seed: int, horizon_h: float = 48.0):
    """(a) the stream stops at a random at-home moment T of the evaluation period."""
    rng = random.Random(seed)
    t0, t1 = eval_start(ds, warmup_days), ds.end
    away = ds.away_intervals()
    times = []
    while len(times) < trials:
        t = rng.uniform(t0, t1)
        if not in_intervals(t, away):
            times.append(t)
    times.sort()
    out = []
    r = Replayer(cfg)
    evs, i = ds.events, 0
    for T in times:
        while i < len(evs) and evs[i].ts <= T:
            r.feed(evs[i])
            i += 1
        r.advance(T)
        probe = Replayer(cfg, r.state.copy())
        hit = probe.first_raise_after(T, horizon_h * HOUR)
        out.append((T, hit, situation(r.state, cfg, T)))
    return out


def bathroom_trials(ds: AdlDataset, cfg: MonitorConfig, warmup_days: int, seed: int,
                    per_visit: int = 3, horizon_h: float = 48.0):
    """(b) a bathroom visit is extended: collapse at a random moment inside a labelled
    bathroom activity; nothing after it is heard."""
    labels = {"toileting", "showering", "grooming", "use toilet", "take shower"}
    rng = random.Random(seed)
    t0 = eval_start(ds, warmup_days)
    visits = [a for a in ds.activities if a.label.lower() in labels and a.start >= t0]
    times = sorted(rng.uniform(a.start, max(a.start, a.end)) for a in visits
                   for _ in range(per_visit))
    out = []
    r = Replayer(cfg)
    evs, i = ds.events, 0
    for T in times:
        while i < len(evs) and evs[i].ts <= T:
            r.feed(evs[i])
            i += 1
        r.advance(T)
        probe = Replayer(cfg, r.state.copy())
        out.append((T, probe.first_raise_after(T, horizon_h * HOUR)))
    return out, len(visits)


def situation(state: ElderState, cfg: MonitorConfig, t: float) -> str:
    """Where the person was when the stream stopped, as the engine saw it."""
    if state.in_bed:
        return "in bed"
    if state.seat_since is not None and state.seat_since >= (state.last_activity or 0):
        return "seated"
    if state.zone in cfg.bathroom_rooms:
        return "bathroom"
    if state.away_since is not None:
        return "after entrance door"
    return "elsewhere, day" if not is_night(cfg, t) else "elsewhere, night"


def ttd_row(results):
    n = len(results)
    ttd = sorted((h.ts - T) / 60 for T, h, *_ in results if h is not None)
    det = len(ttd)
    if not ttd:
        return [n, "0%", "-", "-", "-", "-", "-", "-", "-"]
    q = lambda p: ttd[min(len(ttd) - 1, int(round(p * (len(ttd) - 1))))]  # noqa: E731
    types = Counter(h.type for _, h, *_ in results if h is not None)
    return [n, f"{det / n:.0%}", f"{statistics.median(ttd):.0f}", f"{q(0.9):.0f}",
            f"{ttd[-1]:.0f}", f"{sum(t <= 60 for t in ttd) / n:.0%}",
            f"{sum(t <= 240 for t in ttd) / n:.0%}", f"{sum(t <= 720 for t in ttd) / n:.0%}",
            ", ".join(f"{k} {v}" for k, v in types.most_common())]


def fmt_counter(c: Counter, days: float) -> str:
    if not c:
        return "-"
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items()))


def table(header, rows) -> None:
    cols = [header] + [[str(c) for c in r] for r in rows]
    w = [max(len(r[i]) for r in cols) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |"  # noqa
    print(line(header))
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in cols[1:]:
        print(line(r))


TTD_HEADER = ["home", "config", "scenario", "trials", "detected <=48h", "median min",
              "p90 min", "max min", "<=1h", "<=4h", "<=12h", "first alarm (count)"]


def cmd_replay(args) -> None:
    homes = [("ordonez_a", 5), ("kasteren_a", 5)]
    print("== Replay of real homes through the rules engine ==")
    print(f"profile: living alone, care level 0 (config_from_profile defaults); seed {args.seed}; "
          f"{args.trials} collapse trials per home; warm-up = first 5 dates with data")
    fa_rows, ttd_rows, sit_rows, learned_rows = [], [], [], []
    for name, warm in homes:
        ds = load(name)
        for label, learn in (("static", False), ("learned", True)):
            cfg = home_config(ds, learn=learn)
            days, home, away, st = false_alarms(ds, cfg, warm)
            tot = sum(home.values())
            fa_rows.append([name, label, f"{days:.1f}", tot, f"{tot / days:.2f}",
                            fmt_counter(home, days), fmt_counter(away, days)])
            if learn:
                n, m = learned_inactivity(st, cfg)
                exp = expected_first_activity(st, cfg)
                learned_rows.append([
                    name, f"{n / HOUR:.2f}", f"{m / HOUR:.2f}",
                    f"{learned_seated(st, cfg) / HOUR:.2f}",
                    f"{exp[0] / 60 + cfg.day_boundary_h:.2f}" if exp else "-",
                    f"{exp[1]:.0f}" if exp else "-", f"{routine_check_hour(st, cfg):.2f}"])
            res = collapse_trials(ds, cfg, warm, args.trials, args.seed)
            ttd_rows.append([name, label, "(a) stream stops"] + ttd_row(res))
            bres, nv = bathroom_trials(ds, cfg, warm, args.seed)
            ttd_rows.append([name, label, f"(b) bathroom, {nv} visits x3"] + ttd_row(bres))
            if learn:
                groups: dict[str, list] = {}
                for r in res:
                    groups.setdefault(r[2], []).append(r)
                for g in sorted(groups):
                    sit_rows.append([name, g] + ttd_row(groups[g]))
    print("\nFalse alarms on normal days (evaluation period after warm-up; raises per type)")
    table(["home", "config", "days", "at home", "per day", "at home, by type",
           "during labelled 'leave house'"], fa_rows)
    print("\nThresholds learned by the end of the replay")
    table(["home", "day inactivity h", "night inactivity h", "seated h",
           "usual first activity (local h)", "tolerance min", "routine check h"], learned_rows)
    print("\nTime to detect injected emergencies (minutes from collapse to the first absence alarm)")
    table(TTD_HEADER, ttd_rows)
    print("\n(a) by where the person was when the stream stopped (learned config)")
    table(["home", "situation"] + TTD_HEADER[3:], sit_rows)


SWEEP = [
    ("defaults", {}),
    ("bathroom 20 min", {"bathroom_overstay_min": 20}),
    ("bathroom 45 min", {"bathroom_overstay_min": 45}),
    ("learn factor 1.0", {"learn_factor": 1.0}),
    ("learn factor 1.5", {"learn_factor": 1.5}),
    ("deviation k=2", {"deviation_k": 2.0}),
    ("deviation k=2, factor 1.0", {"deviation_k": 2.0, "learn_factor": 1.0}),
    ("no learning", None),
]


def cmd_sweep(args) -> None:
    """Sensitivity of false alarms and time to detect to the main knobs (both homes pooled)."""
    print(f"\n== Sensitivity (both homes pooled; {args.trials} collapse trials per home, "
          f"seed {args.seed}) ==")
    rows = []
    homes = [(load("ordonez_a"), 5), (load("kasteren_a"), 5)]
    for label, over in SWEEP:
        fa, days, a_res, b_res = 0, 0.0, [], []
        for ds, warm in homes:
            cfg = home_config(ds, learn=over is not None, **(over or {}))
            d, home, _, _ = false_alarms(ds, cfg, warm)
            fa += sum(home.values())
            days += d
            a_res += collapse_trials(ds, cfg, warm, args.trials, args.seed)
            b_res += bathroom_trials(ds, cfg, warm, args.seed)[0]
        ra, rb = ttd_row(a_res), ttd_row(b_res)
        within30 = sum(1 for T, h, *_ in b_res if h is not None and h.ts - T <= 1800) / len(b_res)
        rows.append([label, f"{fa / days:.2f}", ra[2], ra[3], ra[6], rb[2], rb[3], f"{within30:.0%}",
                     rb[5]])
    table(["config", "false alarms/day", "(a) median min", "(a) p90 min", "(a) <=4h",
           "(b) median min", "(b) p90 min", "(b) <=30 min", "(b) <=1h"], rows)


# ====================================================================== cost
def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _template_state(cfg: MonitorConfig, t0: float) -> ElderState:
    """15 days of a synthetic home so that history, devices and vitals are full.

    Devices: PIR kitchen/bathroom/living, fridge and entrance magnets, mattress,
    wristband (vitals), gateway (heartbeats) and SOS button (heartbeats, weekly test).
    """
    rng = random.Random(1)
    s = ElderState(elder_id=0)
    sensors = [("pir-k", "motion", "kitchen", {"motion": True}),
               ("pir-b", "motion", "bathroom", {"motion": True}),
               ("pir-l", "motion", "living", {"motion": True}),
               ("fr", "door", "kitchen", {"open": True, "role": "fridge"})]
    t = t0
    for d in range(15):
        day0 = t0 + d * 86400
        t = day0 + 7 * HOUR + rng.uniform(-1800, 1800)
        s, _ = process(s, cfg, SensorEvent("mat", 0, "bed", "bedroom", t, {"in_bed": False}))
        while t < day0 + 22 * HOUR:
            t += rng.expovariate(1 / 900)
            dev, kind, room, val = rng.choice(sensors)
            s, _ = process(s, cfg, SensorEvent(dev, 0, kind, room, t, val))
            if rng.random() < 0.05:
                s, _ = process(s, cfg, SensorEvent("gw", 0, "heartbeat", None, t,
                                                   {"battery": 100}))
        s, _ = process(s, cfg, SensorEvent("wb", 0, "vitals", None, t,
                                           {"heart_rate": 70, "bp_sys": 130, "bp_dia": 80,
                                            "spo2": 97}))
        s, _ = process(s, cfg, SensorEvent("mat", 0, "bed", "bedroom", t + 60,
                                           {"in_bed": True, "heart_rate": 62, "breath_rate": 14}))
    s, _ = process(s, cfg, SensorEvent("fd", 0, "door", "entrance", t - 7200,
                                       {"open": True, "role": "entrance"}))
    s, _ = process(s, cfg, SensorEvent("btn", 0, "sos_test", None, t + 110, {"battery": 90}))
    s, _ = process(s, cfg, SensorEvent("gw", 0, "heartbeat", None, t + 120, {"battery": 100}))
    return s


_TS_FIELDS = ("last_activity", "clock", "zone_since", "bed_ts", "bed_since", "last_routine",
              "burst_start", "first_seen", "sos_since", "sos_test", "gps_ts")


def _make_states(tmpl_json: str, n: int, rng: random.Random, now: float, cfg):
    """n independent states (each parsed from its own JSON, so no shared objects),
    as they are after a restart; each home's clock is shifted so its gateway's last
    heartbeat lies in the 5 minutes before ``now``."""
    states, sched = {}, DeadlineScheduler()
    base = json.loads(tmpl_json)["devices"]["gw"][0]
    for i in range(n):
        d = json.loads(tmpl_json)
        d["elder_id"] = i
        shift = now - base - rng.uniform(0, 300)
        for k in _TS_FIELDS:
            if d.get(k) is not None:
                d[k] += shift
        for rec in d["devices"].values():
            rec[0] += shift
        for rec in d["vitals"].values():
            rec[0] += shift
        s = ElderState.from_dict(d)
        states[i] = s
        sched.schedule(i, next_deadline(s, cfg))
    return states, sched


def cmd_cost(args) -> None:
    n = args.homes
    cfg = MonitorConfig()
    t0 = 1_767_225_600.0          # 2026-01-01 00:00 UTC
    tmpl = _template_state(cfg, t0)
    tmpl_json = json.dumps(tmpl.to_dict())
    now = tmpl.clock + 600
    print(f"== Cost of the timer rules with {n:,} monitored homes (pure engine, one process) ==")
    print(f"python {sys.version.split()[0]}; one home's state: {len(tmpl_json)} bytes as JSON, "
          f"{len(tmpl.devices)} devices, {len(tmpl.h_first)} days of history")

    # ---- memory: RSS delta without tracemalloc for n homes; bytes/home by tracemalloc on 10k
    rng = random.Random(args.seed)
    gc.collect()
    rss0 = _rss_kb()
    states, sched = _make_states(tmpl_json, n, rng, now, cfg)
    gc.collect()
    rss1 = _rss_kb()
    k = min(n, 10_000)
    tracemalloc.start()
    m0 = tracemalloc.get_traced_memory()[0]
    probe = _make_states(tmpl_json, k, random.Random(1), now, cfg)
    m1 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del probe
    per_home = (m1 - m0) / k
    tracemalloc.start()
    h0 = tracemalloc.get_traced_memory()[0]
    heap_only = DeadlineScheduler()
    for i, st in states.items():
        heap_only.schedule(i, next_deadline(st, cfg))
    h1 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del heap_only
    print(f"memory: {n:,} states + deadline heap: RSS delta {(rss1 - rss0) / 1024:.1f} MiB; "
          f"tracemalloc {per_home:.0f} B per home (state + heap entry) "
          f"= {per_home * n / 2**20:.1f} MiB for {n:,}; the deadline heap alone "
          f"{(h1 - h0) / 2**20:.1f} MiB ({(h1 - h0) / n:.0f} B per home)")

    # ---- a realistic stream: the worker loop (ticks due before each event, then process)
    minutes = args.minutes
    evs = []
    for i in range(n):
        phase = rng.uniform(0, 300)
        t = now + phase
        while t < now + minutes * 60:                       # gateway heartbeat every 5 min
            evs.append(SensorEvent("gw", i, "heartbeat", None, t, {"battery": 100}))
            t += 300
        t = now + rng.expovariate(1 / 600)
        while t < now + minutes * 60:                       # ~6 sensor events per hour
            dev, kind, room, val = rng.choice(
                [("pir-k", "motion", "kitchen", {"motion": True}),
                 ("pir-l", "motion", "living", {"motion": True}),
                 ("pir-b", "motion", "bathroom", {"motion": True}),
                 ("fr", "door", "kitchen", {"open": True, "role": "fridge"}),
                 ("wb", "vitals", None, {"heart_rate": rng.randint(55, 95), "spo2": 97})])
            evs.append(SensorEvent(dev, i, kind, room, t, val))
            t += rng.expovariate(1 / 600)
    evs.sort(key=lambda e: e.ts)
    m = len(evs)
    sig_n = ticks = 0
    t_proc = t_sched = t_tick = 0.0
    pc = time.perf_counter
    for e in evs:
        a = pc()
        due = sched.pop_due(e.ts)
        for eid in due:
            st, out = tick(states[eid], cfg, e.ts)
            sig_n += len(out)
            sched.schedule(eid, next_deadline(st, cfg))
        b = pc()
        st, out = process(states[e.elder_id], cfg, e)
        c = pc()
        sched.schedule(e.elder_id, next_deadline(st, cfg))
        d_ = pc()
        sig_n += len(out)
        ticks += len(due)
        t_tick += b - a
        t_proc += c - b
        t_sched += d_ - c
    total = t_proc + t_sched + t_tick
    print(f"stream: {m:,} events over {minutes} simulated minutes ({m / (minutes * 60):,.0f}/s "
          f"offered: 1 gateway heartbeat per 5 min + ~6 sensor events per hour per home), "
          f"{ticks:,} due ticks, {sig_n:,} signals")
    print(f"per event: process {t_proc / m * 1e6:.1f} us + next_deadline/reschedule "
          f"{t_sched / m * 1e6:.1f} us = {(t_proc + t_sched) / m * 1e6:.1f} us; "
          f"with ticks {total / m * 1e6:.1f} us -> {m / total:,.0f} events/s on one core "
          f"({m / (minutes * 60) / (m / total):.1%} of one core for {n:,} homes)")
    start = pc()
    for e in evs[:20000]:
        json.dumps(states[e.elder_id].to_dict())
    print(f"persisting a state after an event (to_dict + json.dumps): "
          f"{(pc() - start) / 20000 * 1e6:.1f} us")

    # ---- worst case for timers: everything goes silent (e.g. the broker is down) for 36 h
    horizon = evs[-1].ts + 36 * HOUR
    clock = evs[-1].ts
    ticks = raises = 0
    start = pc()
    while clock < horizon:
        clock += 60.0
        for eid in sched.pop_due(clock):
            st, out = tick(states[eid], cfg, clock)
            raises += sum(1 for x in out if x.action == "raise")
            sched.schedule(eid, next_deadline(st, cfg))
            ticks += 1
    t_all = pc() - start
    print(f"all homes silent for 36 h: {ticks:,} due ticks, {raises:,} raises; "
          f"{t_all / max(ticks, 1) * 1e6:.1f} us per tick incl. reschedule; {t_all:.2f} s in all")
    start = pc()
    fresh = DeadlineScheduler()
    for i, st in states.items():
        fresh.schedule(i, next_deadline(st, cfg))
    print(f"restart: rebuilding the deadline heap for {n:,} homes from their states took "
          f"{pc() - start:.2f} s")


def cmd_cost_compare(args) -> None:
    """Engine cost per event, old (frozen copy) and new, on the same stream in the same run (issue 16: <= 2x)."""
    import legacy_engine
    from carenet.monitoring import engine as new_engine

    n = min(args.homes, 5000)
    rng0 = random.Random(args.seed)
    t0 = 1_767_225_600.0
    sensors = [("pir-k", "motion", "kitchen", {"motion": True}), ("pir-b", "motion", "bathroom", {"motion": True}),
               ("pir-l", "motion", "living", {"motion": True}), ("fr", "door", "kitchen", {"open": True, "role": "fridge"}),
               ("sofa", "seat", "living", {"occupied": True}), ("mat", "bed", "bedroom", {"in_bed": True, "heart_rate": 60,
                                                                                          "breath_rate": 14})]
    # 15 days of history, then 20 minutes of stream for n homes: same events for both engines
    hist, t = [], t0
    for d in range(15):
        t = t0 + d * 86400 + 7 * HOUR
        while t < t0 + d * 86400 + 22 * HOUR:
            t += rng0.expovariate(1 / 900)
            dev, kind, room, val = rng0.choice(sensors)
            hist.append((dev, kind, room, t, val))
    now = t + 600
    stream = []
    for i in range(n):
        t = now + rng0.expovariate(1 / 600)
        while t < now + 20 * 60:
            dev, kind, room, val = rng0.choice(sensors)
            stream.append((i, dev, kind, room, t, val))
            t += rng0.expovariate(1 / 600)
    stream.sort(key=lambda e: e[4])
    res = {}
    for label, m in (("old", legacy_engine), ("new", new_engine)):
        cfg = m.MonitorConfig()
        s = m.ElderState(elder_id=0)
        for dev, kind, room, ts, val in hist:
            s, _ = m.process(s, cfg, m.SensorEvent(dev, 0, kind, room, ts, val))
        tmpl = json.dumps(s.to_dict())
        states = {i: m.ElderState.from_dict(json.loads(tmpl)) for i in range(n)}
        evs = [m.SensorEvent(dev, i, kind, room, ts, val) for i, dev, kind, room, ts, val in stream]
        pc = time.perf_counter
        best = float("inf")
        for _ in range(3):
            st_copy = {i: states[i].copy() for i in range(n)}
            a = pc()
            for e in evs:
                st, _ = m.process(st_copy[e.elder_id], cfg, e)
                m.next_deadline(st, cfg)
            best = min(best, (pc() - a) / len(evs) * 1e6)
        res[label] = (best, len(tmpl))
    print(f"== Engine cost per event, old and new in the same run ({n:,} homes, {len(stream):,} events, best of 3) ==")
    for label, (us, size) in res.items():
        print(f"{label}: process + next_deadline {us:.1f} us per event; state {size:,} bytes as JSON")
    print(f"ratio new/old: {res['new'][0] / res['old'][0]:.2f} (ceiling 2.00)")


def cmd_generalise(args) -> None:
    """Issue 16: the evaluation protocol of bench/monitoring_eval.py, old and new engine side by side."""
    import legacy_engine
    import monitoring_eval as ev
    from carenet.monitoring import engine as new_engine

    hs = ev.homes(args.homes_set, tuple(args.mapping or ()))
    print("== Detection in homes the engine has never seen (issue 16; protocol in bench/monitoring_eval.py) ==")
    print(f"homes: {', '.join(h.name for h in hs)}; seed {ev.SEED}; {ev.DAY_TRIALS} daytime and up to "
          f"{ev.BATH_TRIALS} bathroom collapses per home; horizon {ev.HORIZON_H:.0f} h")
    new_knob = "quiet_factor" if "quiet_factor" in new_engine.MonitorConfig.__dataclass_fields__ else "learn_factor"
    engines = {
        "old": ev.EngineAdapter("old (frozen copy, bench/legacy_engine)", legacy_engine, "learn_factor", (1.0, 1.25, 1.5),
                                lambda start, until: {"away_until": until}),
        "new": ev.EngineAdapter("new (carenet.monitoring.engine)", new_engine, new_knob, (1.0, 1.5, 2.0),
                                (lambda start, until: {"away_from": start, "away_until": until})
                                if "away_from" in new_engine.MonitorConfig.__dataclass_fields__
                                else (lambda start, until: {"away_until": until})),
    }
    for key in (("old", "new") if args.engine == "both" else (args.engine,)):
        ev.report(engines[key], hs)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", choices=("replay", "sweep", "cost", "cost-compare", "generalise", "all"),
                    default="all")
    ap.add_argument("--trials", type=int, default=500)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--homes", type=int, default=100_000)
    ap.add_argument("--minutes", type=int, default=20, help="simulated minutes of stream (cost)")
    ap.add_argument("--engine", choices=("old", "new", "both"), default="both", help="generalise: which engine")
    ap.add_argument("--homes-set", choices=("all", "dev", "sim", "none"), default="all", help="generalise: which homes")
    ap.add_argument("--mapping", action="append", help="generalise: add a home given as a log + mapping file")
    args = ap.parse_args(argv)
    if args.what in ("cost-compare", "all"):
        cmd_cost_compare(args)
    if args.what in ("generalise", "all"):
        cmd_generalise(args)
    if args.what in ("replay",):
        cmd_replay(args)
    if args.what in ("sweep",):
        cmd_sweep(args)
    if args.what in ("cost", "all"):
        if args.what == "all":
            print()
        cmd_cost(args)


if __name__ == "__main__":
    main()
