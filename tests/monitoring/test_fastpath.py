"""The fast ingest path (issue 15) decides exactly what the old one did: same parse results and quarantine
reasons for every hostile message, same outcomes, duplicates, states and alarms for a mixed batch."""
import json
import time

import pytest

from carenet.devices.models import Device, DeviceEvent, Quarantine, demo_token
from carenet.monitoring.fastpath import parse_json_fast
from carenet.monitoring.ingest import RawMessage, Rejection, ingest, parse_json
from carenet.monitoring.models import Alarm, MonitorState
from tests.monitoring.conftest import message
from tests.monitoring.hostile import CASES, DEEP

PAYLOADS = [b'{"a":1}', b'{"v":NaN}', b'{"v":Infinity}', b'{"v":-Infinity}', b'{"v":1e999}', b"[" * 20 + b"]" * 20,
            DEEP, b'{"n":' + b"9" * 19 + b"}", b'{"s":"' + b"9" * 30 + b'"}', b'{"x":"\\ud800"}', b'{"x":"\xff"}',
            b'{"x":"a\x00b"}', b'{"x":"\\u0000"}', b"not json", b"", b'{"a":1.5e308,"b":-0,"c":[true,null]}',
            b'{"a":1}{"b":2}', b'"just a string"', b"x" * 70000]
PAYLOADS += [b"{" + raw.replace(b"NOW", b"1700000000") + b"}" for _, _, raw in CASES.values()]
# the byte-level depth and digit checks of the fast parser: brackets inside strings, escaped quotes, unbalanced
# brackets, exactly the limit and one past it, long digit runs in floats and strings
PAYLOADS += [b'{"a":"' + b"[" * 30 + b'","b":[[[]]]}', b'{"a":"\\"' + b"[" * 30 + b'","b":1}',
             b'{"s":"' + b"]" * 20 + b'","x":' + b"[" * 17 + b"]" * 17 + b"}",
             b'{"s":"' + b"[" * 20 + b'","x":' + b"[" * 15 + b"]" * 15 + b"}",
             b"[" * 16 + b"]" * 16, b"[" * 17 + b"]" * 17, b"[" * 18 + b"]" * 10, b"[" * 10 + b"}" * 10 + b"{}" * 9,
             b'{"a":[{"b":[{"c":"x"},{"d":[1,2,[3]]}]}],"e":"","f":"]["}',
             b'{"f":0.1234567890123456789}', b'{"n":-1234567890123456789}', b'{"n":123456789012345678}']


def _outcome(parse, payload):
    try:
        return ("ok", parse(payload))
    except Rejection as rej:
        return ("rejected", rej.reason, rej.detail)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_fast_parser_agrees_with_the_bounded_parser(payload):
    assert _outcome(parse_json_fast, payload) == _outcome(parse_json, payload)


def _scenario(home):
    pir, sos, band = home.device("pir", "living"), home.device("sos_button"), home.device("wristband")
    now = time.time()
    gateway_body = {"token": demo_token(pir.device_id), "events": [
        {"id": "m1", "ts": now - 5, "kind": "motion", "value": {"motion": True}},
        {"id": "m2", "ts": now - 4, "kind": "motion", "value": {"motion": True, "battery": 55}},
        {"id": "m1", "ts": now - 3, "kind": "motion"},                    # repeated within the batch
        {"id": "bad", "ts": now - 3, "kind": "sos"},                      # a PIR does not send sos
        {"id": "u1", "ts": now, "kind": "teleport"},                      # unknown kind
        {"id": "\\ud800", "ts": now, "kind": "motion"}]}
    raw = json.dumps(gateway_body).replace('"\\\\ud800"', '"\\ud800"').encode()
    return [RawMessage(raw, "mqtt", f"carenet/v1/dev/{pir.device_id}/up"),
            message(sos, "sos", event_id="s1"),
            message(band, "vitals", {"heart_rate": 190, "battery": 80}, event_id="v1"),
            message(band, "vitals", {"heart_rate": 70}, event_id="v2", token="wrong"),
            RawMessage(b'{"v":NaN}', "mqtt", f"carenet/v1/dev/{band.device_id}/up")]


def _snapshot(home, result):
    states = {s.elder_id: s.state for s in MonitorState.objects.all()}
    for s in states.values():
        s.pop("updated", None)
    return {
        "accepted": result.accepted, "duplicates": result.duplicates, "rejected": dict(result.rejected),
        "outcomes": sorted(map(str, result.outcomes)), "signals": sorted(s.key for s in result.signals),
        "events": sorted(DeviceEvent.objects.values_list("device__device_id", "event_id", "kind")),
        "values": sorted(json.dumps(v, sort_keys=True) for v in DeviceEvent.objects.values_list("value", flat=True)),
        "quarantine": sorted(Quarantine.objects.values_list("reason", "event_id", "detail")),
        "alarms": sorted(Alarm.objects.values_list("type", "severity", "count")),
        "devices": sorted(Device.objects.filter(last_seen__isnull=False).values_list("device_id", "battery", "online")),
        "state_keys": {e: sorted(s) for e, s in states.items()},
        "deadlines": sorted(MonitorState.objects.exclude(next_deadline=None).values_list("elder_id", flat=True)),
    }


@pytest.mark.django_db(transaction=True)
def test_both_paths_store_quarantine_and_alarm_alike(home, settings):
    snapshots = {}
    for path in ("old", "fast"):
        settings.CARENET_INGEST_PATH = path
        first = ingest(_scenario(home))
        again = ingest(_scenario(home)[1:2])  # the SOS redelivered: a duplicate, the alarm unchanged
        assert again.accepted == 0 and again.duplicates == 1
        snapshots[path] = _snapshot(home, first)
        for model in (Quarantine, DeviceEvent, Alarm, MonitorState):
            model.objects.all().delete()
        Device.objects.update(last_seen=None, online=False, battery=None)
    assert snapshots["fast"] == snapshots["old"]
    fast = snapshots["fast"]
    assert fast["accepted"] == 4 and fast["duplicates"] == 1
    assert fast["rejected"] == {"duplicate": 1, "kind_mismatch": 1, "unknown_kind": 1, "malformed": 2, "bad_token": 1}
    assert ("sos", "critical", 1) in [a[:3] for a in fast["alarms"]]
    assert any(d[1] == 55 for d in fast["devices"]) and any(d[1] == 80 for d in fast["devices"])


@pytest.mark.django_db
def test_fast_path_skips_the_device_write_within_a_minute(home):
    pir = home.device("pir", "living")
    ingest([message(pir, "motion", {"motion": True}, event_id="a")])
    seen = Device.objects.get(pk=pir.pk).last_seen
    assert seen is not None
    ingest([message(pir, "motion", {"motion": True}, event_id="b")])
    assert Device.objects.get(pk=pir.pk).last_seen == seen


@pytest.mark.django_db
def test_an_urgent_message_is_parsed_once(home, monkeypatch):
    """The worker's urgent check parses the SOS; the fast path uses that body instead of parsing again."""
    from carenet.monitoring import fastpath
    from carenet.monitoring import worker as worker_mod

    sos = home.device("sos_button")
    payload = message(sos, "sos", event_id="once").payload
    body = worker_mod.urgent_body(payload)
    assert body is not None and worker_mod.urgent_body(b'{"kind":"sos","ts":NaN}') is None
    monkeypatch.setattr(fastpath, "parse_json_fast", lambda *a, **k: pytest.fail("parsed a second time"))
    result = ingest([RawMessage(payload, "mqtt", f"carenet/v1/dev/{sos.device_id}/up", body=body)])
    assert result.accepted == 1 and Alarm.objects.filter(type="sos").exists()


def test_the_worker_falls_back_when_a_prepared_batch_failed():
    """The worker prepares the next batch in a second thread: a lost connection there is the batch's (retried,
    nothing acknowledged), any other failure means the batch is ingested the plain way."""
    from concurrent.futures import Future

    from django.db import OperationalError

    from carenet.monitoring.worker import _prepared

    done, broken, lost = Future(), Future(), Future()
    done.set_result("ready")
    broken.set_exception(ValueError("a bug"))
    lost.set_exception(OperationalError("server closed the connection"))
    assert _prepared(None) is None and _prepared(done) == "ready" and _prepared(broken) is None
    with pytest.raises(OperationalError):
        _prepared(lost)


@pytest.mark.django_db(transaction=True)
def test_prepared_then_finished_is_ingest(home):
    from carenet.monitoring.fastpath import finish_fast, prepare_fast

    prepared = prepare_fast(_scenario(home))
    assert DeviceEvent.objects.count() == 0  # preparing writes nothing
    result = finish_fast(prepared)
    assert result.accepted == 4 and result.duplicates == 1 and Alarm.objects.filter(type="sos").exists()
