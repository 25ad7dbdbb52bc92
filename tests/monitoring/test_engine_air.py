"""Smart-room air quality: CO2 and PM2.5 alarms with hysteresis (raise at enter, clear only at exit)."""
from carenet.monitoring.engine import ElderState, MonitorConfig, SensorEvent, process
from carenet.monitoring.engine.config import apply_overrides


def air(ts, **value):
    return SensorEvent(device_id="air1", elder_id=1, kind="air", room="room101", ts=float(ts), value=value)


def feed(cfg, readings):
    s, actions = ElderState(), []
    for i, (m, x) in enumerate(readings):
        s, out = process(s, cfg, air(1_800_000_000 + 60 * i, **{m: x}))
        actions += [(sig.type, sig.action, sig.details["value"]) for sig in out]
    return s, actions


def test_co2_hysteresis_does_not_flap():
    cfg = MonitorConfig()
    _, actions = feed(cfg, [("co2", 900), ("co2", 1500), ("co2", 1400), ("co2", 1600), ("co2", 1100),
                            ("co2", 1499), ("co2", 1000), ("co2", 1200)])
    assert actions == [("air_high_co2", "raise", 1500.0), ("air_high_co2", "clear", 1000.0)]


def test_pm25_and_co2_are_separate_alarms_per_device():
    cfg = MonitorConfig()
    s, actions = feed(cfg, [("pm25", 80), ("co2", 2000)])
    assert [a[:2] for a in actions] == [("air_high_pm25", "raise"), ("air_high_co2", "raise")]
    assert set(s.active) == {"air_high_pm25:air1", "air_high_co2:air1"}


def test_bands_are_configurable_and_validated():
    cfg = apply_overrides(MonitorConfig(), {"air": {"co2": [1000, 800]}})
    _, actions = feed(cfg, [("co2", 1000), ("co2", 850), ("co2", 800)])
    assert [a[1] for a in actions] == ["raise", "clear"]
    assert MonitorConfig.from_dict(cfg.to_dict()).air["co2"] == (1000.0, 800.0)
    try:
        apply_overrides(MonitorConfig(), {"air": {"co2": [800, 1000]}})
    except ValueError as exc:
        assert "exit" in str(exc)
    else:
        raise AssertionError("an inverted band must be refused")
