"""Issue 9, section 1: one bad message must never block the alarms.

Each hostile message of the issue is sent (through the worker's lanes, over HTTP, and over a real broker in
test_hostile_messages_over_mqtt) followed by a valid SOS, which must be stored and raise its alarm; the bad
message must be quarantined. Runs on SQLite and on PostgreSQL (where NUL bytes and lone surrogates are errors).
"""
import json
import time

import pytest
from django.db import DataError, IntegrityError, InterfaceError, OperationalError

from carenet.devices.models import Device, DeviceEvent, Quarantine, Vendor, demo_token
from carenet.monitoring import ingest as ingest_mod
from carenet.monitoring import worker as worker_mod
from carenet.monitoring.ingest import (MAX_DEPTH, RawMessage, Rejection, connection_lost, ingest, nesting_depth,
                                       parse_json, payload_text, safe_text)
from carenet.monitoring.models import Alarm
from tests.monitoring.hostile import CASES, DEEP, http_case, mqtt_case, sos_payload


class _Msg:
    def __init__(self, mid, topic, payload):
        self.mid, self.qos, self.topic, self.payload = mid, 1, topic, payload


class _FakeClient:
    def __init__(self):
        self.acked = []

    def ack(self, mid, qos):
        self.acked.append(mid)


def _lane_worker():
    w = worker_mod.IngestWorker.__new__(worker_mod.IngestWorker)
    w.stats = {"messages": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "db_retries": 0, "alarms": 0}
    w.stop = worker_mod.threading.Event()
    w.accept_old = False
    w.stats_lock = worker_mod.threading.Lock()
    w.client = _FakeClient()
    return w


def _sos_alarm(home):
    return Alarm.objects.filter(type="sos", elder=home.elder).first()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_message_then_sos_in_one_batch_of_the_worker(home, name):
    """The worker's batch (urgent or bulk lane: the same code) holds the bad message and a real SOS.
    Before: quarantining failed (PostgreSQL) or RecursionError; the worker retried forever, acknowledged nothing."""
    topic, payload = mqtt_case(home, name)
    sos = home.device("sos_button")
    assert (worker_mod.is_urgent(payload) in (True, False))  # never raises, even on 5,000 nested brackets
    w = _lane_worker()
    w._process([_Msg(1, topic, payload), _Msg(2, f"carenet/v1/dev/{sos.device_id}/up", sos_payload(sos, "real-sos"))])
    assert w.client.acked == [1, 2]
    assert DeviceEvent.objects.filter(device=sos, event_id="real-sos").exists()
    assert _sos_alarm(home) is not None
    bad = Quarantine.objects.get()
    assert bad.reason in {"malformed", "bad_value", "unknown_device", "bad_token", "oversized", "unknown_kind"}
    assert "\x00" not in bad.payload and bad.payload  # stored, escaped
    assert w.stats["rejected"] == 1 and w.stats["accepted"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_event_over_http_is_rejected_then_sos_lands(home, client, name):
    vendor = Vendor(name="AcmeCloud")
    token = vendor.issue_token()
    vendor.save()
    Device.objects.filter(elder=home.elder).update(vendor=vendor)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    response = client.post("/api/devices/events", http_case(home, name), content_type="application/json", **auth)
    assert response.status_code in (200, 400), response.content[:300]
    data = response.json()
    assert data["accepted"] == 0
    if response.status_code == 200:
        assert [e["status"] for e in data["events"]] == ["rejected"] and data["events"][0]["reason"]
    else:
        assert data["rejected"][0]["index"] is None and data["rejected"][0]["reason"]
    assert Quarantine.objects.count() == 1 and Quarantine.objects.get().source == "http"
    sos = home.device("sos_button")
    good = {"events": [{"device_id": sos.device_id, "id": "real-sos", "ts": time.time(), "kind": "sos"}]}
    response = client.post("/api/devices/events", good, content_type="application/json", **auth)
    assert response.status_code == 200
    assert response.json()["events"] == [{"index": 0, "status": "accepted", "reason": "", "detail": ""}]
    assert _sos_alarm(home) is not None


@pytest.mark.django_db
def test_http_batch_answers_every_event(home, client):
    vendor = Vendor(name="AcmeCloud")
    token = vendor.issue_token()
    vendor.save()
    Device.objects.filter(elder=home.elder).update(vendor=vendor)
    sos, pir = home.device("sos_button"), home.device("pir", "living")
    now = int(time.time())
    body = ('{"events":['
            f'{{"device_id":"{sos.device_id}","id":"a1","ts":{now},"kind":"sos"}},'
            f'{{"device_id":"{pir.device_id}","id":"a2","ts":{now},"kind":"motion","value":{{"x":NaN}}}},'
            f'{{"device_id":7,"id":"a3","ts":{now},"kind":"motion"}},'
            f'{{"device_id":"{pir.device_id}","id":"a4","ts":{now},"kind":["motion"]}},'
            f'{{"device_id":"{pir.device_id}","id":"a5","ts":{now},"kind":"motion","value":{{"motion":true}}}},'
            f'{{"device_id":"{sos.device_id}","id":"a1","ts":{now},"kind":"sos"}}'
            ']}')
    # NaN anywhere makes the JSON non-standard: the whole body is refused, nothing stored, one quarantine row
    response = client.post("/api/devices/events", body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400 and "NaN" in response.json()["rejected"][0]["detail"]
    assert not DeviceEvent.objects.exists() and Quarantine.objects.count() == 1
    response = client.post("/api/devices/events", body.replace("NaN", '"\\u0000"'), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    events = response.json()["events"]
    assert [(e["index"], e["status"]) for e in events] == [
        (0, "accepted"), (1, "rejected"), (2, "rejected"), (3, "rejected"), (4, "accepted"), (5, "duplicate")]
    assert [e["reason"] for e in events] == ["", "malformed", "malformed", "malformed", "", "duplicate"]
    assert "NUL" in events[1]["detail"]
    assert response.json()["accepted"] == 2 and response.json()["duplicates"] == 1
    assert Quarantine.objects.count() == 1 + 4


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["fast", "old"])
def test_a_database_data_error_is_isolated_to_its_event(home, monkeypatch, settings, path):
    """The storage step fails for one event (a DataError, as PostgreSQL raises for bad text): that event is
    quarantined with the error, the events before and after it land, and the SOS raises its alarm."""
    from carenet.monitoring import fastpath

    settings.CARENET_INGEST_PATH = path
    module, name = (fastpath, "write_contacts") if path == "fast" else (ingest_mod, "_update_devices")
    real = getattr(module, name)

    def failing(fresh, received):
        if any(c.event_id == "poison" for c, _ in fresh):
            raise DataError("invalid byte sequence for encoding \"UTF8\": 0x00")
        return real(fresh, received)

    monkeypatch.setattr(module, name, failing)
    pir, sos = home.device("pir", "living"), home.device("sos_button")
    msgs = [RawMessage(json.dumps({"token": demo_token(d.device_id),
                                   "id": eid, "ts": time.time(), "kind": kind}).encode(),
                       "mqtt", f"carenet/v1/dev/{d.device_id}/up")
            for d, eid, kind in [(pir, "ok-1", "motion"), (pir, "ok-2", "motion"), (pir, "poison", "motion"),
                                 (pir, "ok-3", "motion"), (sos, "sos-1", "sos")]]
    result = ingest(msgs)
    assert result.accepted == 4 and result.rejected == {"processing_error": 1}
    assert set(DeviceEvent.objects.values_list("event_id", flat=True)) == {"ok-1", "ok-2", "ok-3", "sos-1"}
    bad = Quarantine.objects.get()
    assert (bad.reason, bad.event_id) == ("processing_error", "poison") and "DataError" in bad.detail
    assert _sos_alarm(home) is not None


@pytest.mark.django_db
def test_only_a_lost_connection_counts_as_database_unavailable():
    assert connection_lost(InterfaceError("connection already closed"))
    assert not connection_lost(DataError("NUL"))
    assert not connection_lost(IntegrityError("duplicate key"))
    assert not connection_lost(ValueError("x"))
    assert not connection_lost(OperationalError("deadlock detected"))  # the server still answers


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_refuses_nul_but_the_quarantine_stores_it(home, monkeypatch):
    """Without the decoder's text check, PostgreSQL itself raises DataError on the event: the batch is
    bisected, the event quarantined (its NUL escaped), the rest stored. This is the failure of the issue."""
    monkeypatch.setattr(ingest_mod, "_check_texts", lambda obj, path="": None)
    topic_pir, bad = mqtt_case(home, "nul_in_value")
    sos = home.device("sos_button")
    result = ingest([RawMessage(bad, "mqtt", topic_pir),
                     RawMessage(sos_payload(sos, "sos-1"), "mqtt", f"carenet/v1/dev/{sos.device_id}/up")])
    assert result.accepted == 1 and result.rejected == {"processing_error": 1}
    row = Quarantine.objects.get()
    assert "\\u0000" in row.payload and row.detail.startswith(("DataError", "UntranslatableCharacter"))
    assert _sos_alarm(home) is not None


@pytest.mark.django_db
def test_quarantine_stores_any_bytes():
    every_byte = bytes(range(256)) + "\ud800".encode("utf-8", "surrogatepass") + b"\xed\xa0\x80\x00"
    msg = RawMessage(every_byte, "mqtt", "carenet/v1/dev/x\x00y/up")
    ingest([msg])
    row = Quarantine.objects.get()
    assert row.reason == "malformed" and "\\x00" in row.payload and "\\xff" in row.payload
    assert "\\x00" in row.topic
    assert payload_text(b"plain \xe4\xb8\xad") == "plain 中"
    assert safe_text("a\ud800b\x00") == "a\\ud800b\\x00"


def test_parsing_is_bounded():
    assert nesting_depth(DEEP) > MAX_DEPTH
    assert nesting_depth(b'{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[","b":[1]}') == 2  # brackets in text don't count
    for raw, words in [(b'{"kind":"sos","x":' + DEEP + b"}", "nested"), (b'{"v":NaN}', "NaN"),
                       (b'{"v":Infinity}', "Infinity"), (b'{"v":-Infinity}', "Infinity"), (b'{"v":1e999}', "range"),
                       (b'{"v":' + b"1" * 40 + b"}", "range")]:
        with pytest.raises(Rejection) as exc:
            parse_json(raw)
        assert exc.value.reason == "malformed" and words in exc.value.detail
    assert parse_json(b'{"v":[1,2,{"w":1.5}]}') == {"v": [1, 2, {"w": 1.5}]}


def test_is_urgent_survives_deep_nesting_and_garbage():
    now = time.time()
    assert worker_mod.is_urgent(b'{"kind":"sos","x":' + DEEP + b"}") is False
    assert worker_mod.is_urgent(b'{"kind":"sos","ts":NaN}') is False
    assert worker_mod.is_urgent(b'{"kind":"sos","ts":' + str(now).encode() + b"}") is True
    w = _lane_worker()
    w.inbox, w.urgent_inbox = worker_mod.queue.Queue(), worker_mod.queue.Queue()
    w._on_message(None, None, _Msg(1, "t", b'{"kind":"sos","x":' + DEEP + b"}"))  # was RecursionError
    assert w.inbox.qsize() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["fast", "old"])
def test_lock_contention_is_retried_not_quarantined(home, monkeypatch, settings, path):
    """An OperationalError while the database still answers (SQLite's "database is locked", a deadlock) is
    retried as it is: the valid SOS lands and nothing is quarantined."""
    from carenet.monitoring import fastpath

    settings.CARENET_INGEST_PATH = path
    module, name = (fastpath, "write_contacts") if path == "fast" else (ingest_mod, "_update_devices")
    monkeypatch.setattr(ingest_mod, "TRANSIENT_RETRIES", (0, 0, 0))
    real, calls = getattr(module, name), {"n": 0}

    def locked_twice(fresh, received):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OperationalError("database is locked")
        return real(fresh, received)

    monkeypatch.setattr(module, name, locked_twice)
    sos = home.device("sos_button")
    result = ingest([RawMessage(sos_payload(sos, "sos-1"), "mqtt", f"carenet/v1/dev/{sos.device_id}/up")])
    assert result.accepted == 1 and calls["n"] == 3 and not Quarantine.objects.exists()
    assert _sos_alarm(home) is not None


@pytest.mark.django_db
def test_http_body_over_64_kb_is_413_and_quarantined(home, client):
    vendor = Vendor(name="AcmeCloud")
    token = vendor.issue_token()
    vendor.save()
    response = client.post("/api/devices/events", b'{"events":[' + b" " * 70000 + b"]}",
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 413 and response.json()["rejected"][0]["reason"] == "oversized"
    assert Quarantine.objects.get().reason == "oversized"
