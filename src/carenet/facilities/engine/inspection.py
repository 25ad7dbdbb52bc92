"""Inspection findings' deadlines in working days (chinese-calendar) and escalation.

A finding's rectification deadline is N working days after it is assigned (N by severity). A finding still open
past its deadline is overdue (level 1, escalated to the street's leader); more than `escalate_after` working days
past it, level 2 (escalated to the district).
"""
from __future__ import annotations

from datetime import date

import chinese_calendar

SEVERITY_DAYS = {"major": 5, "general": 10, "minor": 20}
ESCALATE_AFTER = 5

# The closed loop: 巡查 交办 整改 督查 验收销号
OPEN, ASSIGNED, RECTIFIED, CLOSED = "open", "assigned", "rectified", "closed"
LOOP = {OPEN: {ASSIGNED}, ASSIGNED: {RECTIFIED}, RECTIFIED: {CLOSED, ASSIGNED}, CLOSED: set()}


def is_working_day(d: date) -> bool:
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:          # a year the package does not know: weekdays, provisionally
        return d.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after start (the start day is not counted)."""
    from datetime import timedelta
    d, left = start, n
    while left > 0:
        d += timedelta(days=1)
        if is_working_day(d):
            left -= 1
    return d


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative when end < start."""
    from datetime import timedelta
    if end < start:
        return -working_days_between(end, start)
    n, d = 0, start
    while d < end:
        d += timedelta(days=1)
        n += is_working_day(d)
    return n


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
