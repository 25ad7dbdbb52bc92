"""Parsers for the real ADL sensor datasets in data/adl/ (no Django).

* Ordóñez et al. 2013, house A (``OrdonezA_Sensors.txt``, ``OrdonezA_ADLs.txt``):
  Madrid, 14 labelled days, 12 sensors (PIR, magnets, flush, pressure, electric).
* van Kasteren et al. 2008, house A (``kasterenSenseData.txt``, ``kasterenActData.txt``):
  Amsterdam, 14 reed switches / float sensors, no PIR at all.

Each sensor row is an interval [start, end] during which the sensor fired. We map
every interval onto :class:`SensorEvent` s of our kinds: a start edge and an end
edge (door open/closed, seat/bed occupied/free, appliance on/off); a PIR interval
also gets a motion pulse every ``PIR_RETRIGGER_S`` seconds while it lasts, as a raw
PIR keeps firing while someone moves; a toilet flush gives one event. Timestamps are local wall-clock times of
the house; we convert them with the house's time zone (Europe/Madrid,
Europe/Amsterdam). Events are yielded sorted by time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from .engine.events import (APPLIANCE, BED, DOOR, MOTION, SEAT, TOILET_FLUSH, SensorEvent)

import os as _os

# ../shared/data/adl beside the repository (where CI and the developers' machines keep it), or CARENET_ADL_PATH.
DEFAULT_ROOT = Path(_os.environ.get("CARENET_ADL_PATH")
                    or Path(__file__).resolve().parents[3].parent / "shared" / "data" / "adl")
PIR_RETRIGGER_S = 60.0


@dataclass(frozen=True, slots=True)
class SensorSpec:
    kind: str
    room: str
    role: str | None = None      # for doors
    name: str = ""
    semantics: str = "state"     # state | pulse | edge (docs/device-protocol.md, "Device semantics")
    hold_s: float = 0.0          # pulse: the reading holds this long after the last pulse


@dataclass(frozen=True, slots=True)
class Activity:
    start: float
    end: float
    label: str


@dataclass
class AdlDataset:
    name: str
    tz: str
    events: list[SensorEvent]
    activities: list[Activity]
    sensors: dict[str, SensorSpec] = field(default_factory=dict)

    def local_date(self, ts: float) -> date:
        return datetime.fromtimestamp(ts, ZoneInfo(self.tz)).date()

    @property
    def start(self) -> float:
        return self.events[0].ts

    @property
    def end(self) -> float:
        return self.events[-1].ts

    def dates_with_events(self) -> list[date]:
        return sorted({self.local_date(e.ts) for e in self.events})

    def labelled_dates(self) -> list[date]:
        return sorted({self.local_date(a.start) for a in self.activities})

    def away_intervals(self, min_s: float = 0.0) -> list[tuple[float, float]]:
        """Labelled 'leave house' intervals (the elder was out)."""
        return [(a.start, a.end) for a in self.activities
                if a.label.lower() in ("leaving", "leave house") and a.end - a.start >= min_s]


# ---------------------------------------------------------------- sensor maps
ORDONEZ_SENSORS: dict[str, SensorSpec] = {
    "Shower": SensorSpec(MOTION, "bathroom"),
    "Basin": SensorSpec(MOTION, "bathroom"),
    "Cooktop": SensorSpec(MOTION, "kitchen"),
    "Maindoor": SensorSpec(DOOR, "entrance", "entrance"),
    "Fridge": SensorSpec(DOOR, "kitchen", "fridge"),
    "Cabinet": SensorSpec(DOOR, "bathroom", "cupboard"),
    "Cupboard": SensorSpec(DOOR, "kitchen", "cupboard"),
    "Toilet": SensorSpec(TOILET_FLUSH, "bathroom"),
    "Seat": SensorSpec(SEAT, "living"),
    "Bed": SensorSpec(BED, "bedroom"),
    "Microwave": SensorSpec(APPLIANCE, "kitchen"),
    "Toaster": SensorSpec(APPLIANCE, "kitchen"),
}

KASTEREN_SENSORS: dict[str, SensorSpec] = {
    "1": SensorSpec(APPLIANCE, "kitchen", name="Microwave"),
    "5": SensorSpec(DOOR, "toilet", "bathroom", "Hall-Toilet door"),
    "6": SensorSpec(DOOR, "bathroom", "bathroom", "Hall-Bathroom door"),
    "7": SensorSpec(DOOR, "kitchen", "cupboard", "Cups cupboard"),
    "8": SensorSpec(DOOR, "kitchen", "fridge", "Fridge"),
    "9": SensorSpec(DOOR, "kitchen", "cupboard", "Plates cupboard"),
    "12": SensorSpec(DOOR, "entrance", "entrance", "Frontdoor"),
    "13": SensorSpec(APPLIANCE, "kitchen", name="Dishwasher"),
    "14": SensorSpec(TOILET_FLUSH, "toilet", name="ToiletFlush"),
    "17": SensorSpec(DOOR, "kitchen", "freezer", "Freezer"),
    "18": SensorSpec(DOOR, "kitchen", "cupboard", "Pans Cupboard"),
    "20": SensorSpec(APPLIANCE, "bathroom", name="Washingmachine"),
    "23": SensorSpec(DOOR, "kitchen", "cupboard", "Groceries Cupboard"),
    "24": SensorSpec(DOOR, "bedroom", "room", "Hall-Bedroom door"),
}

KASTEREN_ACTIVITIES = {"1": "leave house", "4": "use toilet", "5": "take shower",
                       "10": "go to bed", "13": "prepare Breakfast", "15": "prepare Dinner",
                       "17": "get drink"}

_ORD_TS = r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})"
_ORD_ROW = re.compile(_ORD_TS + r"\s+" + _ORD_TS + r"\s+(\S+)\s+(\S+)\s+(\S+)")
_ORD_ADL = re.compile(_ORD_TS + r"\s+" + _ORD_TS + r"\s+(\S+)")
_KAS_TS = r"(\d{2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}:\d{2})"
_KAS_ROW = re.compile(_KAS_TS + r"\s+" + _KAS_TS + r"[ \t]+(\d+)(?:[ \t]+(\d+))?")


def _epoch(s: str, fmt: str, tz: ZoneInfo) -> float:
    return datetime.strptime(s, fmt).replace(tzinfo=tz).timestamp()


def _edges(device: str, spec: SensorSpec, elder_id, t0: float, t1: float,
           seq: int) -> list[SensorEvent]:
    """Start/end events for one sensor interval."""
    k, room = spec.kind, spec.room
    if k == TOILET_FLUSH:
        return [SensorEvent(device, elder_id, k, room, t0, {}, f"{device}-{seq}")]
    on, off = {
        MOTION: ({"motion": True}, {"motion": False}),
        DOOR: ({"open": True, "role": spec.role}, {"open": False, "role": spec.role}),
        SEAT: ({"occupied": True}, {"occupied": False}),
        BED: ({"in_bed": True}, {"in_bed": False}),
        APPLIANCE: ({"on": True, "appliance": spec.name or device},
                    {"on": False, "appliance": spec.name or device}),
    }[k]
    evs = [SensorEvent(device, elder_id, k, room, t0, on, f"{device}-{seq}-on")]
    if k == MOTION:
        # a raw PIR keeps firing while motion goes on: one pulse per PIR_RETRIGGER_S
        t, i = t0 + PIR_RETRIGGER_S, 0
        while t < t1:
            evs.append(SensorEvent(device, elder_id, k, room, t, on, f"{device}-{seq}-p{i}"))
            t += PIR_RETRIGGER_S
            i += 1
    evs.append(SensorEvent(device, elder_id, k, room, max(t0, t1), off, f"{device}-{seq}-off"))
    return evs


def _sorted(evs: list[SensorEvent]) -> list[SensorEvent]:
    # stable: at equal ts keep file order (start edges of a row before its end edge)
    return sorted(evs, key=lambda e: e.ts)


def load_ordonez(root: Path | str = DEFAULT_ROOT / "ordonez_a", elder_id="ordonez_a",
                 tz: str = "Europe/Madrid") -> AdlDataset:
    root = Path(root)
    z = ZoneInfo(tz)
    fmt = "%Y-%m-%d %H:%M:%S"
    evs: list[SensorEvent] = []
    text = (root / "OrdonezA_Sensors.txt").read_text(encoding="latin-1")
    for seq, m in enumerate(_ORD_ROW.finditer(text)):
        start, end, loc, _typ, _place = m.groups()
        spec = ORDONEZ_SENSORS.get(loc)
        if spec is None:
            raise ValueError(f"unknown Ordonez sensor {loc!r}")
        evs += _edges(f"ord-{loc.lower()}", spec, elder_id, _epoch(start, fmt, z),
                      _epoch(end, fmt, z), seq)
    acts = [Activity(_epoch(a, fmt, z), _epoch(b, fmt, z), lab)
            for a, b, lab in _ORD_ADL.findall(
                (root / "OrdonezA_ADLs.txt").read_text(encoding="latin-1"))]
    return AdlDataset("ordonez_a", tz, _sorted(evs), acts, dict(ORDONEZ_SENSORS))


def load_kasteren(root: Path | str = DEFAULT_ROOT / "kasteren_a", elder_id="kasteren_a",
                  tz: str = "Europe/Amsterdam") -> AdlDataset:
    root = Path(root)
    z = ZoneInfo(tz)
    fmt = "%d-%b-%Y %H:%M:%S"
    evs: list[SensorEvent] = []
    text = (root / "kasterenSenseData.txt").read_text(encoding="latin-1")
    for seq, m in enumerate(_KAS_ROW.finditer(text)):
        start, end, sid, _val = m.groups()
        spec = KASTEREN_SENSORS.get(sid)
        if spec is None:
            raise ValueError(f"unknown Kasteren sensor id {sid}")
        evs += _edges(f"kas-{sid}", spec, elder_id, _epoch(start, fmt, z),
                      _epoch(end, fmt, z), seq)
    acts = []
    for a, b, aid, _ in _KAS_ROW.findall((root / "kasterenActData.txt").read_text(
            encoding="latin-1")):
        acts.append(Activity(_epoch(a, fmt, z), _epoch(b, fmt, z),
                             KASTEREN_ACTIVITIES.get(aid, aid)))
    return AdlDataset("kasteren_a", tz, _sorted(evs), acts, dict(KASTEREN_SENSORS))


def load(name: str, root: Path | str = DEFAULT_ROOT) -> AdlDataset:
    root = Path(root)
    if name == "ordonez_a":
        return load_ordonez(root / "ordonez_a")
    if name == "kasteren_a":
        return load_kasteren(root / "kasteren_a")
    raise KeyError(name)


def iter_events(name: str, root: Path | str = DEFAULT_ROOT) -> Iterator[SensorEvent]:
    """Yield a dataset's SensorEvents in time order."""
    yield from load(name, root).events


def day_starts(ds: AdlDataset, hour: float = 4.0) -> list[float]:
    """Epochs of local ``hour`` o'clock for every date from the first to the last event."""
    z = ZoneInfo(ds.tz)
    d = ds.local_date(ds.start) - timedelta(days=1)
    last = ds.local_date(ds.end)
    out = []
    while d <= last:
        out.append(datetime(d.year, d.month, d.day, int(hour), int(hour % 1 * 60),
                            tzinfo=z).timestamp())
        d += timedelta(days=1)
    return out


# ---------------------------------------------------------------- any home: a log and a mapping file
_KINDS = {MOTION, DOOR, SEAT, BED, APPLIANCE, TOILET_FLUSH}


class MappingError(ValueError):
    """The mapping file or the log does not fit; the message says where (in Chinese, for the bureau's staff)."""


def load_mapped(mapping_path: Path | str, elder_id: str | None = None) -> AdlDataset:
    """A home given as a sensor log and a JSON mapping (docs/monitoring-evaluation.md, "Any home").

    ``{"name", "tz", "log", "format": "intervals"|"events", "time_format", "sensors": {name: {"kind", "room",
    "role"?, "semantics"?, "hold_s"?}}, "labels"?, "away_labels"?, "bathroom_labels"?}``. ``intervals``: each line
    is start, end, sensor name (tab-separated, as the Ordóñez and van Kasteren logs); ``events``: each line is
    time, sensor name, optional value (on/off/1/0), tab- or comma-separated. Paths are relative to the mapping.
    """
    import json

    path = Path(mapping_path)
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MappingError(f"映射文件无法读取:{exc}") from None
    for key in ("name", "tz", "log", "sensors"):
        if key not in m:
            raise MappingError(f"映射文件缺少字段 {key}")
    try:
        z = ZoneInfo(m["tz"])
    except Exception:
        raise MappingError(f"未知时区 {m['tz']}") from None
    fmt = m.get("time_format", "%Y-%m-%d %H:%M:%S")
    sensors: dict[str, SensorSpec] = {}
    for name, spec in m["sensors"].items():
        if spec.get("kind") not in _KINDS:
            raise MappingError(f"传感器 {name}:不支持的类型 {spec.get('kind')}")
        if spec.get("semantics", "state") not in ("state", "pulse", "edge"):
            raise MappingError(f"传感器 {name}:上报语义须为 state、pulse 或 edge")
        sensors[str(name)] = SensorSpec(spec["kind"], spec.get("room", ""), spec.get("role"), spec.get("name", name),
                                        spec.get("semantics", "state"), float(spec.get("hold_s", 0) or 0))
    eid = elder_id or m["name"]
    evs: list[SensorEvent] = []
    for lineno, fields in _rows(path.parent / m["log"]):
        try:
            if m.get("format", "intervals") == "intervals":
                t0, t1, name = _epoch(fields[0], fmt, z), _epoch(fields[1], fmt, z), fields[2]
                spec = sensors.get(name)
                if spec is None:
                    raise MappingError(f"日志第 {lineno} 行:传感器 {name} 不在映射中")
                evs += _edges(f"{m['name']}-{name}", spec, eid, t0, t1, lineno)
            else:
                t, name = _epoch(fields[0], fmt, z), fields[1]
                spec = sensors.get(name)
                if spec is None:
                    raise MappingError(f"日志第 {lineno} 行:传感器 {name} 不在映射中")
                on = (fields[2].lower() not in ("0", "off", "false", "close", "closed")) if len(fields) > 2 else True
                evs += _point(f"{m['name']}-{name}", spec, eid, t, on, lineno)
        except (IndexError, ValueError) as exc:
            if isinstance(exc, MappingError):
                raise
            raise MappingError(f"日志第 {lineno} 行无法解析:{exc}") from None
    if not evs:
        raise MappingError("日志中没有任何事件")
    acts: list[Activity] = []
    if m.get("labels"):
        for lineno, fields in _rows(path.parent / m["labels"]):
            try:
                acts.append(Activity(_epoch(fields[0], fmt, z), _epoch(fields[1], fmt, z), fields[2]))
            except (IndexError, ValueError):
                raise MappingError(f"标注文件第 {lineno} 行无法解析") from None
    ds = AdlDataset(m["name"], m["tz"], _sorted(evs), acts,
                    {f"{m['name']}-{k}": v for k, v in sensors.items()})
    return ds


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise MappingError(f"文件无法读取:{path.name}({exc.strerror})") from None
    for i, line in enumerate(text.splitlines(), 1):
        sep = "\t" if "\t" in line else ","
        fields = [f.strip() for f in line.split(sep) if f.strip()]
        if len(fields) >= 2 and fields[0][:1].isdigit():
            yield i, fields


def _point(device: str, spec: SensorSpec, elder_id, t: float, on: bool, seq: int) -> list[SensorEvent]:
    k = spec.kind
    value: dict = {} if k == TOILET_FLUSH else {
        MOTION: {"motion": on}, DOOR: {"open": on, "role": spec.role}, SEAT: {"occupied": on},
        BED: {"in_bed": on}, APPLIANCE: {"on": on, "appliance": spec.name or device}}[k]
    return [SensorEvent(device, elder_id, k, spec.room, t, value, f"{device}-{seq}")]
