"""Working-day deadlines across the Chinese holidays, escalation levels, duplicates and masking."""
import datetime as dt

import pytest

from carenet.civic.engine import deadlines, duplicates, masking


@pytest.mark.parametrize("start,days,due", [
    (dt.date(2026, 3, 2), 5, dt.date(2026, 3, 9)),      # an ordinary week
    (dt.date(2025, 9, 30), 1, dt.date(2025, 10, 9)),    # National Day: 1-8 Oct off, so the 9th
    (dt.date(2025, 9, 26), 3, dt.date(2025, 9, 30)),    # Sunday 28 Sept is a make-up working day (调休)
    (dt.date(2025, 1, 27), 2, dt.date(2025, 2, 6)),     # Spring Festival 28 Jan - 4 Feb
    (dt.date(2025, 4, 30), 1, dt.date(2025, 5, 6)),     # Labour Day 1-5 May
])
def test_due_dates_across_holidays(start, days, due):
    assert deadlines.due_date(start, days) == due


def test_levels():
    due = dt.date(2025, 10, 9)
    assert deadlines.status(due, dt.date(2025, 9, 25)).level == deadlines.ON_TIME
    assert deadlines.status(due, dt.date(2025, 9, 30)).level == deadlines.DUE_SOON  # 1 working day left
    s = deadlines.status(due, dt.date(2025, 10, 10))
    assert s.level == deadlines.OVERDUE and s.remaining == -1
    assert deadlines.status(due, dt.date(2025, 10, 11)).level == deadlines.ESCALATED  # 11 Oct is a 调休 workday
    assert deadlines.status(due, dt.date(2025, 10, 12)).remaining == -2


def test_on_time_share():
    d = dt.date
    assert deadlines.on_time_share([(d(2026, 1, 5), d(2026, 1, 6)), (d(2026, 1, 7), d(2026, 1, 6)),
                                    (d(2026, 1, 6), d(2026, 1, 6))]) == (2, 3, 2 / 3)
    assert deadlines.on_time_share([]) == (0, 0, None)


T0 = dt.datetime(2026, 5, 10, 9)


def rep(i, cat="road", lat=30.5300, lon=117.0500, hours=0, area="A"):
    return duplicates.Report(str(i), cat, lat, lon, T0 + dt.timedelta(hours=hours), area)


def test_duplicates_same_type_near_in_space_and_time():
    new = rep(0)
    existing = [
        rep(1, lat=30.5301),                    # ~11 m, same time: best
        rep(2, hours=24 * 10, lon=117.5001),    # far away
        rep(3, cat="light"),                    # another type
        rep(4, hours=24 * 15),                  # outside the 14-day window
        rep(5, lat=30.5320, hours=48),          # ~222 m, two days apart
        rep(6, lat=None, lon=None, hours=5),    # no location, same community
        rep(7, lat=None, lon=None, area="B"),   # no location, another community
    ]
    found = duplicates.suggest(new, existing)
    assert [s.id for s in found] == ["1", "5", "6"]
    assert 10 < found[0].distance_m < 12 and found[1].hours_apart == 48 and found[2].distance_m is None


def test_distance():
    assert duplicates.distance_m(30.0, 117.0, 30.0, 117.0) == 0
    assert 111_000 < duplicates.distance_m(30.0, 117.0, 31.0, 117.0) < 111_400


def test_masking():
    assert masking.mask_name("王小明") == "王**" and masking.mask_name("李四") == "李*" and masking.mask_name("") == ""
    text = masking.mask_text("王小明（13812345678，340802195003041234）反映路灯坏了", names=("王小明",))
    assert text == "王**（138****5678，3408**********1234）反映路灯坏了"
