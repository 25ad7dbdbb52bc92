"""Local-time helpers for the rules engine.

All timestamps inside the engine are epoch seconds (UTC). Rules that depend on
the time of day (day/night windows, routine check hour, the "today" boundary)
work in the elder's local time. The UTC offset is looked up from an IANA zone
name and cached per hour, so DST zones work; Asia/Shanghai is a fixed +08:00.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY = 86400.0


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=65536)
def _offset_for_hour(tz: str, hour: int) -> float:
    dt = datetime.fromtimestamp(hour * 3600, tz=timezone.utc).astimezone(_zone(tz))
    off = dt.utcoffset()
    return off.total_seconds() if off is not None else 0.0


def utc_offset(tz: str, ts: float) -> float:
    """UTC offset in seconds of zone ``tz`` at epoch ``ts``."""
    return _offset_for_hour(tz, int(ts // 3600))


def local_seconds(tz: str, ts: float) -> float:
    """Seconds since local midnight (0 <= x < 86400)."""
    return (ts + utc_offset(tz, ts)) % DAY


def local_day(tz: str, ts: float, boundary_h: float = 0.0) -> int:
    """Index of the local day containing ``ts``; a day starts at ``boundary_h`` local."""
    return int((ts + utc_offset(tz, ts) - boundary_h * 3600.0) // DAY)


def local_time_of_day(tz: str, day: int, hour: float, boundary_h: float = 0.0) -> float:
    """Epoch of local clock time ``hour`` (may be >= 24) on the local day ``day``.

    ``day`` is counted with the same ``boundary_h`` as :func:`local_day`; ``hour``
    is measured from local midnight of the calendar date on which that day starts.
    """
    guess = day * DAY + hour * 3600.0
    # guess is a local epoch; subtract the offset valid around that moment
    off = utc_offset(tz, guess - utc_offset(tz, guess))
    return guess - off
