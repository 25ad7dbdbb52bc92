"""Duplicate suggestion for community requests: the same type, nearby in space and in time."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

EARTH_RADIUS_M = 6_371_000


@dataclass(frozen=True)
class Report:
    id: str
    category: str
    lat: float | None
    lon: float | None
    at: datetime
    area: str = ""  # community code: the fallback when a report has no location


@dataclass(frozen=True)
class Suggestion:
    id: str
    distance_m: float | None
    hours_apart: float
    score: float  # 1.0 = same place and time; 0 = at the edge of the window


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def suggest(new: Report, existing: Iterable[Report], *, radius_m: float = 300, window_days: float = 14,
            limit: int = 5) -> list[Suggestion]:
    """Earlier or later reports of the same category within `radius_m` and `window_days`, best first.

    Without coordinates on either side, two reports match only in the same community (distance unknown,
    counted as the radius)."""
    window_h = window_days * 24
    out = []
    for other in existing:
        if other.id == new.id or other.category != new.category:
            continue
        hours = abs((new.at - other.at).total_seconds()) / 3600
        if hours > window_h:
            continue
        if new.lat is not None and new.lon is not None and other.lat is not None and other.lon is not None:
            d = distance_m(new.lat, new.lon, other.lat, other.lon)
            if d > radius_m:
                continue
            near = 1 - d / radius_m
        elif new.area and new.area == other.area:
            d, near = None, 0.0
        else:
            continue
        score = round(0.5 * near + 0.5 * (1 - hours / window_h), 4)
        out.append(Suggestion(other.id, None if d is None else round(d, 1), round(hours, 1), score))
    out.sort(key=lambda s: (-s.score, s.id))
    return out[:limit]
