"""Convert the three real homes of issue 16 that the engine has never seen into the mapping format of
``carenet.monitoring.adl.load_mapped`` (docs/monitoring-evaluation.md, "Any home").

The data is public but not ours to commit: it lives outside the repository (``--root``, one folder per home),
and this script only rewrites it. The sensor kits are described in ``bench/mappings/<home>.json`` (committed);
the converted log, labels and a copy of the kit description are written next to the raw files, so that

    PYTHONPATH=src python bench/monitoring_engine.py generalise --homes-set dev \\
        --mapping ROOT/ordonez_b/ordonez_b.json --mapping ROOT/kasteren_b/kasteren_b.json \\
        --mapping ROOT/kasteren_c/kasteren_c.json

evaluates them beside the development homes (which choose the operating point; these never do).

Raw inputs (provenance in docs/monitoring-evaluation.md):

* ``ordonez_b/OrdonezB_Sensors.txt``, ``OrdonezB_ADLs.txt`` (the UCI files; rows: start, end, location, type,
  place). Sensor name = ``Location_Place``.
* ``kasteren_b/houseB.sensors``, ``houseB.activities``, ``houseB.activity_names`` and the same for house C (the
  tlDatasets of van Kasteren et al. 2010 as tab-separated text: start as seconds since 1970 of the house's
  wall clock, length in seconds, id). Sensor name = the key of the kit description whose ``sNN_`` prefix is the
  id; activity names with '-' read as spaces ('leave-house' -> 'leave house', as kasteren_a is labelled).

Two rules, the same for every home, fixed before any replay:

* sensors that the kit description leaves out (no label in the dataset) are dropped and counted;
* events after the last labelled date are dropped (and intervals cut there): without labels an absence cannot be
  told from a false alarm.

A kit description may say ``"convert": {"boundaries": "toggle"}`` (van Kasteren house C): its sensors report a
toggling state, so every start and every end of a logged interval is one actuation, written as an event line.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent / "mappings"
FMT = "%Y-%m-%d %H:%M:%S"
_TS = r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})"
_ORD_ROW = re.compile(_TS + r"\s+" + _TS + r"\s+(\S+)\s+(\S+)\s+(\S+)")
_ORD_ADL = re.compile(_TS + r"\s+" + _TS + r"\s+(\S+)")


def _wall(epoch: int) -> datetime:
    # the tlDatasets store the house's wall clock as if it were UTC (house A matches kasterenSenseData.txt so)
    return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None)


def ordonez(raw: Path, kit: dict) -> tuple[list, list, dict]:
    rows, dropped = [], {}
    for m in _ORD_ROW.finditer((raw / "OrdonezB_Sensors.txt").read_text(encoding="latin-1")):
        name = f"{m[3]}_{m[5]}"
        if name not in kit["sensors"]:
            dropped[name] = dropped.get(name, 0) + 1
            continue
        rows.append((datetime.strptime(m[1], FMT), datetime.strptime(m[2], FMT), name))
    labels = [(datetime.strptime(a, FMT), datetime.strptime(b, FMT), lab)
              for a, b, lab in _ORD_ADL.findall((raw / "OrdonezB_ADLs.txt").read_text(encoding="latin-1"))]
    return rows, labels, dropped


def kasteren(raw: Path, kit: dict, house: str) -> tuple[list, list, dict]:
    by_id = {int(k[1:3]): k for k in kit["sensors"]}
    rows, dropped = [], {}
    for line in (raw / f"house{house}.sensors").read_text().splitlines():
        if not line.strip():
            continue
        start, length, sid = (int(x) for x in line.split())
        if sid not in by_id:
            dropped[f"id {sid}"] = dropped.get(f"id {sid}", 0) + 1
            continue
        rows.append((_wall(start), _wall(start + length), by_id[sid]))
    names = dict(line.split("\t", 1) for line in (raw / f"house{house}.activity_names").read_text().splitlines()
                 if "\t" in line)
    labels = []
    for line in (raw / f"house{house}.activities").read_text().splitlines():
        if line.strip():
            start, length, aid = line.split()
            labels.append((_wall(int(start)), _wall(int(start) + int(length)),
                           names.get(aid, aid).strip().replace("-", " ")))
    return rows, labels, dropped


def convert(root: Path, home: str) -> dict:
    kit = json.loads((HERE / f"{home}.json").read_text(encoding="utf-8"))
    raw = root / home
    if home == "ordonez_b":
        rows, labels, dropped = ordonez(raw, kit)
    else:
        rows, labels, dropped = kasteren(raw, kit, home[-1].upper())
    cut = datetime.combine(max(b for _a, b, _l in labels).date() + timedelta(days=1), datetime.min.time())
    kept = sorted(((a, min(b, cut), n) for a, b, n in rows if a < cut), key=lambda r: r[0])
    if kit.get("convert", {}).get("boundaries") == "toggle":
        # a toggling sensor: the start and the end of each interval are two actuations
        evs = sorted({(t, n) for a, b, n in kept for t in (a, b) if t < cut})
        (raw / kit["log"]).write_text("".join(f"{t:{FMT}}\t{n}\t1\n" for t, n in evs))
    else:
        (raw / kit["log"]).write_text("".join(f"{a:{FMT}}\t{b:{FMT}}\t{n}\n" for a, b, n in kept))
    (raw / kit["labels"]).write_text("".join(f"{a:{FMT}}\t{b:{FMT}}\t{lab}\n" for a, b, lab in sorted(labels)))
    shutil.copyfile(HERE / f"{home}.json", raw / f"{home}.json")
    return {"home": home, "rows": len(rows), "kept": len(kept), "after_last_label": len(rows) - len(kept),
            "dropped_unmapped": dropped, "labels": len(labels), "first": f"{kept[0][0]:{FMT}}",
            "cut": f"{cut:{FMT}}"}


def sha256s(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.glob("*/*")) if p.suffix != ".json" and "_intervals" not in p.name
            and "_labels" not in p.name and "_events" not in p.name}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True, help="folder with ordonez_b/, kasteren_b/, kasteren_c/ (raw files)")
    ap.add_argument("--homes", nargs="*", default=["ordonez_b", "kasteren_b", "kasteren_c"])
    args = ap.parse_args(argv)
    root = Path(args.root)
    for home in args.homes:
        print(json.dumps(convert(root, home), ensure_ascii=False))
    for name, digest in sha256s(root).items():
        print(f"sha256 {digest}  {name}")


if __name__ == "__main__":
    main()
