"""The ingest worker against a real broker: SIGKILL mid-stream, broker restart, database outage."""
import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.db import OperationalError

from carenet.devices.models import DeviceEvent, demo_token
from carenet.monitoring import worker as worker_mod
from carenet.monitoring.models import Alarm
from tests.conftest import mqtt_url
from carenet.monitoring.localbroker import PrivateBroker, Publisher, mosquitto_available

ROOT = Path(__file__).resolve().parents[2]


def payload(device, event_id, kind, value=None, ts=None):
    return json.dumps({"token": demo_token(device.device_id), "events": [
        {"id": event_id, "ts": ts or time.time(), "kind": kind, "value": value or {}}]}).encode()


def start_worker(env, url, client_id, idle_exit=None):
    cmd = [sys.executable, str(ROOT / "manage.py"), "ingest", "--mqtt", url, "--client-id", client_id, "--batch", "20"]
    if idle_exit:
        cmd += ["--idle-exit", str(idle_exit)]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def start_connected_worker(env, url, client_id):
    """A worker that has subscribed (so the broker keeps a session for it from here on)."""
    worker = start_worker(env, url, client_id)
    deadline = time.time() + 90
    while time.time() < deadline:
        line = worker.stdout.readline()
        if "subscribed to" in line:  # SUBACK: the broker keeps what is published from now on
            # keep reading, or a worker that logs more than a pipe holds would block on its next log line
            worker.log_tail = collections.deque(maxlen=60)  # shown when an assertion fails
            threading.Thread(target=lambda: worker.log_tail.extend(worker.stdout), daemon=True).start()
            return worker
        if not line and worker.poll() is not None:
            break
    worker.kill()
    raise AssertionError("ingest worker did not connect to the broker")


def wait_for(predicate, timeout=30, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@pytest.mark.mqtt
def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(home, subprocess_env):
    url = mqtt_url()
    client_id = f"test-ingest-{uuid.uuid4().hex[:8]}"
    pir, sos = home.device("pir", "living"), home.device("sos_button")
    worker = start_connected_worker(subprocess_env, url, client_id)
    pub = Publisher(url)
    try:
        total = 400
        base = time.time() - total
        for i in range(total):
            device, kind, value = (sos, "sos", {}) if i % 100 == 50 else (pir, "motion", {"motion": True})
            pub.publish(f"carenet/v1/dev/{device.device_id}/up", payload(device, f"k{i}", kind, value, base + i), wait=False)
            if i == total // 2:
                wait_for(lambda: DeviceEvent.objects.count() > 20, timeout=20)
                worker.send_signal(signal.SIGKILL)  # mid-stream, no chance to clean up
                worker.wait(timeout=10)
        stored_at_kill = DeviceEvent.objects.count()
        assert stored_at_kill < total
        worker = start_connected_worker(subprocess_env, url, client_id)  # same client id: the broker resumes our session
        assert wait_for(lambda: DeviceEvent.objects.count() >= total, timeout=180), \
            f"only {DeviceEvent.objects.count()} of {total} events stored after the restart"
        time.sleep(1)
        assert DeviceEvent.objects.count() == total
        assert set(DeviceEvent.objects.values_list("event_id", flat=True)) == {f"k{i}" for i in range(total)}
        sos_alarms = list(Alarm.objects.filter(type="sos").values_list("count", flat=True))
        assert sos_alarms == [4], f"SOS alarms and their counts: {sos_alarms}"
    finally:
        pub.close()
        worker.kill()
        worker.wait(timeout=10)


@pytest.mark.mqtt
def test_broker_restart_keeps_queued_messages(home, subprocess_env, tmp_path):
    if not mosquitto_available():
        pytest.fail("mosquitto binary missing") if os.environ.get("CI") == "true" else pytest.skip("no mosquitto binary")
    broker = PrivateBroker(tmp_path).start()
    client_id = f"test-ingest-{uuid.uuid4().hex[:8]}"
    pir = home.device("pir", "bedroom")
    worker = start_connected_worker(subprocess_env, broker.url, client_id)
    try:
        pub = Publisher(broker.url)
        for i in range(50):
            pub.publish(f"carenet/v1/dev/{pir.device_id}/up", payload(pir, f"a{i}", "motion", {"motion": True}))
        assert wait_for(lambda: DeviceEvent.objects.count() == 50, timeout=120), \
            f"{DeviceEvent.objects.count()} of the first 50 events stored; the worker's log:\n" + "".join(worker.log_tail)
        pub.close()
        worker.send_signal(signal.SIGKILL)  # the worker is away while the broker restarts
        worker.wait(timeout=10)
        broker.stop()
        broker.start()
        pub = Publisher(broker.url)
        for i in range(50, 120):  # queued by the broker for the offline worker's persistent session
            pub.publish(f"carenet/v1/dev/{pir.device_id}/up", payload(pir, f"a{i}", "motion", {"motion": True}))
        pub.close()
        broker.stop()   # and once more, with the messages still queued
        broker.start()
        worker = start_connected_worker(subprocess_env, broker.url, client_id)
        assert wait_for(lambda: DeviceEvent.objects.count() == 120, timeout=180), \
            f"{DeviceEvent.objects.count()} of 120 events stored after the broker restarts; the worker's log:\n" + \
            "".join(worker.log_tail)
    finally:
        worker.kill()
        worker.wait(timeout=10)
        broker.stop()


class _Msg:
    def __init__(self, mid, payload=b"{}", topic="carenet/v1/dev/x/up"):
        self.mid, self.qos, self.payload, self.topic = mid, 1, payload, topic


class _FakeClient:
    def __init__(self):
        self.acked = []

    def ack(self, mid, qos):
        self.acked.append(mid)


def _bare_worker():
    """A worker without a broker connection, for the retry logic alone."""
    w = worker_mod.IngestWorker.__new__(worker_mod.IngestWorker)
    w.stats = {"messages": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "db_retries": 0, "alarms": 0}
    w.stop = worker_mod.threading.Event()
    w.accept_old = False
    w.stats_lock = worker_mod.threading.Lock()
    return w


def test_database_outage_keeps_the_batch_unacknowledged_until_it_is_stored(monkeypatch):
    calls = {"n": 0}

    class Result:
        accepted, duplicates, rejected_total, alarm_ids = 2, 0, 0, []

    def flaky_ingest(raws, **kwargs):
        calls["n"] += 1
        if calls["n"] <= 3:
            assert client.acked == []  # nothing acknowledged while the database is down
            raise OperationalError("connection refused")
        return Result()

    w = _bare_worker()
    client = w.client = _FakeClient()
    monkeypatch.setattr(worker_mod, "ingest", flaky_ingest)
    monkeypatch.setattr(worker_mod.connection, "close", lambda: None)
    monkeypatch.setattr(w.stop, "wait", lambda timeout: False)
    w._process([_Msg(1), _Msg(2)])
    assert calls["n"] == 4 and client.acked == [1, 2] and w.stats["db_retries"] == 3


def test_shutdown_during_outage_acknowledges_nothing(monkeypatch):
    w = _bare_worker()
    client = w.client = _FakeClient()
    monkeypatch.setattr(worker_mod, "ingest", lambda raws, **kwargs: (_ for _ in ()).throw(OperationalError("down")))
    monkeypatch.setattr(worker_mod.connection, "close", lambda: None)
    monkeypatch.setattr(w.stop, "wait", lambda timeout: True)  # SIGTERM arrives while waiting to retry
    w._process([_Msg(1)])
    assert client.acked == []


def test_urgent_messages_take_their_own_lane():
    w = _bare_worker()
    w.inbox, w.urgent_inbox = worker_mod.queue.Queue(), worker_mod.queue.Queue()
    now = time.time()
    for i, (kind, age) in enumerate([("motion", 0), ("sos", 0), ("door", 0), ("fall", 5), ("smoke", 0),
                                     ("heartbeat", 0), ("sos", 3600)]):
        w._on_message(None, None, _Msg(i, json.dumps({"events": [{"kind": kind, "ts": now - age}]}).encode()))
    assert [w.urgent_inbox.get_nowait().mid for _ in range(w.urgent_inbox.qsize())] == [1, 3, 4]
    assert w.inbox.qsize() == 4  # including the hour-old SOS: it keeps its place in time order


@pytest.mark.mqtt
@pytest.mark.postgres
def test_database_outage_mid_stream_loses_nothing(home, subprocess_env):
    """The worker's database connection is cut while events keep arriving; nothing is lost or doubled."""
    from django.db import connection

    from tests.monitoring.tcpproxy import CuttableProxy

    db = connection.settings_dict
    proxy = CuttableProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    env = dict(subprocess_env, CARENET_DATABASE_URL=f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}")
    url = mqtt_url()
    client_id = f"test-ingest-{uuid.uuid4().hex[:8]}"
    pir = home.device("pir", "kitchen")
    worker = start_connected_worker(env, url, client_id)
    pub = Publisher(url)
    try:
        for i in range(60):
            pub.publish(f"carenet/v1/dev/{pir.device_id}/up", payload(pir, f"o{i}", "motion", {"motion": True}))
        assert wait_for(lambda: DeviceEvent.objects.count() == 60, timeout=120), "events before the outage not stored"
        proxy.cut()  # the database goes away
        for i in range(60, 160):
            pub.publish(f"carenet/v1/dev/{pir.device_id}/up", payload(pir, f"o{i}", "motion", {"motion": True}))
        time.sleep(3)
        assert DeviceEvent.objects.count() == 60  # nothing could be stored meanwhile...
        assert worker.poll() is None  # ...and the worker did not crash
        proxy.restore()
        assert wait_for(lambda: DeviceEvent.objects.count() == 160, timeout=120), \
            f"{DeviceEvent.objects.count()} of 160 events stored after the database came back"
        time.sleep(1)
        assert DeviceEvent.objects.count() == 160
    finally:
        pub.close()
        worker.kill()
        worker.wait(timeout=10)
        proxy.close()


@pytest.mark.django_db
def test_a_message_that_breaks_the_rules_is_quarantined_not_a_crash(home, monkeypatch):
    """A bug on one valid message must not stop the others, nor crash-loop the worker on redelivery."""
    from carenet.devices.models import Quarantine
    from carenet.monitoring import engine, ingest as ingest_mod

    real_process = engine.process

    def flaky_process(state, config, event):
        if event.event_id == "poison":
            raise ValueError("engine bug")
        return real_process(state, config, event)

    monkeypatch.setattr(ingest_mod.engine, "process", flaky_process)
    w = _bare_worker()
    client = w.client = _FakeClient()
    pir, sos = home.device("pir", "living"), home.device("sos_button")
    msgs = [_Msg(1, payload(pir, "ok-1", "motion", {"motion": True}), f"carenet/v1/dev/{pir.device_id}/up"),
            _Msg(2, payload(pir, "poison", "motion", {"motion": True}), f"carenet/v1/dev/{pir.device_id}/up"),
            _Msg(3, payload(sos, "ok-2", "sos"), f"carenet/v1/dev/{sos.device_id}/up")]
    w._process(msgs)
    assert client.acked == [1, 2, 3]
    assert set(DeviceEvent.objects.values_list("event_id", flat=True)) == {"ok-1", "ok-2"}
    bad = Quarantine.objects.get(reason="processing_error")
    assert "engine bug" in bad.detail and "poison" in bad.payload
    assert Alarm.objects.filter(type="sos").exists()
    assert w.stats["rejected"] == 1
