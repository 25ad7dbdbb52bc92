"""Working days over National Day, Spring Festival and unknown years."""

from datetime import date, timedelta

import pytest

from carenet.assistance.engine.rules import ANY_PROGRAM, RuleSet, Standard, default_standards
from carenet.assistance.engine.workdays import (
    PACKAGE_LAST_YEAR, CalendarOutOfRangeError, WorkCalendar, add_working_days, deadline, is_working_day,
    working_days_between,
)

PATH = ("330000", "330106")


def test_plain_week_skips_weekend():
    # Mon 2025-03-10 + 5 working days = Mon 2025-03-17
    assert add_working_days(date(2025, 3, 10), 5) == date(2025, 3, 17)
    assert working_days_between(date(2025, 3, 10), date(2025, 3, 17)) == 5
    assert add_working_days(date(2025, 3, 10), 0) == date(2025, 3, 10)


def test_national_day_2025_holiday_and_makeup_saturday():
    # 2025: Oct 1-8 off; Sun Sep 28 and Sat Oct 11 are make-up working days
    assert not is_working_day(date(2025, 10, 1))
    assert not is_working_day(date(2025, 10, 8))
    assert is_working_day(date(2025, 9, 28))  # Sunday, 调休上班
    assert is_working_day(date(2025, 10, 11))  # Saturday, 调休上班
    # Tue Sep 30 + 1 working day jumps the whole holiday to Thu Oct 9
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # 7 working days from Sep 30: Oct 9, 10, 11(Sat), 13, 14, 15, 16
    assert add_working_days(date(2025, 9, 30), 7) == date(2025, 10, 16)
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 16)) == 7


def test_national_day_2026_makeup_saturday():
    # 2026: Oct 1-7 off, Sat Oct 10 is a make-up working day
    assert [is_working_day(date(2026, 10, d)) for d in range(1, 8)] == [False] * 7
    assert is_working_day(date(2026, 10, 10))
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_spring_festival_2025():
    # 2025 Spring Festival: Jan 28 - Feb 4 off; Sun Jan 26 and Sat Feb 8 worked
    assert is_working_day(date(2025, 1, 26))
    assert not any(is_working_day(date(2025, 1, 28) + timedelta(days=i)) for i in range(8))
    assert is_working_day(date(2025, 2, 8))
    assert add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    # a 15-working-day review started on 2025-01-20
    got = add_working_days(date(2025, 1, 20), 15)
    assert working_days_between(date(2025, 1, 20), got) == 15
    assert got == date(2025, 2, 14)


def test_between_is_antisymmetric():
    a, b = date(2025, 9, 20), date(2025, 10, 20)
    assert working_days_between(b, a) == -working_days_between(a, b)


def test_unknown_year_raises_by_default_and_weekend_fallback_is_opt_in():
    future = date(PACKAGE_LAST_YEAR + 1, 3, 2)
    with pytest.raises(CalendarOutOfRangeError):
        is_working_day(future)
    cal = WorkCalendar(fallback="weekends")
    assert cal.is_working_day(future) is (future.weekday() < 5)
    assert cal.provisional(future)


def test_overrides_describe_a_new_year():
    y = PACKAGE_LAST_YEAR + 1
    new_year = date(y, 1, 1)
    cal = WorkCalendar(extra_holidays={new_year}, known_years={y})
    assert not cal.is_working_day(new_year)
    assert not cal.provisional(new_year)
    # overrides also win inside the package range (e.g. a local emergency closure)
    cal2 = WorkCalendar(extra_holidays={date(2025, 3, 12)})
    assert add_working_days(date(2025, 3, 11), 1, cal2) == date(2025, 3, 13)
    with pytest.raises(ValueError):
        WorkCalendar(extra_holidays={new_year}, extra_workdays={new_year})


def test_deadline_steps_from_rules_and_notice_unit():
    rules = RuleSet(default_standards("330000"))
    start = date(2025, 9, 26)  # Friday before National Day
    review = rules.value("deadline_review_days", ANY_PROGRAM, PATH, start)
    assert deadline("review", start, rules, PATH) == add_working_days(start, review)
    assert working_days_between(start, deadline("approval", start, rules, PATH)) == \
        rules.value("deadline_approval_days", ANY_PROGRAM, PATH, start)
    cal_rules = rules.with_rows(Standard("330106", ANY_PROGRAM, "notice_day_unit", "calendar", date(2025, 1, 1)))
    notice_days = rules.value("deadline_notice_days", ANY_PROGRAM, PATH, start)
    assert deadline("notice", start, cal_rules, PATH) == start + timedelta(days=notice_days)
    assert deadline("notice", start, rules, PATH) == add_working_days(start, notice_days)
    with pytest.raises(ValueError):
        deadline("lunch", start, rules, PATH)
