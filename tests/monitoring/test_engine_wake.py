"""Early risers are waking up, not wandering: the night out-of-bed rule spares the hour and a half before day."""
import datetime as dt
from zoneinfo import ZoneInfo

from carenet.monitoring.engine import SensorEvent, config_from_profile, next_deadline, process, tick
from carenet.monitoring.engine.state import ElderState

TZ = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TZ).timestamp()


def bed(ts, in_bed):
    return SensorEvent("bed-1", 1, "bed", "bedroom", ts, {"in_bed": in_bed})


def run(config, events, until):
    state, raised = ElderState(elder_id=1), []
    for ev in events:
        state, out = process(state, config, ev)
        raised += [s.type for s in out if s.action == "raise"]
    while (dl := next_deadline(state, config)) is not None and dl <= until:
        state, out = tick(state, config, dl)
        raised += [s.type for s in out if s.action == "raise"]
    return raised


def test_getting_up_at_six_is_not_a_night_excursion():
    config = config_from_profile({"living_alone": True})
    raised = run(config, [bed(at(20, 22, 30), True), bed(at(21, 6, 0), False)], until=at(21, 6, 59))
    assert "night_out_of_bed" not in raised


def test_getting_up_at_three_and_not_returning_still_raises():
    config = config_from_profile({"living_alone": True})
    raised = run(config, [bed(at(20, 22, 30), True), bed(at(21, 3, 0), False)], until=at(21, 4, 0))
    assert "night_out_of_bed" in raised


def test_with_dementia_an_early_exit_still_counts():
    config = config_from_profile({"living_alone": True, "dementia": True})
    assert config.wake_window_h == 0
    raised = run(config, [bed(at(20, 22, 30), True), bed(at(21, 6, 0), False)], until=at(21, 6, 59))
    assert "night_out_of_bed" in raised
