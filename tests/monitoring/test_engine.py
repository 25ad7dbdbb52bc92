"""Rules engine: each rule fires and clears (pure Python, no Django, microseconds per case)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from carenet.monitoring.engine import (ElderState, Geofence, MonitorConfig, SensorEvent,
                                       apply_overrides, config_from_profile, deadlines,
                                       expected_first_activity, learned_inactivity,
                                       learned_seated,
                                       next_deadline, process, routine_check_hour, tick)

SH = ZoneInfo("Asia/Shanghai")
H = 3600.0


def at(day: int, hh: float, mm: float = 0) -> float:
    """Epoch of 2026-01-(5+day) hh:mm in Shanghai."""
    base = datetime(2026, 1, 5, tzinfo=SH).timestamp()
    return base + day * 86400 + hh * H + mm * 60


def ev(kind, ts, room=None, dev=None, **value):
    return SensorEvent(dev or f"{kind}-{room}", 1, kind, room, ts, value)


def run(state, cfg, *events):
    out = []
    for e in events:
        state, sig = process(state, cfg, e)
        out += sig
    return state, out


def types(signals, action=None):
    return [(s.type, s.action) for s in signals if action is None or s.action == action]


@pytest.fixture
def cfg():
    # learning off so fixed thresholds are tested; learning has its own tests
    return MonitorConfig(learn_thresholds=False, routine_deviation=False, quiet_model=False,
                         routine_check_learn=False)


# ------------------------------------------------------------------ immediate rules
@pytest.mark.parametrize("kind,severity", [("sos", "critical"), ("fall", "critical")])
def test_immediate_person_alarms_raise_at_once(cfg, kind, severity):
    s, out = run(ElderState(), cfg, ev(kind, at(0, 10), dev="wb1"))
    assert [(x.type, x.action, x.severity, x.device_id) for x in out] == [
        (kind, "raise", severity, "wb1")]


@pytest.mark.parametrize("kind", ["smoke", "water_leak"])
def test_smoke_and_leak_raise_repeat_and_clear(cfg, kind):
    s = ElderState()
    s, o1 = process(s, cfg, ev(kind, at(0, 10), "kitchen", dev="d9", alarm=True))
    s, o2 = process(s, cfg, ev(kind, at(0, 10, 1), "kitchen", dev="d9", alarm=True))
    s, o3 = process(s, cfg, ev(kind, at(0, 10, 5), "kitchen", dev="d9", alarm=False))
    assert types(o1) == [(kind, "raise")] and o1[0].key == f"{kind}:d9"
    assert types(o2) == [(kind, "update")]
    assert types(o3) == [(kind, "clear")]
    assert not s.active


# ------------------------------------------------------------------ vitals hysteresis
def test_heart_rate_hysteresis(cfg):
    s = ElderState()
    s, a = process(s, cfg, ev("vitals", at(0, 9), dev="wb", heart_rate=125))
    s, b = process(s, cfg, ev("vitals", at(0, 9, 1), dev="wb", heart_rate=115))  # inside band
    s, c = process(s, cfg, ev("vitals", at(0, 9, 2), dev="wb", heart_rate=131))  # new peak
    s, d = process(s, cfg, ev("vitals", at(0, 9, 3), dev="wb", heart_rate=109))  # below exit
    s, e = process(s, cfg, ev("vitals", at(0, 9, 4), dev="wb", heart_rate=119))  # < enter
    assert types(a) == [("vitals_high_heart_rate", "raise")]
    assert b == []
    assert types(c) == [("vitals_high_heart_rate", "update")]
    assert types(d) == [("vitals_high_heart_rate", "clear")]
    assert e == []


def test_spo2_low_and_bp_with_overrides():
    cfg = apply_overrides(MonitorConfig(), {"vitals": {"bp_sys": {"high_enter": 160,
                                                                   "high_exit": 150}}})
    s = ElderState()
    s, a = process(s, cfg, ev("vitals", at(0, 9), dev="wb", spo2=88, bp_sys=165, bp_dia=80))
    s, b = process(s, cfg, ev("vitals", at(0, 9, 5), dev="wb", spo2=92, bp_sys=155))
    s, c = process(s, cfg, ev("vitals", at(0, 9, 9), dev="wb", spo2=95, bp_sys=149))
    assert sorted(types(a)) == [("vitals_high_bp_sys", "raise"), ("vitals_low_spo2", "raise")]
    assert b == []
    assert sorted(types(c)) == [("vitals_high_bp_sys", "clear"), ("vitals_low_spo2", "clear")]


def test_old_vitals_reading_is_ignored(cfg):
    s = ElderState()
    s, _ = process(s, cfg, ev("vitals", at(0, 9, 10), dev="wb", heart_rate=80))
    s, late = process(s, cfg, ev("vitals", at(0, 9), dev="wb", heart_rate=140))
    assert late == [] and not s.active


def test_bed_vitals_only_while_in_bed(cfg):
    s = ElderState()
    s, a = process(s, cfg, ev("bed", at(0, 23), "bedroom", dev="m", in_bed=False,
                               heart_rate=30))
    s, b = process(s, cfg, ev("bed", at(0, 23, 5), "bedroom", dev="m", in_bed=True,
                               heart_rate=40, breath_rate=6))
    assert a == []
    assert sorted(types(b)) == [("vitals_low_breath_rate", "raise"),
                                ("vitals_low_heart_rate", "raise")]


# ------------------------------------------------------------------ inactivity
def test_inactivity_by_day_fires_once_and_clears(cfg):
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 9), "kitchen", motion=True),
               ev("door", at(0, 9), "kitchen", dev="fr", open=True, role="fridge"))
    assert next_deadline(s, cfg) == at(0, 13)                       # N = 4 h
    s, o = tick(s, cfg, at(0, 12, 59))
    assert o == []
    s, o = tick(s, cfg, at(0, 13))
    assert types(o) == [("inactivity", "raise")] and o[0].message == "no_activity_day"
    s, o = tick(s, cfg, at(0, 14))
    assert o == []
    s, o = process(s, cfg, ev("motion", at(0, 14, 30), "living", motion=True))
    assert types(o) == [("inactivity", "clear")]


def test_day_rule_counts_from_day_start_and_night_rule_from_last_activity(cfg):
    # last seen 21:00: the day rule cannot complete before 22:00, the night rule (10 h)
    # would end at 07:00 which is day -> next alarm is the next day 07:00 + 4 h
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 21), "living", motion=True))
    assert next_deadline(s, cfg) == at(1, 11)
    # a shorter night threshold fires during the night
    cfg8 = apply_overrides(cfg, {"inactivity_night_h": 8})
    s, _ = run(ElderState(), cfg8, ev("motion", at(0, 22, 30), "living", motion=True))
    assert next_deadline(s, cfg8) == at(1, 6, 30)
    s, o = tick(s, cfg8, at(1, 6, 30))
    assert o[0].message == "no_activity_night"


def test_day_and_night_thresholds_differ(cfg):
    c = apply_overrides(cfg, {"inactivity_day_h": 2, "inactivity_night_h": 6})
    s, _ = run(ElderState(), c, ev("motion", at(0, 10), "kitchen", motion=True))
    assert next_deadline(s, c) == at(0, 12)
    s, _ = run(ElderState(), c, ev("motion", at(0, 23), "kitchen", motion=True))
    assert next_deadline(s, c) == at(1, 5)


def test_away_after_entrance_door_uses_away_threshold(cfg):
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 9), "living", motion=True),
               ev("door", at(0, 9, 30), "entrance", dev="front", open=True, role="entrance"))
    assert next_deadline(s, cfg) == at(0, 9, 30) + 24 * H
    s, o = tick(s, cfg, at(1, 9, 30))
    assert ("inactivity", "raise") in types(o) and o[0].message == "not_returned"


def test_staff_away_until_suppresses_absence_rules(cfg):
    c = apply_overrides(cfg, {"away_until": at(3, 0)})
    s, _ = run(ElderState(), c, ev("motion", at(0, 9), "kitchen", motion=True))
    s, o = tick(s, c, at(2, 23))
    assert o == []
    assert next_deadline(s, c) == at(3, 0)


def test_in_bed_pauses_inactivity_up_to_max(cfg):
    s, _ = run(ElderState(), cfg, ev("bed", at(0, 22), "bedroom", dev="m", in_bed=True))
    assert next_deadline(s, cfg) == at(0, 22) + 14 * H
    assert deadlines(s, cfg)["no_routine"] == at(1, 12)
    s, o = tick(s, cfg, at(1, 12))
    assert sorted(x.message for x in o) == ["in_bed_too_long", "no_entrance_or_fridge"]


# ------------------------------------------------------------------ bathroom overstay
def test_bathroom_overstay_fires_and_clears(cfg):
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 10), "kitchen", motion=True),
               ev("motion", at(0, 10, 5), "bathroom", dev="pir-b", motion=True))
    x = cfg.bathroom_overstay_min
    assert next_deadline(s, cfg) == at(0, 10, 5 + x)
    s, o = tick(s, cfg, at(0, 10, 5 + x - 1))
    assert o == []
    s, o = tick(s, cfg, at(0, 10, 5 + x))
    assert types(o) == [("bathroom_overstay", "raise")]
    s, o = process(s, cfg, ev("motion", at(0, 11), "kitchen", motion=True))
    assert types(o) == [("bathroom_overstay", "clear")]


def test_no_bathroom_overstay_after_leaving_the_bathroom(cfg):
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 10), "bathroom", dev="pir-b", motion=True),
               ev("motion", at(0, 10, 10), "living", motion=True))
    s, o = tick(s, cfg, at(0, 11, 30))
    assert "bathroom_overstay" not in [x.type for x in o]


def test_bathroom_door_toggles_in_and_out(cfg):
    door = dict(dev="bd", open=True, role="bathroom")
    s, _ = run(ElderState(), cfg, ev("door", at(0, 10), "bathroom", **door))
    assert s.zone == "bathroom"
    s, _ = run(s, cfg, ev("door", at(0, 10, 6), "bathroom", **door))       # leaves
    assert s.zone == "hall"
    s, o = tick(s, cfg, at(0, 11, 30))
    assert "bathroom_overstay" not in [x.type for x in o]


# ------------------------------------------------------------------ routine check
def test_no_routine_by_check_hour_then_cleared_by_fridge(cfg):
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 8), "bedroom", motion=True),
               ev("motion", at(0, 11), "bedroom", motion=True))
    s, o = tick(s, cfg, at(0, 11, 59))
    assert o == []
    s, o = tick(s, cfg, at(0, 12))
    assert types(o) == [("no_routine", "raise")]
    s, o = process(s, cfg, ev("door", at(0, 12, 30), "kitchen", dev="fr", open=True,
                              role="fridge"))
    assert types(o) == [("no_routine", "clear")]
    assert next_deadline(s, cfg) == min(at(1, 12), at(0, 16, 30))


def test_routine_seen_in_the_morning_means_no_alarm(cfg):
    s, _ = run(ElderState(), cfg, ev("door", at(0, 7), "entrance", dev="fd", open=True,
                                     role="entrance"),
               ev("door", at(0, 9), "kitchen", dev="fr", open=True, role="fridge"),
               ev("motion", at(0, 11), "living", motion=True))
    s, o = tick(s, cfg, at(0, 12, 30))
    assert "no_routine" not in [x.type for x in o]


# ------------------------------------------------------------------ night out of bed
def test_night_out_of_bed_fires_and_clears(cfg):
    bed = dict(dev="mat")
    s, _ = run(ElderState(), cfg, ev("bed", at(0, 23), "bedroom", in_bed=True, **bed),
               ev("bed", at(1, 2), "bedroom", in_bed=False, **bed))
    assert next_deadline(s, cfg) == at(1, 2, 30)
    s, o = tick(s, cfg, at(1, 2, 30))
    assert types(o) == [("night_out_of_bed", "raise")]
    s, o = process(s, cfg, ev("bed", at(1, 2, 40), "bedroom", in_bed=True, **bed))
    assert types(o) == [("night_out_of_bed", "clear")]


def test_getting_up_near_morning_is_not_night_out_of_bed(cfg):
    bed = dict(dev="mat")
    s, _ = run(ElderState(), cfg, ev("bed", at(0, 23), "bedroom", in_bed=True, **bed),
               ev("bed", at(1, 6, 50), "bedroom", in_bed=False, **bed))
    s, o = tick(s, cfg, at(1, 7, 30))
    assert "night_out_of_bed" not in [x.type for x in o]


def test_dementia_profile_shortens_night_out_of_bed():
    c = config_from_profile({"dementia": True})
    s, _ = run(ElderState(), c, ev("bed", at(0, 23), "bedroom", dev="m", in_bed=True),
               ev("bed", at(1, 1), "bedroom", dev="m", in_bed=False))
    assert next_deadline(s, c) == at(1, 1, 15)
    assert c.sev("night_out_of_bed") == "high"


# ------------------------------------------------------------------ learned routine
def _days(first_hour: float, quiet_h: float, n_days: int, cfg, jitter_min=(0, 10, -10, 5)):
    """n_days of a simple routine: first activity at first_hour (+jitter), motion every
    30 min, a quiet period of quiet_h hours from noon, activity until 21:00."""
    s = ElderState()
    for d in range(n_days):
        t = at(d, first_hour, jitter_min[d % len(jitter_min)])
        evs = [ev("door", t, "kitchen", dev="fr", open=True, role="fridge")]
        while t < at(d, 12):
            t = min(t + 0.5 * H, at(d, 12))
            evs.append(ev("motion", t, "living", motion=True))
        t += quiet_h * H
        while t < at(d, 21):
            evs.append(ev("motion", t, "living", motion=True))
            t += 0.5 * H
        s, _ = run(s, cfg, *evs)
    return s


def test_learned_first_activity_and_routine_deviation():
    cfg = MonitorConfig(learn_thresholds=False)
    s = _days(8.0, 1.0, 10, cfg)
    med, tol = expected_first_activity(s, cfg)
    assert med == pytest.approx(4 * 60, abs=10)           # 08:00 is 4 h after the 04:00 boundary
    assert tol == cfg.deviation_min_spread_min            # tiny spread -> floor of 60 min
    dl = deadlines(s, cfg)["routine_deviation"]
    assert dl == pytest.approx(at(10, 4) + (med + tol) * 60)
    s, o = tick(s, cfg, dl)
    assert ("routine_deviation", "raise") in types(o)
    s, o = process(s, cfg, ev("motion", dl + 600, "kitchen", motion=True))
    assert ("routine_deviation", "clear") in types(o)


def test_routine_deviation_adapts_to_a_late_riser():
    cfg = MonitorConfig(learn_thresholds=False)
    early, late = _days(7.0, 1.0, 8, cfg), _days(11.5, 1.0, 8, cfg)
    assert expected_first_activity(late, cfg)[0] - expected_first_activity(early, cfg)[0] == \
        pytest.approx(4.5 * 60, abs=10)
    assert routine_check_hour(late, cfg) > routine_check_hour(early, cfg) == cfg.routine_check_h


def test_no_routine_deviation_while_learning():
    cfg = MonitorConfig()
    s = _days(8.0, 1.0, 3, cfg)
    assert expected_first_activity(s, cfg) is None


def test_learned_inactivity_threshold_adapts_per_home():
    cfg = MonitorConfig(routine_deviation=False)
    quiet_home = _days(8.0, 5.0, 10, cfg)       # naps 5 h every afternoon
    busy_home = _days(8.0, 1.0, 10, cfg)
    nq, _ = learned_inactivity(quiet_home, cfg)
    nb, _ = learned_inactivity(busy_home, cfg)
    assert nq == pytest.approx(5.0 * H * cfg.learn_factor, rel=0.02)
    assert nb < cfg.inactivity_day_h * H < nq
    assert nb >= cfg.inactivity_day_floor_h * H
    # the quiet home does not alarm during its usual 5 h nap, the busy one would
    t = at(10, 12)
    for s in (quiet_home, busy_home):
        process(s, cfg, ev("door", at(10, 8), "kitchen", dev="fr", open=True, role="fridge"))
        process(s, cfg, ev("motion", t, "living", motion=True))
    _, oq = tick(quiet_home, cfg, t + 5 * H)
    _, ob = tick(busy_home, cfg, t + 5 * H)
    assert "inactivity" not in [x.type for x in oq]
    assert "inactivity" in [x.type for x in ob]


def test_learning_ignores_ceiling_breaking_outliers():
    cfg = MonitorConfig(routine_deviation=False)
    s = _days(8.0, 8.5, 10, cfg)
    assert learned_inactivity(s, cfg)[0] == cfg.inactivity_day_ceiling_h * H


# ------------------------------------------------------------------ geofence
def test_geofence_exit_with_margin():
    c = config_from_profile({"dementia": True,
                             "geofence": {"lat": 30.5, "lon": 117.0, "radius_m": 500}})
    assert c.geofence == Geofence(30.5, 117.0, 500.0, 50.0)
    dlat = 1 / 111_195.0                 # one metre of latitude
    s = ElderState()
    gps = lambda t, m: ev("gps", t, dev="wb", lat=30.5 + m * dlat, lon=117.0)   # noqa: E731
    s, a = process(s, c, gps(at(0, 9), 100))
    s, b = process(s, c, gps(at(0, 9, 1), 530))          # inside margin: nothing
    s, d = process(s, c, gps(at(0, 9, 2), 600))
    s, e = process(s, c, gps(at(0, 9, 3), 480))          # not clearly back
    s, f = process(s, c, gps(at(0, 9, 4), 300))
    assert a == [] and b == []
    assert types(d) == [("geofence_exit", "raise")] and d[0].details["distance_m"] == 600
    assert types(e) == [("geofence_exit", "update")]
    assert types(f) == [("geofence_exit", "clear")]


def test_no_geofence_without_dementia_profile():
    c = config_from_profile({"geofence": {"lat": 30.5, "lon": 117.0, "radius_m": 500}})
    s, o = process(ElderState(), c, ev("gps", at(0, 9), dev="wb", lat=31.5, lon=117.0))
    assert o == []


# ------------------------------------------------------------------ device health
def test_device_offline_after_missed_heartbeats_and_back(cfg):
    s = ElderState()
    for i in range(3):
        s, _ = process(s, cfg, ev("heartbeat", at(0, 10, 5 * i), dev="gw", battery=90))
    last = at(0, 10, 10)
    assert next_deadline(s, cfg) == last + cfg.offline_timeout_s
    s, o = tick(s, cfg, last + cfg.offline_timeout_s - 1)
    assert o == []
    s, o = tick(s, cfg, last + cfg.offline_timeout_s)
    assert [(x.type, x.action, x.device_id) for x in o] == [("device_offline", "raise", "gw")]
    s, o = tick(s, cfg, last + 2 * cfg.offline_timeout_s)
    assert o == []
    s, o = process(s, cfg, ev("heartbeat", at(0, 12), dev="gw", battery=90))
    assert types(o) == [("device_offline", "clear")]


def test_event_only_sensors_are_not_tracked_for_heartbeats(cfg):
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 10), "kitchen", motion=True))
    assert all(not rec[2] for rec in s.devices.values())


def test_low_battery_with_hysteresis(cfg):
    s = ElderState()
    s, a = process(s, cfg, ev("heartbeat", at(0, 10), dev="wb", battery=18))
    s, b = process(s, cfg, ev("heartbeat", at(0, 10, 5), dev="wb", battery=22))
    s, c = process(s, cfg, ev("heartbeat", at(0, 10, 10), dev="wb", battery=80))
    assert [(x.type, x.action, x.severity) for x in a] == [("low_battery", "raise", "low")]
    assert b == []
    assert types(c) == [("low_battery", "clear")]


def test_sos_test_overdue_and_cleared(cfg):
    s, _ = run(ElderState(), cfg, ev("heartbeat", at(0, 10), dev="btn", device_type="sos_button"))
    due = at(0, 10) + 7 * 86400 + 24 * H
    assert next_deadline(s, cfg) == min(due, at(0, 10) + cfg.offline_timeout_s)
    s, o = tick(s, cfg, due)
    assert ("sos_test_overdue", "raise") in types(o)
    s, o = process(s, cfg, ev("sos_test", due + 60, dev="btn"))
    assert ("sos_test_overdue", "clear") in types(o)
    s, o = tick(s, cfg, due + 2 * 86400)
    assert ("sos_test_overdue", "raise") not in types(o)


# ------------------------------------------------------------------ robustness
def test_out_of_order_event_does_not_move_clock_back(cfg):
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 10), "kitchen", motion=True),
               ev("motion", at(0, 9), "bathroom", dev="pir-b", motion=True))
    assert s.last_activity == at(0, 10) and s.zone == "kitchen"
    assert deadlines(s, cfg)["inactivity"] == at(0, 14)
    assert "bathroom_overstay" not in deadlines(s, cfg)


def test_duplicate_event_changes_nothing(cfg):
    e = ev("motion", at(0, 10), "kitchen", motion=True)
    s, _ = run(ElderState(), cfg, e)
    before = s.to_dict()
    s, o = process(s, cfg, e)
    assert o == [] and s.to_dict() == before


def test_late_event_after_deadline_still_raises_the_missed_alarm(cfg):
    """No tick ran (worker down); the next event is after the deadline: catch-up."""
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 9), "kitchen", motion=True),
               ev("door", at(0, 9, 1), "kitchen", dev="fr", open=True, role="fridge"))
    s, o = process(s, cfg, ev("motion", at(0, 14), "living", motion=True))
    assert [(x.type, x.action, x.ts) for x in o] == [("inactivity", "raise", at(0, 13, 1)),
                                                     ("inactivity", "clear", at(0, 14))]


def test_profile_overrides_merge_and_reject_typos():
    c = config_from_profile({"care_level": "dependent", "living_alone": True},
                            {"bathroom_overstay_min": 20, "severity": {"low_battery": "medium"}})
    assert c.bathroom_overstay_min == 20 and c.inactivity_day_h == 3.0
    assert config_from_profile({"care_level": 2}).bathroom_overstay_min < \
        config_from_profile({}).bathroom_overstay_min
    assert c.sev("low_battery") == "medium" and c.sev("sos") == "critical"
    with pytest.raises(KeyError):
        config_from_profile({}, {"bathroom_overstay": 20})
    assert MonitorConfig.from_dict(c.to_dict()) == c


# ------------------------------------------------------------------ presence and zones
def test_seated_uses_the_seated_threshold_until_the_seat_is_released(cfg):
    s, _ = run(ElderState(), cfg, ev("door", at(0, 9), "kitchen", dev="fr", open=True,
                                     role="fridge"),
               ev("seat", at(0, 14), "living", dev="sofa", occupied=True))
    assert deadlines(s, cfg)["inactivity"] == at(0, 14) + cfg.seated_h * H
    s, o = tick(s, cfg, at(0, 19))                       # 5 h in the chair: normal
    assert o == []
    s, _ = process(s, cfg, ev("seat", at(0, 19, 30), "living", dev="sofa", occupied=False))
    # 19:30 + 4 h = 23:30 is night, so the day rule waits for the next day (07:00 + 4 h);
    # the night rule (10 h) ends at 05:30, which is night -> 05:30 is the deadline
    assert deadlines(s, cfg)["inactivity"] == at(1, 5, 30)


def test_seated_threshold_is_learned_from_the_home():
    cfg = MonitorConfig(routine_deviation=False)
    s = ElderState()
    for d in range(8):
        s, _ = run(s, cfg, ev("door", at(d, 8), "kitchen", dev="fr", open=True, role="fridge"),
                   ev("seat", at(d, 13), "living", dev="sofa", occupied=True),
                   ev("seat", at(d, 20), "living", dev="sofa", occupied=False))
    assert learned_seated(s, cfg) == pytest.approx(7 * H * cfg.learn_factor)


def test_cistern_refilling_after_leaving_is_not_a_new_visit(cfg):
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 10), "bathroom", dev="pir-b", motion=True),
               ev("toilet_flush", at(0, 10, 2), "bathroom", dev="fl"),
               ev("motion", at(0, 10, 3), "kitchen", motion=True),
               ev("toilet_flush", at(0, 10, 4), "bathroom", dev="fl"))
    assert s.zone == "kitchen"
    assert "bathroom_overstay" not in deadlines(s, cfg)


def test_door_only_bathroom_flush_then_door_is_the_exit(cfg):
    door = dict(dev="bd", open=True, role="bathroom")
    s, _ = run(ElderState(), cfg, ev("door", at(0, 10), "bathroom", **door),
               ev("toilet_flush", at(0, 10, 0.1), "bathroom", dev="fl"),
               ev("door", at(0, 10, 0.12), "bathroom", **door))
    assert s.zone == "hall"
    # without the flush, the same quick second opening is not an exit
    s, _ = run(ElderState(), cfg, ev("door", at(0, 10), "bathroom", **door),
               ev("door", at(0, 10, 0.1), "bathroom", **door))
    assert s.zone == "bathroom"
    assert deadlines(s, cfg)["bathroom_overstay"] == at(0, 10, 0.1) + cfg.bathroom_overstay_min * 60


def test_a_short_night_toilet_trip_does_not_start_the_day():
    cfg = MonitorConfig(learn_thresholds=False)
    s = _days(8.0, 1.0, 8, cfg)
    med, tol = expected_first_activity(s, cfg)
    # day 8: a 3-minute toilet trip at 05:00, then nothing (collapsed back in bed)
    s, _ = run(s, cfg, ev("motion", at(8, 5), "bathroom", dev="pir-b", motion=True),
               ev("motion", at(8, 5, 3), "bedroom", motion=True))
    assert s.day_first is None
    assert deadlines(s, cfg)["routine_deviation"] == pytest.approx(at(8, 4) + (med + tol) * 60)


def test_registered_device_that_never_reports_goes_offline(cfg):
    from carenet.monitoring.engine import register_device, unregister_device
    s = register_device(ElderState(elder_id=1), "wb", at(0, 9), device_type="wristband")
    assert deadlines(s, cfg)["device_offline:wb"] == at(0, 9) + cfg.offline_timeout_s
    assert deadlines(s, cfg)["sos_test_overdue"] == at(0, 9) + 7 * 86400 + 24 * H
    s, o = tick(s, cfg, at(0, 10))
    assert [(x.key, x.action) for x in o] == [("device_offline:wb", "raise")]
    s, o = unregister_device(s, cfg, "wb", at(0, 11))
    assert [(x.key, x.action) for x in o] == [("device_offline:wb", "clear")]
    assert "device_offline:wb" not in deadlines(s, cfg)


def test_coming_back_through_the_door_ends_the_absence(cfg):
    door = dict(dev="front", open=True, role="entrance")
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 9), "living", motion=True),
               ev("door", at(0, 9, 30), "entrance", **door),
               ev("door", at(0, 9, 30.2), "entrance", **door))          # same passage
    assert s.away_since == at(0, 9, 30)
    assert deadlines(s, cfg)["inactivity"] == at(0, 9, 30.2) + cfg.away_h * H
    s, _ = run(s, cfg, ev("door", at(0, 15), "entrance", **door),        # back home...
               ev("door", at(0, 15, 0.3), "entrance", **door))
    assert s.away_since is None
    # ... and collapsed in the hall: the normal day rule applies, not the 24 h one
    assert deadlines(s, cfg)["inactivity"] == at(0, 15, 0.3) + cfg.inactivity_day_h * H


def test_empty_state_has_nothing_pending(cfg):
    s = ElderState(elder_id=1)
    assert next_deadline(s, cfg) is None
    s, o = tick(s, cfg, at(0, 12))
    assert o == [] and next_deadline(s, cfg) is None


def test_local_time_zone_of_the_home_is_used(cfg):
    madrid = apply_overrides(cfg, {"tz": "Europe/Madrid"})
    t = datetime(2026, 1, 5, 9, tzinfo=ZoneInfo("Europe/Madrid")).timestamp()
    s, _ = run(ElderState(), madrid, ev("motion", t, "kitchen", motion=True))
    assert deadlines(s, madrid)["inactivity"] == t + 4 * H
    # the same instant is 16:00 in Shanghai: 16:00 + 4 h = 20:00, still day
    s, _ = run(ElderState(), cfg, ev("motion", t, "kitchen", motion=True))
    assert deadlines(s, cfg)["inactivity"] == t + 4 * H
    # 19:00 Madrid = 02:00 Shanghai (night): the day rule waits for 07:00 Shanghai
    t2 = t + 10 * H
    s, _ = run(ElderState(), cfg, ev("motion", t2, "kitchen", motion=True))
    assert deadlines(s, cfg)["inactivity"] == min(at(1, 11), t2 + 10 * H)


def test_not_living_alone_softens_absence_alarms():
    c = config_from_profile({"living_alone": False})
    assert c.inactivity_day_h >= 6 and c.sev("inactivity") == "medium"
    assert c.sev("no_routine") == "low" and c.sev("sos") == "critical"


def test_vitals_severity_escalates_to_critical(cfg):
    s = ElderState()
    s, a = process(s, cfg, ev("vitals", at(0, 9), dev="wb", spo2=89))
    s, b = process(s, cfg, ev("vitals", at(0, 9, 1), dev="wb", spo2=84))
    s, c = process(s, cfg, ev("vitals", at(0, 9, 2), dev="wb", spo2=83))
    s, d = process(s, cfg, ev("vitals", at(0, 9, 3), dev="wb", heart_rate=160))
    assert [(x.action, x.severity) for x in a] == [("raise", "high")]
    assert [(x.action, x.severity) for x in b] == [("update", "critical")]
    assert [(x.action, x.severity) for x in c] == [("update", "critical")]
    assert [(x.type, x.action, x.severity) for x in d] == [
        ("vitals_high_heart_rate", "raise", "critical")]


def test_summary_is_json_and_reflects_learning():
    import json

    from carenet.monitoring.engine import summary
    cfg = MonitorConfig()
    s = _days(8.0, 1.0, 8, cfg)
    d = json.loads(json.dumps(summary(s, cfg), allow_nan=False))
    assert d["history_days"] == 7 and d["learned"]["first_activity_local_h"] == pytest.approx(8.0, abs=0.2)
    assert set(d["pending"]) >= {"inactivity", "no_routine", "routine_deviation"}
