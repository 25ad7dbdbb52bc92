"""Bed figures computed from residents, never typed in."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable


@dataclass(frozen=True)
class Stay:
    admitted: date
    discharged: date | None
    nursing: bool = False       # occupies a nursing-type bed


@dataclass(frozen=True)
class Beds:
    total: int
    nursing_total: int
    occupied: int
    nursing_occupied: int
    available: int
    occupancy: Decimal | None         # occupied / total, 0..1 (4 dp)
    nursing_share: Decimal | None     # nursing-type beds / all beds (4 dp)
    overbooked: int                   # residents beyond the bed count (a data problem to show, not hide)
    as_of: date | datetime | None     # when the figure was last true: the latest admission/discharge on or before the day


def _ratio(a: int, b: int) -> Decimal | None:
    return (Decimal(a) / Decimal(b)).quantize(Decimal("0.0001"), ROUND_HALF_UP) if b else None


def figures(total: int, nursing_total: int, stays: Iterable[Stay], on: date) -> Beds:
    occupied = nursing_occupied = 0
    last_change = None
    for s in stays:
        for d in (s.admitted, s.discharged):
            if d is not None and d <= on and (last_change is None or d > last_change):
                last_change = d
        if s.admitted <= on and (s.discharged is None or s.discharged > on):
            occupied += 1
            nursing_occupied += 1 if s.nursing else 0
    overbooked = max(0, occupied - total)
    return Beds(total, nursing_total, occupied, nursing_occupied, max(0, total - occupied), _ratio(occupied, total),
                _ratio(nursing_total, total), overbooked, last_change)
