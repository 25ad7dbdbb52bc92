"""Issue 9: a SIGKILLed broker lost every queued event (300 of 300) with the documented settings. The shipped
deploy/mosquitto.conf bounds the loss to autosave_interval messages. Counts only; the time cost of each
setting is printed by bench/broker_crash.py."""
import os

import pytest

from carenet.monitoring.localbroker import conf_value, measure_crash_loss, mosquitto_available, shipped_durability_settings


@pytest.fixture
def _mosquitto():
    if not mosquitto_available():
        pytest.fail("mosquitto binary missing") if os.environ.get("CI") == "true" else pytest.skip("no mosquitto binary")


@pytest.mark.mqtt
def test_shipped_broker_config_bounds_the_loss_of_a_sigkill(tmp_path, _mosquitto):
    shipped = shipped_durability_settings()
    interval = int(conf_value(shipped, "autosave_interval"))
    assert conf_value(shipped, "autosave_on_changes") == "true" and conf_value(shipped, "max_queued_messages") == "0"
    messages = 300 + interval - 1  # the crash falls just before the next save: the worst case
    (tmp_path / "shipped").mkdir()
    shipped_run = measure_crash_loss(tmp_path / "shipped", shipped, messages)
    assert shipped_run["lost"] <= interval, shipped_run
    assert shipped_run["recovered"] >= messages - interval
    # the settings documented before (no autosave): the same crash loses what was queued since the last save
    (tmp_path / "before").mkdir()
    before = measure_crash_loss(tmp_path / "before", "max_queued_messages 0\nmax_inflight_messages 0\n", messages)
    assert before["lost"] > interval, before
