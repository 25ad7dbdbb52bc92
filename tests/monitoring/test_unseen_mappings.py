"""The kit descriptions of the three real unseen homes (bench/mappings/) and their converter (bench/unseen_homes.py):
the real files are not in the repository, so tiny logs in the same formats stand in for them."""
import importlib.util
import json
from pathlib import Path

import pytest

from carenet.monitoring.adl import load_mapped

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _converter():
    spec = importlib.util.spec_from_file_location("unseen_homes", BENCH / "unseen_homes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("home", ["ordonez_b", "kasteren_b", "kasteren_c"])
def test_every_sensor_of_the_kit_loads(tmp_path, home):
    kit = json.loads((BENCH / "mappings" / f"{home}.json").read_text(encoding="utf-8"))
    names = list(kit["sensors"])
    if kit["format"] == "events":
        log = "".join(f"2008-11-20 10:{i:02d}:00\t{n}\t1\n" for i, n in enumerate(names))
    else:
        log = "".join(f"2008-11-20 10:{i:02d}:00\t2008-11-20 10:{i:02d}:05\t{n}\n" for i, n in enumerate(names))
    (tmp_path / kit["log"]).write_text(log)
    (tmp_path / kit["labels"]).write_text("2008-11-20 10:00:00\t2008-11-20 10:30:00\tleave house\n")
    (tmp_path / "kit.json").write_text(json.dumps(kit))
    ds = load_mapped(tmp_path / "kit.json")
    assert {e.device_id.split("-", 1)[1] for e in ds.events} == set(names)
    assert ds.away_intervals()                       # the labels' absence name is the protocol's
    pulses = {k for k, v in kit["sensors"].items() if v.get("semantics") == "pulse"}
    assert all(ds.sensors[f"{home}-{k}"].hold_s > 0 for k in pulses)


def test_converter_drops_unlabelled_sensors_cuts_after_the_last_label_and_splits_toggles(tmp_path):
    conv = _converter()
    raw = tmp_path / "kasteren_c"
    raw.mkdir()
    t0 = 1227175200                                   # 2008-11-20 10:00:00 on the house's wall clock
    raw.joinpath("houseC.sensors").write_text(
        f"{t0}\t3600\t28\n{t0 + 10}\t5\t4\n{t0 + 4 * 86400}\t10\t28\n")    # front door, unlabelled id 4, too late
    raw.joinpath("houseC.activities").write_text(f"{t0}\t600\t1\n")
    raw.joinpath("houseC.activity_names").write_text("1\tleave-house\n")
    out = conv.convert(tmp_path, "kasteren_c")
    assert out["dropped_unmapped"] == {"id 4": 1} and out["after_last_label"] == 1
    lines = raw.joinpath("kasteren_c_events.txt").read_text().splitlines()
    assert lines == ["2008-11-20 10:00:00\ts28_front_door\t1", "2008-11-20 11:00:00\ts28_front_door\t1"]
    assert raw.joinpath("kasteren_c_labels.txt").read_text().split("\t")[2].strip() == "leave house"
    ds = load_mapped(raw / "kasteren_c.json")
    assert [e.value["open"] for e in ds.events] == [True, True]     # two actuations, not one long opening
