"""Parsers for the real ADL datasets (Ordóñez A, van Kasteren A)."""
from __future__ import annotations

from pathlib import Path

import pytest

from carenet.monitoring.adl import DEFAULT_ROOT, iter_events, load
from carenet.monitoring.engine import KINDS

pytestmark = pytest.mark.skipif(not Path(DEFAULT_ROOT).is_dir(),
                                reason=f"ADL data not found at {DEFAULT_ROOT}")


@pytest.fixture(scope="module")
def ordonez():
    return load("ordonez_a")


@pytest.fixture(scope="module")
def kasteren():
    return load("kasteren_a")


def test_ordonez_has_14_labelled_days(ordonez):
    assert len(ordonez.labelled_dates()) == 14
    assert 14.0 < (ordonez.end - ordonez.start) / 86400 < 15.0
    # 12 sensors, every row of the file becomes one or two events
    assert {e.device_id for e in ordonez.events} == {f"ord-{k.lower()}" for k in ordonez.sensors}


def test_kasteren_has_25_days_of_sensor_data(kasteren):
    assert len(kasteren.dates_with_events()) == 25
    assert len(kasteren.labelled_dates()) == 24
    assert len({e.device_id for e in kasteren.events}) == 14
    assert {a.label for a in kasteren.activities} >= {"leave house", "use toilet", "go to bed"}


@pytest.mark.parametrize("name", ["ordonez_a", "kasteren_a"])
def test_events_are_time_ordered_and_use_our_kinds(name):
    evs = list(iter_events(name))
    assert evs and all(a.ts <= b.ts for a, b in zip(evs, evs[1:]))
    assert {e.kind for e in evs} <= KINDS
    assert len({e.event_id for e in evs}) == len(evs)
    doors = [e for e in evs if e.kind == "door"]
    assert {e.value["role"] for e in doors} >= {"entrance", "fridge"}
    # every interval gives a start edge and an end edge that is not earlier
    opens = sum(1 for e in doors if e.value["open"])
    assert opens == len(doors) - opens


def test_ordonez_mapping_rooms(ordonez):
    by_dev = {e.device_id: (e.kind, e.room) for e in ordonez.events}
    assert by_dev["ord-basin"] == ("motion", "bathroom")
    assert by_dev["ord-bed"] == ("bed", "bedroom")
    assert by_dev["ord-toilet"] == ("toilet_flush", "bathroom")
    assert by_dev["ord-seat"] == ("seat", "living")
    first = ordonez.events[0]
    # 2011-11-28 02:27:59 Madrid (UTC+1)
    assert first.ts == 1322443679.0 and first.value == {"in_bed": True}


def test_pir_intervals_become_pulses(ordonez):
    basin = [e for e in ordonez.events if e.device_id == "ord-basin"]
    on = [e for e in basin if e.value["motion"]]
    gaps = [b.ts - a.ts for a, b in zip(basin, basin[1:]) if b.value["motion"]]
    assert len(on) > 70                       # 70 basin intervals, long ones pulse every 60 s
    assert max(gaps) > 60                     # between intervals
    long_run = [b.ts - a.ts for a, b in zip(on, on[1:]) if b.event_id.split("-")[2] ==
                a.event_id.split("-")[2]]
    assert long_run and max(long_run) <= 60
