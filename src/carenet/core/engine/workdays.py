"""Working-day arithmetic on the Chinese holiday calendar (shared by every engine: assistance, civic).

Uses the ``chinese_calendar`` package (statutory holidays and 调休 make-up
working days published each year by the State Council General Office).

Counting convention (as for statutory periods: the starting day is not
counted): ``add_working_days(start, n)`` returns the n-th working day *after*
``start``. A step received on Monday with a 5-working-day deadline is due on
the following Monday if nothing intervenes.

Dates outside the package's known years: the package only knows the years for
which the State Council schedule was published when it was released. By
default a ``CalendarOutOfRangeError`` is raised (never a silent guess). The
bureau can (a) enter the published schedule as ``extra_holidays`` /
``extra_workdays`` overrides, which are honoured for any year, and mark the
year as known via ``known_years``; or (b) choose ``fallback="weekends"``,
which treats Monday-Friday as working days for unknown years and records that
the result is provisional (``WorkCalendar.provisional(d)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


class CalendarOutOfRangeError(ValueError):
    """The date is outside the years the holiday calendar knows."""


def _package_years() -> tuple[int, int]:
    days = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return min(days).year, max(days).year


PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR = _package_years()


@dataclass(frozen=True)
class WorkCalendar:
    extra_holidays: frozenset[date] = frozenset()  # e.g. entered from the State Council notice
    extra_workdays: frozenset[date] = frozenset()  # make-up working days (调休上班)
    known_years: frozenset[int] = frozenset()  # years fully described by the overrides
    fallback: str = "error"  # "error" | "weekends"

    def __post_init__(self) -> None:
        if self.fallback not in ("error", "weekends"):
            raise ValueError("fallback must be 'error' or 'weekends'")
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))
        object.__setattr__(self, "known_years", frozenset(self.known_years))
        clash = self.extra_holidays & self.extra_workdays
        if clash:
            raise ValueError(f"dates both holiday and workday: {sorted(clash)}")

    def in_package_range(self, d: date) -> bool:
        return PACKAGE_FIRST_YEAR <= d.year <= PACKAGE_LAST_YEAR

    def provisional(self, d: date) -> bool:
        """True when the answer for ``d`` is a weekend-only guess."""
        return not self.in_package_range(d) and d.year not in self.known_years

    def is_working_day(self, d: date) -> bool:
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        if self.in_package_range(d):
            return bool(chinese_calendar.is_workday(d))
        if d.year in self.known_years or self.fallback == "weekends":
            return d.weekday() < 5
        raise CalendarOutOfRangeError(
            f"{d.isoformat()} is outside the holiday calendar ({PACKAGE_FIRST_YEAR}-{PACKAGE_LAST_YEAR}); "
            "enter that year's schedule as overrides or use fallback='weekends'"
        )

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (n >= 0; n == 0 returns start)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        d = start
        left = n
        while left:
            d += timedelta(days=1)
            if self.is_working_day(d):
                left -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open interval (start, end]; negative if end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        d = start
        while d < end:
            d += timedelta(days=1)
            if self.is_working_day(d):
                count += 1
        return count


DEFAULT_CALENDAR = WorkCalendar()


def is_working_day(d: date, calendar: WorkCalendar = DEFAULT_CALENDAR) -> bool:
    return calendar.is_working_day(d)


def add_working_days(start: date, n: int, calendar: WorkCalendar = DEFAULT_CALENDAR) -> date:
    return calendar.add_working_days(start, n)


def working_days_between(start: date, end: date, calendar: WorkCalendar = DEFAULT_CALENDAR) -> int:
    return calendar.working_days_between(start, end)
