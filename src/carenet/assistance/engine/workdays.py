"""Working-day deadlines of the assistance steps.

The calendar itself (``WorkCalendar``, ``add_working_days``...) is the shared pure module
``carenet.core.engine.workdays``; it is re-exported here so existing imports keep working.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable

from carenet.core.engine.workdays import (  # noqa: F401  (re-exported)
    DEFAULT_CALENDAR, PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR, CalendarOutOfRangeError, WorkCalendar,
    add_working_days, is_working_day, working_days_between,
)

from .rules import ANY_PROGRAM, RuleSet


# step name -> rule key holding its length
STEP_DEADLINE_KEYS = {
    "review": "deadline_review_days",  # accept -> initial review opinion (浙江 Art.11: 15 working days)
    "notice": "deadline_notice_days",  # public notice length (浙江 Art.11: 七日)
    "renotice": "deadline_renotice_days",  # notice again after an objection
    "submit": "deadline_submit_days",  # notice end -> report to the district
    "approval": "deadline_approval_days",  # initial opinion received -> decision (浙江 Art.11: 5 working days)
    "recheck": "deadline_recheck_days",
}


def deadline(step: str, start: date, rules: RuleSet, division_path: Iterable[str], program: str = ANY_PROGRAM,
             calendar: WorkCalendar = DEFAULT_CALENDAR) -> date:
    """Due date of ``step`` started on ``start``, from the dated rules in force on ``start``.

    Notice steps honour ``notice_day_unit`` ('working' or 'calendar'); all
    other steps count working days.
    """
    path = tuple(division_path)
    try:
        key = STEP_DEADLINE_KEYS[step]
    except KeyError:
        raise ValueError(f"unknown step {step!r}; one of {sorted(STEP_DEADLINE_KEYS)}") from None
    days = int(rules.value(key, program, path, start))
    if step in ("notice", "renotice"):
        unit = rules.value("notice_day_unit", program, path, start, default="working")
        if unit == "calendar":
            return start + timedelta(days=days)
        if unit != "working":
            raise ValueError(f"notice_day_unit must be 'working' or 'calendar', not {unit!r}")
    return calendar.add_working_days(start, days)
