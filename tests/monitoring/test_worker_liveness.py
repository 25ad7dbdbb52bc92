"""Issue 9 over a real broker: hostile messages never block the SOS behind them; a worker that can no longer
make progress exits non-zero (so its supervisor restarts it); `manage.py ingest_health` tells operations."""
import io
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command

from carenet.devices.models import DeviceEvent, Quarantine, demo_token
from carenet.monitoring import worker as worker_mod
from carenet.monitoring.localbroker import PrivateBroker, Publisher, mosquitto_available
from carenet.monitoring.management.commands.ingest_health import evaluate
from carenet.monitoring.models import Alarm
from tests.monitoring.hostile import CASES, mqtt_case, sos_payload

ROOT = Path(__file__).resolve().parents[2]


def _need_mosquitto():
    if not mosquitto_available():
        pytest.fail("mosquitto binary missing") if os.environ.get("CI") == "true" else pytest.skip("no mosquitto binary")


def start_worker(env, url, client_id, *extra):
    cmd = [sys.executable, str(ROOT / "manage.py"), "ingest", "--mqtt", url, "--client-id", client_id, *extra]
    worker = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.time() + 90
    while time.time() < deadline:
        line = worker.stdout.readline()
        lines.append(line)
        if "subscribed to" in line:  # SUBACK: the broker keeps what is published from now on
            threading.Thread(target=lambda: lines.extend(worker.stdout), daemon=True).start()
            worker.log = lines
            return worker
        if not line and worker.poll() is not None:
            break
    worker.kill()
    raise AssertionError("ingest worker did not connect:\n" + "".join(lines))


def wait_for(predicate, timeout=30, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@pytest.mark.mqtt
def test_hostile_messages_over_mqtt_never_block_the_next_sos(home, subprocess_env, tmp_path):
    """Each hostile message of issue 9, then a real SOS press: every SOS is stored and counted on its alarm,
    every hostile message quarantined, the worker stays up and healthy. (Before: the first message blocked
    every SOS after it, and the deep-nesting one killed the MQTT thread.)"""
    _need_mosquitto()
    broker = PrivateBroker(tmp_path).start()
    health = tmp_path / "ingest.health.json"
    worker = start_worker(subprocess_env, broker.url, f"test-hostile-{uuid.uuid4().hex[:6]}",
                          "--health-file", str(health))
    pub = Publisher(broker.url)
    sos = home.device("sos_button")
    try:
        for i, name in enumerate(sorted(CASES)):
            topic, payload = mqtt_case(home, name)
            pub.publish(topic, payload)
            pub.publish(f"carenet/v1/dev/{sos.device_id}/up", sos_payload(sos, f"sos-{i}"))
            assert wait_for(lambda i=i: DeviceEvent.objects.filter(device=sos, event_id=f"sos-{i}").exists()), \
                f"the SOS after {name} was not stored:\n" + "".join(worker.log[-20:])
            assert wait_for(lambda i=i: Alarm.objects.filter(type="sos", elder=home.elder, count=i + 1).exists()), \
                f"the SOS after {name} did not count on the alarm"
        assert wait_for(lambda: Quarantine.objects.count() == len(CASES), timeout=60), \
            f"{Quarantine.objects.count()} of {len(CASES)} hostile messages quarantined: " + repr(
                list(Quarantine.objects.values_list("reason", "device_ref", "payload"))) + "".join(worker.log[-30:])
        assert worker.poll() is None
        # the watchdog writes its first heartbeat about a second after start: on a fast machine the SOS
        # checks above can finish before that, so wait for a healthy heartbeat rather than read it once
        wait_for(lambda: evaluate(str(health), max_age=10)[0], timeout=15)
        ok, message = evaluate(str(health), max_age=10)
        assert ok, message
    finally:
        pub.close()
        worker.kill()
        worker.wait(timeout=10)
        broker.stop()
    ok, message = evaluate(str(health), max_age=10, now=time.time() + 60)  # a dead worker's file goes stale
    assert not ok and "old" in message


@pytest.mark.mqtt
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_network_thread_is_detected(tmp_path):
    """If paho's network thread dies (an exception in a callback), the watchdog reports it and exits non-zero."""
    _need_mosquitto()
    broker = PrivateBroker(tmp_path).start()
    w = worker_mod.IngestWorker(broker.url, client_id=f"test-dead-{uuid.uuid4().hex[:6]}",
                                health_file=str(tmp_path / "h.json"))
    died = []
    w._die = died.append
    w.client.on_message = lambda *a: 1 / 0  # what RecursionError in is_urgent() did
    w.connect()
    try:
        assert wait_for(w.connected.is_set, timeout=20)
        assert w.check() is None
        pub = Publisher(broker.url)
        pub.publish("carenet/v1/dev/x/up", b"{}")
        pub.close()
        assert wait_for(lambda: not w.client._thread or not w.client._thread.is_alive(), timeout=20)
        assert w.check() == "the MQTT network thread has died"
        watchdog = threading.Thread(target=w._watch, daemon=True)
        worker_mod.HEALTH_EVERY_S, saved = 0.05, worker_mod.HEALTH_EVERY_S
        try:
            watchdog.start()
            watchdog.join(timeout=10)
        finally:
            worker_mod.HEALTH_EVERY_S = saved
        assert died == [worker_mod.EXIT_WEDGED]
        data = json.loads((tmp_path / "h.json").read_text())
        assert data["ok"] is False and "network thread" in data["problem"]
    finally:
        w.stop.set()
        w.client.loop_stop()
        broker.stop()


def test_no_progress_while_messages_wait_is_a_problem_but_a_database_outage_is_not():
    w = worker_mod.IngestWorker("mqtt://127.0.0.1:1", client_id="t", stall_timeout=5)
    assert w.check() is None
    w.inbox.put(object())
    w.progress = time.monotonic() - 6
    assert w.check().startswith("no progress for 6s with 1 messages waiting")
    w.db_down_since = time.monotonic()  # a restart would not bring the database back: keep retrying
    assert w.check() is None and w.health()["database"] == "unavailable" and w.health()["ok"] is False
    w.db_down_since = None
    w.inbox.get()
    assert w.check() is None  # nothing waits: idle is fine


def test_ingest_health_command(tmp_path):
    path = tmp_path / "h.json"
    assert evaluate(str(path), 15) == (False, f"no heartbeat file at {path}: the worker is not running")
    path.write_text(json.dumps({"time": time.time(), "problem": None, "database": "ok", "mqtt_connected": True,
                                "pid": 1, "waiting": 0, "seconds_since_progress": 0.1}))
    assert evaluate(str(path), 15)[0]
    call_command("ingest_health", file=str(path))  # exit 0: no SystemExit
    path.write_text(json.dumps({"time": time.time(), "problem": None, "database": "unavailable"}))
    assert evaluate(str(path), 15) == (False, "the worker cannot reach the database (it keeps messages "
                                              "unacknowledged and retries)")
    path.write_text(json.dumps({"time": time.time() - 100, "problem": None, "database": "ok"}))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("ingest_health", file=str(path), stderr=err)
    assert exit_.value.code == 1 and "dead or hung" in err.getvalue()


@pytest.mark.mqtt
@pytest.mark.postgres
def test_a_wedged_worker_exits_non_zero_and_its_successor_stores_the_event(home, subprocess_env, tmp_path):
    """The worker's transaction waits on a lock that is never released (a hung database session): messages
    wait, nothing progresses. It must exit with EXIT_WEDGED; a restarted worker then stores the event."""
    from django.db import connections

    from carenet.monitoring.ingest import ingest
    from carenet.monitoring.models import MonitorState
    from tests.monitoring.conftest import message

    _need_mosquitto()
    pir = home.device("pir", "living")
    ingest([message(pir, "motion", {"motion": True})])  # the elder's state row exists
    broker = PrivateBroker(tmp_path).start()
    client_id = f"test-wedged-{uuid.uuid4().hex[:6]}"
    worker = start_worker(subprocess_env, broker.url, client_id, "--stall-timeout", "2")
    pub = Publisher(broker.url)
    other = connections.create_connection("default")
    try:
        with _locked_state_row(other, home.elder.pk):
            pub.publish(f"carenet/v1/dev/{pir.device_id}/up", json.dumps({
                "token": demo_token(pir.device_id), "id": "w1", "ts": time.time(), "kind": "motion",
                "value": {"motion": True}}).encode())
            assert worker.wait(timeout=60) == worker_mod.EXIT_WEDGED, "".join(worker.log[-20:])
            assert "cannot make progress" in "".join(worker.log)
            assert not DeviceEvent.objects.filter(event_id="w1").exists()
        worker = start_worker(subprocess_env, broker.url, client_id)
        assert wait_for(lambda: DeviceEvent.objects.filter(event_id="w1").exists(), timeout=60)
        assert MonitorState.objects.filter(elder=home.elder).exists()
    finally:
        pub.close()
        other.close()
        worker.kill()
        worker.wait(timeout=10)
        broker.stop()


class _locked_state_row:
    """Hold a row lock on the elder's engine state from another connection (like a hung session would)."""

    def __init__(self, conn, elder_id):
        self.conn, self.elder_id = conn, elder_id

    def __enter__(self):
        self.conn.ensure_connection()
        self.raw = self.conn.connection
        self.raw.autocommit = False
        with self.raw.cursor() as cur:
            cur.execute("SELECT 1 FROM monitoring_monitorstate WHERE elder_id = %s FOR UPDATE", [self.elder_id])
            assert cur.fetchone()
        return self

    def __exit__(self, *exc):
        self.raw.rollback()
        self.raw.autocommit = True
