"""Inspection findings' deadlines in working days (chinese-calendar) and escalation.

A finding's rectification deadline is N working days after it is assigned (N by severity). A finding still open
past its deadline is overdue (level 1, escalated to the street's leader); more than `escalate_after` working days
past it, level 2 (escalated to the district).
"""
from __future__ import annotations

from datetime import date

from carenet.core.engine.workdays import WorkCalendar

SEVERITY_DAYS = {"major": 5, "general": 10, "minor": 20}
ESCALATE_AFTER = 5

# The closed loop: 巡查 交办 整改 督查 验收销号
OPEN, ASSIGNED, RECTIFIED, CLOSED = "open", "assigned", "rectified", "closed"
LOOP = {OPEN: {ASSIGNED}, ASSIGNED: {RECTIFIED}, RECTIFIED: {CLOSED, ASSIGNED}, CLOSED: set()}


# The shared working-day calendar (chinese-calendar with statutory holidays and make-up days); beyond the years
# it knows, weekdays count, provisionally.
CALENDAR = WorkCalendar(fallback="weekends")


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after start (the start day is not counted)."""
    return CALENDAR.add_working_days(start, n)


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative when end < start."""
    return CALENDAR.working_days_between(start, end)


def deadline(assigned_on: date, severity: str) -> date:
    if severity not in SEVERITY_DAYS:
        raise ValueError(f"unknown severity {severity!r}")
    return add_working_days(assigned_on, SEVERITY_DAYS[severity])


def escalation(due: date | None, today: date, status: str) -> int:
    """0 in time (or closed / awaiting re-check), 1 overdue, 2 overdue by more than ESCALATE_AFTER working days."""
    if due is None or status in (CLOSED, RECTIFIED) or today <= due:
        return 0
    return 2 if working_days_between(due, today) > ESCALATE_AFTER else 1


def check_step(current: str, target: str) -> None:
    if target not in LOOP.get(current, set()):
        raise ValueError(f"a finding cannot go from {current} to {target}")
