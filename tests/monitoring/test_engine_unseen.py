"""Issue 16: device semantics, the quiet model by place and hour, bathroom evidence, vitals, night trips,
registered absences. Pure engine; each test fails if the rule it names is removed."""
from __future__ import annotations

import pytest

from carenet.monitoring.engine import ElderState, MonitorConfig, deadlines, next_deadline, tick

from .test_engine import H, at, ev, run


def drive(state, cfg, until):
    """Tick every due deadline up to ``until`` (as the worker does)."""
    out = []
    dl = next_deadline(state, cfg)
    while dl is not None and dl <= until:
        state, sig = tick(state, cfg, dl)
        out += sig
        dl = next_deadline(state, cfg)
    return state, out


def raised(sig):
    return [s for s in sig if s.action == "raise"]


@pytest.fixture
def cfg():
    return MonitorConfig(routine_deviation=False)


def pulse(ts, **v):
    return ev("bed", ts, "bedroom", dev="mat", in_bed=True, sem="pulse", hold_s=2400, **v)


def test_a_pulsing_mat_pausing_at_night_is_not_out_of_bed(cfg):
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 22), "bedroom", motion=True), pulse(at(0, 22, 5)))
    # a state mattress would say "out of bed" at each off edge; the pulsing one pauses 35 min: nothing
    s, _ = run(s, cfg, ev("bed", at(0, 22, 5.05), "bedroom", dev="mat", in_bed=False, sem="pulse"))
    assert s.in_bed
    s, out = drive(s, cfg, at(0, 22, 40))
    s, o2 = run(s, cfg, pulse(at(0, 22, 40)))
    assert raised(out + o2) == [] and s.in_bed
    # it stops for good: free after the hold (40 min), then night out of bed after 30 quiet minutes
    s, out = drive(s, cfg, at(0, 23, 55))
    assert not s.in_bed and s.oob_since == pytest.approx(at(0, 23, 20))
    r = raised(out)
    assert [x.type for x in r] == ["night_out_of_bed"] and r[0].ts == pytest.approx(at(0, 23, 50))
    assert "离床" in r[0].details["explain"]


def test_activity_elsewhere_explains_an_empty_bed_at_night(cfg):
    s, _ = run(ElderState(), cfg, ev("bed", at(0, 22), "bedroom", dev="mat", in_bed=True),
               ev("bed", at(1, 2), "bedroom", dev="mat", in_bed=False))
    # up for an hour in the kitchen: moving all the time, no alarm
    evs = [ev("motion", at(1, 2, m), "kitchen", motion=True) for m in range(2, 62, 5)]
    s, out = run(s, cfg, *evs)
    s, o2 = drive(s, cfg, at(1, 3, 1))
    assert "night_out_of_bed" not in [x.type for x in raised(out + o2)]
    # then silence: 30 minutes after the last movement
    s, out = drive(s, cfg, at(1, 3, 40))
    assert [x.type for x in raised(out)] == ["night_out_of_bed"]


def test_an_early_departure_is_not_out_of_bed(cfg):
    door = dict(dev="front", open=True, role="entrance")
    s, _ = run(ElderState(), cfg, ev("bed", at(0, 22), "bedroom", dev="mat", in_bed=True),
               ev("bed", at(1, 4), "bedroom", dev="mat", in_bed=False),
               ev("door", at(1, 4, 5), "entrance", **door))
    s, out = drive(s, cfg, at(1, 6))
    assert s.away_since is not None and raised(out) == []


def test_swing_door_with_a_bathroom_pir_stays_inside(cfg):
    door = dict(dev="bd", open=True, role="bathroom")
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 10), "bathroom", dev="pb", motion=True),
               ev("door", at(0, 10, 2), "bathroom", **door),                  # the door swings
               ev("motion", at(0, 10, 3), "bathroom", dev="pb", motion=True),  # still inside
               ev("toilet_flush", at(0, 10, 4), "bathroom", dev="fl"))
    assert s.zone == "bathroom" and s.bath_door_ts is None
    assert deadlines(s, cfg)["bathroom_overstay"] == at(0, 10, 4) + 30 * 60
    # the door then opens and nothing more is heard: maybe still inside, alarm after 45 min (learning)
    s, _ = run(s, cfg, ev("door", at(0, 10, 6), "bathroom", **door))
    assert s.bath_door_ts == at(0, 10, 6)
    s, out = drive(s, cfg, at(0, 11))
    r = [x for x in raised(out) if x.type == "bathroom_overstay"]
    assert r and r[0].message == "bathroom_door_then_quiet" and r[0].ts == pytest.approx(at(0, 10, 51))


def test_a_pet_does_not_end_an_absence_but_a_person_does(cfg):
    door = dict(dev="front", open=True, role="entrance")
    s, _ = run(ElderState(), cfg, ev("motion", at(0, 9), "living", motion=True),
               ev("door", at(0, 9, 30), "entrance", **door))
    assert s.away_since is not None
    s, _ = run(s, cfg, ev("motion", at(0, 10), "living", motion=True),
               ev("motion", at(0, 10, 3), "kitchen", motion=True),
               ev("motion", at(0, 11), "living", motion=True))
    assert s.away_since is not None and s.last_activity == at(0, 9, 30)
    assert s.pet_evidence >= 1
    # the door edge of the return was lost, but someone moves about for minutes: back home
    s, _ = run(s, cfg, *[ev("motion", at(0, 15, m), "kitchen", motion=True) for m in (0, 1.5, 3, 4.5)])
    assert s.away_since is None and s.last_activity == at(0, 15, 4.5)


def test_no_breathing_on_the_mattress_is_critical_within_minutes(cfg):
    s, _ = run(ElderState(), cfg, ev("bed", at(0, 22), "bedroom", dev="mat", in_bed=True,
                                     heart_rate=62, breath_rate=14),
               ev("bed", at(0, 23), "bedroom", dev="mat", in_bed=True, heart_rate=0, breath_rate=0))
    s, out = drive(s, cfg, at(0, 23, 5))
    r = raised(out)
    assert [(x.type, x.severity) for x in r] == [("no_vital_signs", "critical")]
    assert r[0].ts == pytest.approx(at(0, 23, 2)) and "呼吸" in r[0].details["explain"]
    s, out = run(s, cfg, ev("bed", at(0, 23, 6), "bedroom", dev="mat", in_bed=True, heart_rate=60, breath_rate=12))
    assert [(x.type, x.action) for x in out] == [("no_vital_signs", "clear")]


def test_seat_pulses_hold_presence_and_are_not_activity(cfg):
    seat = dict(dev="sofa", occupied=True, sem="pulse", hold_s=1200)
    s, _ = run(ElderState(), cfg, ev("seat", at(0, 14), "living", **seat))
    assert s.seat_since == at(0, 14) and s.last_activity == at(0, 14)
    s, _ = run(s, cfg, ev("seat", at(0, 14, 1), "living", **seat), ev("seat", at(0, 14, 2), "living", **seat))
    assert s.last_activity == at(0, 14)                 # a collapsed person keeps the pad pulsing


def test_registered_absence_pauses_rules_and_checks_the_return(cfg):
    door = dict(dev="front", open=True, role="entrance")
    reg = MonitorConfig(routine_deviation=False, away_from=at(0, 8), away_until=at(2, 18))
    s, _ = run(ElderState(), reg, ev("motion", at(0, 9), "living", motion=True),
               ev("door", at(0, 9, 30), "entrance", **door))
    assert "inactivity" not in deadlines(s, reg)        # replaced by the return check
    assert deadlines(s, reg)["away_overdue"] == at(2, 20)
    s, out = drive(s, reg, at(2, 19, 59))
    assert raised(out) == []                            # no not_returned after 24 h, no no_routine
    s, out = drive(s, reg, at(2, 21))
    r = raised(out)
    assert [x.type for x in r] == ["away_overdue"] and "预计" in r[0].details["explain"]
    s, out = run(s, reg, ev("door", at(2, 22), "entrance", **door), ev("motion", at(2, 22, 1), "hall", motion=True))
    assert s.away_since is None


def test_the_quiet_model_learns_by_place_and_hour_and_explains_in_chinese():
    cfg = MonitorConfig(routine_deviation=False, quiet_factor=1.5)
    s = ElderState()
    door = dict(dev="front", open=True, role="entrance")
    for d in range(6):
        # every afternoon the armchair: seated 14:00-16:00 without a sound; the mornings are busy
        evs = [ev("motion", at(d, 8, m), "kitchen", motion=True) for m in range(0, 350, 10)]
        evs += [ev("seat", at(d, 14), "living", dev="sofa", occupied=True),
                ev("seat", at(d, 16), "living", dev="sofa", occupied=False),
                ev("motion", at(d, 16, 1), "kitchen", motion=True)]
        if d == 2:      # a trip through the front door: door, 5 h of silence, door (not learned)
            evs += [ev("door", at(d, 17), "entrance", **door), ev("door", at(d, 22), "entrance", **door)]
        s, _ = run(s, cfg, *evs)
    assert s.q_base["seat:3"] == pytest.approx(2 * H)
    assert max(s.q_base.get(f"door:{b}", 0) for b in range(6)) < H     # the trip was not learned
    # day 6: seated at 14:00 and nothing more -> 2 h x 1.5 = 3 h
    s, _ = run(s, cfg, ev("motion", at(6, 13, 59), "kitchen", motion=True),
               ev("seat", at(6, 14), "living", dev="sofa", occupied=True))
    s, out = drive(s, cfg, at(6, 18))
    r = [x for x in raised(out) if x.type == "inactivity"]
    assert r and r[0].ts == pytest.approx(at(6, 17)) and r[0].details["context"] == "seat:3"
    assert "座位上" in r[0].details["explain"] and "1.5 倍" in r[0].details["explain"]
    # a busy morning context keeps the floor (1.5 h), not the afternoon's 3 h
    s, _ = run(s, cfg, ev("motion", at(7, 9), "kitchen", motion=True))
    assert deadlines(s, cfg)["inactivity"] == pytest.approx(at(7, 10, 30))
