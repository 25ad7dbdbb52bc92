"""Working-day deadlines on the Chinese calendar, due-soon / overdue levels and the on-time share."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

from carenet.core.engine.workdays import DEFAULT_CALENDAR, WorkCalendar

ON_TIME, DUE_SOON, OVERDUE, ESCALATED = 0, 1, 2, 3
LEVELS = {ON_TIME: "on_time", DUE_SOON: "due_soon", OVERDUE: "overdue", ESCALATED: "escalated"}


def due_date(start: date, working_days: int, calendar: WorkCalendar = DEFAULT_CALENDAR) -> date:
    """The n-th working day after `start` (the day of submission does not count)."""
    return calendar.add_working_days(start, working_days)


@dataclass(frozen=True)
class DeadlineStatus:
    due: date
    remaining: int  # working days left; negative when overdue
    level: int

    @property
    def label(self) -> str:
        return LEVELS[self.level]


def status(due: date, today: date, *, warn_days: int = 1, escalate_days: int = 2,
           calendar: WorkCalendar = DEFAULT_CALENDAR) -> DeadlineStatus:
    """Due soon when at most `warn_days` working days remain; escalated when overdue by `escalate_days` or more."""
    remaining = calendar.working_days_between(today, due)
    if today > due:
        level = ESCALATED if -remaining >= escalate_days else OVERDUE
    elif remaining <= warn_days:
        level = DUE_SOON
    else:
        level = ON_TIME
    return DeadlineStatus(due, remaining, level)


def on_time_share(pairs: Iterable[tuple[date, date]]) -> tuple[int, int, float | None]:
    """(on time, decided, share) over (decided_on, due) pairs."""
    pairs = list(pairs)
    on_time = sum(1 for decided, due in pairs if decided <= due)
    return on_time, len(pairs), (on_time / len(pairs) if pairs else None)
