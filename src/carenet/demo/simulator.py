"""Realistic daily routines for simulated homes, with occasional emergencies. Pure Python, no Django.

Each home has the standard kit (devices.services.HOME_KIT). A home's day is planned once from a seeded RNG:
wake-up, bathroom, breakfast (fridge), going out, lunch, nap, dinner, bed and night bathroom visits, with
device heartbeats. Emergencies are injected at the configured daily rates: an SOS press, a smoke alarm,
or a collapse (the stream stops for the rest of the day).
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class SimEvent:
    ts: float
    device_id: str
    kind: str
    value: dict
    event_id: str


@dataclass
class Rates:
    sos_per_day: float = 0.02
    smoke_per_day: float = 0.002
    collapse_per_day: float = 0.005
    heartbeat_minutes: float = 30.0


@dataclass
class Home:
    elder_id: int
    devices: dict[str, str]  # role key ("pir:bedroom", "door:entrance", "sos", ...) -> device_id
    seed: int = 0
    rates: Rates = field(default_factory=Rates)
    _days: dict = field(default_factory=dict)

    def events_between(self, t0: float, t1: float) -> list[SimEvent]:
        """Events with t0 <= ts < t1, in time order."""
        out = []
        day = dt.datetime.fromtimestamp(t0, TZ).date() - dt.timedelta(days=1)
        last = dt.datetime.fromtimestamp(t1, TZ).date()
        while day <= last:
            out.extend(e for e in self._plan(day) if t0 <= e.ts < t1)
            day += dt.timedelta(days=1)
        return sorted(out, key=lambda e: e.ts)

    # -- one day ----------------------------------------------------------------------------------
    def _plan(self, day: dt.date) -> list[SimEvent]:
        if day in self._days:
            return self._days[day]
        if len(self._days) > 4:
            self._days.pop(min(self._days))
        rng = random.Random(hash((self.seed, self.elder_id, day.toordinal())) & 0xFFFFFFFF)
        base = dt.datetime(day.year, day.month, day.day, tzinfo=TZ).timestamp()
        ev: list[tuple[float, str, str, dict]] = []
        d = self.devices

        def at(hours: float) -> float:
            return base + hours * 3600

        def motion(t, room, minutes=5.0):
            key = f"pir:{room}"
            if key not in d:
                return
            n = max(1, int(minutes))
            for i in range(n):
                ev.append((t + i * 60 + rng.uniform(0, 20), key, "motion", {"motion": True}))

        def door(t, role):
            key = f"door:{role}"
            if key in d:
                ev.append((t, key, "door", {"open": True}))
                ev.append((t + rng.uniform(5, 40), key, "door", {"open": False}))

        def bathroom(t, minutes):
            door(t, "bathroom")
            motion(t + 10, "bathroom", minutes)
            door(t + minutes * 60 + 15, "bathroom")

        def meal(t):
            motion(t, "kitchen", rng.uniform(15, 35))
            door(t + 120, "fridge")
            door(t + 900, "fridge")

        wake = rng.gauss(6.7, 0.4)
        if "mattress:bedroom" in d:
            ev.append((at(wake) - 60, "mattress:bedroom", "bed", {"in_bed": False}))
        motion(at(wake), "bedroom", 4)
        bathroom(at(wake) + 300, rng.uniform(5, 12))
        meal(at(wake + 0.5))
        motion(at(wake + 1.2), "living", rng.uniform(30, 90))
        if rng.random() < 0.6:  # goes out: market, park, clinic
            out = rng.uniform(8.5, 10.0)
            door(at(out), "entrance")
            door(at(out + rng.uniform(0.7, 2.0)), "entrance")
            motion(at(out) - 120, "living", 2)
        meal(at(rng.gauss(11.6, 0.3)))
        motion(at(12.6), "bedroom", 3)  # nap
        motion(at(rng.uniform(14.0, 14.8)), "living", rng.uniform(60, 120))
        bathroom(at(rng.uniform(15.5, 16.5)), rng.uniform(3, 8))
        meal(at(rng.gauss(17.6, 0.3)))
        motion(at(18.6), "living", rng.uniform(90, 150))
        bed = rng.gauss(21.8, 0.4)
        bathroom(at(bed - 0.3), rng.uniform(4, 10))
        motion(at(bed), "bedroom", 3)
        if "mattress:bedroom" in d:
            ev.append((at(bed) + 300, "mattress:bedroom", "bed", {"in_bed": True, "heart_rate": rng.randint(58, 76),
                                                                   "breath_rate": rng.randint(12, 18)}))
            for h in range(1, 7):
                ev.append((at(bed) + h * 3600, "mattress:bedroom", "bed",
                           {"in_bed": True, "heart_rate": rng.randint(52, 72), "breath_rate": rng.randint(11, 17)}))
        for _ in range(rng.choice([0, 1, 1, 2])):  # night bathroom visits
            t = at(bed + rng.uniform(2, 6.5))
            if "mattress:bedroom" in d:
                ev.append((t - 30, "mattress:bedroom", "bed", {"in_bed": False}))
                ev.append((t + 600, "mattress:bedroom", "bed", {"in_bed": True}))
            bathroom(t, rng.uniform(3, 7))

        # heartbeats from every device
        step = self.rates.heartbeat_minutes * 60
        for key in d:
            offset = rng.uniform(0, step)
            battery = rng.randint(40, 100)
            t = base + offset
            while t < base + 86400:
                ev.append((t, key, "heartbeat", {"battery": battery}))
                t += step

        # smart-room air monitors (care homes): a reading every 10 minutes; CO2 builds up in a closed room at
        # night and clears when the window opens in the morning, PM2.5 follows the outdoor air
        for key in [k for k in d if k.startswith("air:")]:
            t, pm = base, rng.uniform(15, 45)
            while t < base + 86400:
                h = (t - base) / 3600
                co2 = 600 + (900 if h < 7 else 0) * min(1.0, (7 - h) / 3 if h < 7 else 0) + rng.uniform(-60, 60)
                if h >= 22:
                    co2 += (h - 22) * 250
                pm = max(5.0, pm + rng.uniform(-4, 4))
                ev.append((t, key, "air", {"co2": round(co2), "pm25": round(pm, 1), "temperature": round(rng.uniform(20, 24), 1)}))
                t += 600

        # emergencies
        if rng.random() < self.rates.collapse_per_day:
            stop = at(rng.uniform(8, 20))
            ev = [e for e in ev if e[0] < stop or e[2] == "heartbeat"]
        if rng.random() < self.rates.sos_per_day and "sos" in d:
            ev.append((at(rng.uniform(7, 22)), "sos", "sos", {}))
        if rng.random() < self.rates.smoke_per_day and "smoke:kitchen" in d:
            t = at(rng.uniform(10, 19))
            ev.append((t, "smoke:kitchen", "smoke", {"alarm": True}))
            ev.append((t + 600, "smoke:kitchen", "smoke", {"alarm": False}))

        plan = []
        for i, (ts, key, kind, value) in enumerate(sorted(ev, key=lambda e: e[0])):
            plan.append(SimEvent(ts, d[key], kind, value, f"s{day:%Y%m%d}-{i}"))
        self._days[day] = plan
        return plan


def kit_key(device_type: str, room: str, role: str) -> str:
    """The simulator's name for a device of the home kit."""
    if device_type == "door":
        return f"door:{role}"
    if device_type in ("sos_button", "sos_phone"):
        return "sos"
    if device_type == "wristband":
        return "wristband"
    return f"{device_type}:{room}"
