"""Recurring orders ("助洁 every Tuesday 9:00"), skipping Chinese public holidays.

The holiday test is injected (``is_holiday(date) -> bool | None``; None = the calendar does not know that
year). ``chinese_holiday`` is the default from the ``chinese_calendar`` package. A holiday occurrence is
skipped or moved to the next working day, as the plan says; an occurrence in a year the calendar does not
know is kept and marked provisional, never silently guessed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable, Iterable

SKIP, NEXT_WORKDAY, KEEP = "skip", "next_workday", "keep"


def chinese_holiday(d: date) -> bool | None:
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_holiday(d))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class Occurrence:
    at: datetime
    planned: date        # the date the rule gives (differs from at.date() when moved)
    moved: bool = False
    provisional: bool = False


def occurrences(weekdays: Iterable[int], at: time, start: date, end: date, *, holidays: str = SKIP,
                is_holiday: Callable[[date], bool | None] = chinese_holiday) -> list[Occurrence]:
    """Occurrences in [start, end] on ``weekdays`` (0 = Monday) at ``at``."""
    days = set(weekdays)
    if not days or not days <= set(range(7)):
        raise ValueError("weekdays must be a non-empty subset of 0..6")
    out: list[Occurrence] = []
    taken: set[date] = set()
    d = start
    while d <= end:
        if d.weekday() in days:
            h = is_holiday(d)
            if h is None:
                out.append(Occurrence(datetime.combine(d, at), d, provisional=True))
                taken.add(d)
            elif not h or holidays == KEEP:
                if d not in taken:
                    out.append(Occurrence(datetime.combine(d, at), d))
                    taken.add(d)
            elif holidays == NEXT_WORKDAY:
                n = d + timedelta(days=1)
                while is_holiday(n):
                    n += timedelta(days=1)
                if n not in taken:
                    out.append(Occurrence(datetime.combine(n, at), d, moved=True, provisional=is_holiday(n) is None))
                    taken.add(n)
        d += timedelta(days=1)
    out.sort(key=lambda o: o.at)
    return out
