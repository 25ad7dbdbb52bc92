"""State persistence: JSON round trip and restart safety of timer alarms."""
from __future__ import annotations

import json
import random
from datetime import datetime
from zoneinfo import ZoneInfo

from carenet.monitoring.engine import (DeadlineScheduler, ElderState, MonitorConfig, SensorEvent,
                                       config_from_profile, next_deadline, process, tick)

SH = ZoneInfo("Asia/Shanghai")
BASE = datetime(2026, 3, 2, tzinfo=SH).timestamp()


def at(day, hh, mm=0):
    return BASE + day * 86400 + hh * 3600 + mm * 60


def restart(state: ElderState) -> ElderState:
    """What the Django worker does: JSON into the DB, SIGKILL, JSON back."""
    return ElderState.from_dict(json.loads(json.dumps(state.to_dict())))


def busy_state(cfg):
    s = ElderState()
    evs = [SensorEvent("gw", 7, "heartbeat", None, at(0, 8), {"battery": 15,
                                                            "device_type": "sos_button"}),
           SensorEvent("mat", 7, "bed", "bedroom", at(0, 8, 1), {"in_bed": False}),
           SensorEvent("fr", 7, "door", "kitchen", at(0, 8, 5), {"open": True, "role": "fridge"}),
           SensorEvent("wb", 7, "vitals", None, at(0, 8, 6), {"heart_rate": 130, "spo2": 97}),
           SensorEvent("pb", 7, "motion", "bathroom", at(0, 8, 10), {"motion": True})]
    for e in evs:
        s, _ = process(s, cfg, e)
    return s


def test_state_round_trips_through_json():
    cfg = config_from_profile({"dementia": True,
                               "geofence": {"lat": 30.5, "lon": 117.0, "radius_m": 300}})
    s = busy_state(cfg)
    s.h_first.extend([240.0, 250.0])
    d = s.to_dict()
    text = json.dumps(d)                     # must be JSON-able as is
    s2 = ElderState.from_dict(json.loads(text))
    assert s2 == s and s2.to_dict() == d
    assert next_deadline(s2, cfg) == next_deadline(s, cfg)
    assert s2.active.keys() == {"low_battery:gw", "vitals_high_heart_rate"}


def test_restart_before_deadline_raises_exactly_once():
    cfg = MonitorConfig()
    s = busy_state(cfg)
    dl = next_deadline(s, cfg)
    assert dl is not None
    s = restart(s)                               # worker killed before the deadline
    assert next_deadline(s, cfg) == dl           # scheduler can be rebuilt from state alone
    s, o1 = tick(s, cfg, dl + 1)
    raised = [x for x in o1 if x.action == "raise"]
    assert len(raised) == 1 and raised[0].ts == dl
    s = restart(s)                               # persisted together with the alarm
    s, o2 = tick(s, cfg, dl + 2)
    assert [x for x in o2 if x.key == raised[0].key] == []


def test_restart_after_long_outage_catches_up_every_due_alarm_once():
    cfg = MonitorConfig()
    s = restart(busy_state(cfg))
    s, o = tick(s, cfg, at(2, 9))                # down for two days
    keys = [x.key for x in o if x.action == "raise"]
    assert len(keys) == len(set(keys))
    assert {"bathroom_overstay", "inactivity", "device_offline:gw", "no_routine"} <= set(keys)
    s, o = tick(restart(s), cfg, at(2, 10))
    assert [x for x in o if x.action == "raise"] == []


def _random_stream(rng: random.Random, n: int):
    rooms = ["kitchen", "living", "bathroom", "bedroom"]
    t = at(0, 6)
    for i in range(n):
        t += rng.expovariate(1 / 1800.0) if rng.random() < 0.9 else rng.uniform(3, 9) * 3600
        r = rng.random()
        if r < 0.6:
            yield SensorEvent(f"pir-{i % 4}", 1, "motion", rng.choice(rooms), t, {"motion": True})
        elif r < 0.7:
            yield SensorEvent("fr", 1, "door", "kitchen", t, {"open": True, "role": "fridge"})
        elif r < 0.8:
            yield SensorEvent("mat", 1, "bed", "bedroom", t, {"in_bed": rng.random() < 0.5,
                                                             "heart_rate": rng.uniform(40, 130)})
        elif r < 0.9:
            yield SensorEvent("gw", 1, "heartbeat", None, t, {"battery": rng.uniform(5, 100)})
        else:
            # occasionally an event from the past
            yield SensorEvent("pir-x", 1, "motion", "living", t - rng.uniform(0, 7200),
                              {"motion": True})


def _drive(cfg, stream, restart_at: set[int]):
    """Process a stream like the worker: tick at each due deadline before the next event."""
    s, out = ElderState(), []
    for i, e in enumerate(stream):
        dl = next_deadline(s, cfg)
        while dl is not None and dl <= e.ts:
            s, sig = tick(s, cfg, dl)
            out += sig
            nd = next_deadline(s, cfg)
            if nd is not None and nd <= dl:
                raise AssertionError("deadline did not advance after tick")
            dl = nd
        if i in restart_at:
            s = restart(s)
        s, sig = process(s, cfg, e)
        out += sig
    return [(x.key, x.action, x.ts) for x in out]


def test_random_restarts_give_the_same_alarms_as_an_uninterrupted_run():
    cfg = config_from_profile({"living_alone": True})
    for seed in range(5):
        events = list(_random_stream(random.Random(seed), 300))
        plain = _drive(cfg, events, set())
        rng = random.Random(1000 + seed)
        kills = set(rng.sample(range(len(events)), 40))
        assert _drive(cfg, events, kills) == plain
        # each key alternates raise / clear (never raised twice while active)
        last = {}
        for key, action, _ in plain:
            if action in ("raise", "clear"):
                assert last.get(key) != action or action == "update", (seed, key, action)
                last[key] = action


def test_deadline_scheduler_orders_and_replaces():
    sch = DeadlineScheduler()
    sch.schedule("a", 30.0)
    sch.schedule("b", 10.0)
    sch.schedule("a", 5.0)          # replaces 30
    sch.schedule("c", None)
    assert sch.peek() == 5.0 and len(sch) == 2
    assert sch.pop_due(10.0) == ["a", "b"]
    assert sch.pop_due(100.0) == [] and sch.peek() is None


GARBAGE = [None, True, False, 0, -1, 1e12, float("nan"), float("inf"), "x", "", [], {}, 37.5]


def test_garbage_values_never_crash_and_state_stays_strict_json():
    """Malformed values get past ingest validation sometimes; the engine must shrug."""
    from carenet.monitoring.engine import KINDS
    cfg = config_from_profile({"dementia": True,
                               "geofence": {"lat": 30.5, "lon": 117.0, "radius_m": 300}})
    rng = random.Random(7)
    fields = ["motion", "open", "role", "occupied", "in_bed", "heart_rate", "bp_sys", "spo2",
              "breath_rate", "lat", "lon", "battery", "alarm", "device_type", "confidence"]
    s = ElderState()
    t = at(0, 8)
    kinds = sorted(KINDS) + ["unknown_kind"]
    for i in range(2000):
        t += rng.uniform(-600, 1800)
        value = {f: rng.choice(GARBAGE) for f in rng.sample(fields, rng.randint(0, 5))}
        e = SensorEvent(f"d{rng.randint(0, 5)}", 1, rng.choice(kinds),
                        rng.choice([None, "bathroom", "kitchen", "toilet"]), t, value)
        s, out = process(s, cfg, e)
        if i % 50 == 0:
            s, more = tick(s, cfg, t + rng.uniform(0, 86400))
            out += more
        for x in out:
            json.dumps(x.to_dict(), allow_nan=False)
    text = json.dumps(s.to_dict(), allow_nan=False)
    assert ElderState.from_dict(json.loads(text)).to_dict() == s.to_dict()


def test_unusable_timestamp_or_value_is_ignored():
    cfg = MonitorConfig()
    s = ElderState()
    s, o = process(s, cfg, SensorEvent("d", 1, "motion", "kitchen", float("nan"), {"motion": True}))
    assert o == [] and s.last_activity is None
    s, o = process(s, cfg, SensorEvent("d", 1, "motion", "kitchen", at(0, 9), ["not", "a", "dict"]))
    assert s.last_activity == at(0, 9)
    s, o = process(s, cfg, SensorEvent("d", 1, "motion", "kitchen", int(at(0, 10)), {}))
    assert s.last_activity == at(0, 10) and isinstance(s.last_activity, float)
