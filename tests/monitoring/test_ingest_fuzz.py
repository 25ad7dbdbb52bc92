"""Property-based fuzzing of the decoder and ingest() (issue 9): random JSON, random bytes, random nesting and
mutated real messages. No exception escapes, and every message ends up stored or quarantined.
Bounded in examples (and derandomized, so a CI run is reproducible); runs on SQLite and PostgreSQL."""
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carenet.devices.models import Device, DeviceEvent, Quarantine, Vendor, demo_token
from carenet.monitoring import engine
from carenet.monitoring.ingest import RawMessage, Rejection, decode, ingest
from carenet.monitoring.worker import is_urgent

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

nasty_text = st.sampled_from(["", "\x00", "a\x00b", "\ud800", "x\udfffy", "\u202e", "中文", "x" * 70, "NaN",
                              "2026-11-29T08:00:00+08:00", "2026-11-29T08:00:00", "9999-12-31T23:59:59+00:00",
                              "sos", "motion", "events", "token", "id"])
text = st.one_of(st.text(max_size=12), nasty_text)
numbers = st.one_of(st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
                    st.floats(allow_nan=True, allow_infinity=True))
leaf = st.one_of(st.none(), st.booleans(), numbers, text)
json_value = st.recursive(leaf, lambda ch: st.lists(ch, max_size=4) | st.dictionaries(text, ch, max_size=4),
                          max_leaves=16)


def dumps(obj) -> bytes:
    return json.dumps(obj, allow_nan=True).encode()  # ensure_ascii: lone surrogates travel as \ud800 escapes


@st.composite
def nesting(draw) -> bytes:
    depth = draw(st.integers(min_value=0, max_value=6000))
    opener = draw(st.sampled_from([b"[", b'{"a":', b'{"kind":"sos","x":[']))
    closer = {b"[": b"]", b'{"a":': b"}", b'{"kind":"sos","x":[': b"]}"}[opener]
    balanced = draw(st.booleans())
    return opener * depth + b"1" + closer * (depth if balanced else depth // 2)


@st.composite
def mutated_event(draw, device_ids):
    """A message close to a real one (a registered device, its token), with fields drawn at random."""
    device_id = draw(st.sampled_from(device_ids))
    ev = {"id": draw(st.one_of(st.uuids().map(str), text, st.integers(), json_value)),
          "ts": draw(st.one_of(st.just(time.time()), numbers, text, st.just(time.time() * 1000))),
          "kind": draw(st.one_of(st.sampled_from(sorted(engine.KINDS)), text, json_value)),
          "value": draw(st.one_of(st.dictionaries(st.sampled_from(
              ["motion", "open", "battery", "heart_rate", "lat", "lon", "alarm", "in_bed", "confidence", "x"]),
              json_value, max_size=4), json_value))}
    if draw(st.booleans()):
        ev["device_id"] = draw(st.one_of(st.sampled_from(device_ids), text, json_value))
    body = {"token": draw(st.one_of(st.just(demo_token(device_id)), text, json_value)), "events": [ev]}
    if draw(st.booleans()):
        body = {"token": body["token"], **ev}
    return f"carenet/v1/dev/{device_id}/up", dumps(body)


def payloads(device_ids):
    topic = st.one_of(st.just(f"carenet/v1/dev/{device_ids[0]}/up"), text)
    return st.one_of(
        st.tuples(topic, json_value.map(dumps)),
        st.tuples(topic, st.binary(max_size=200)),
        st.tuples(topic, nesting()),
        mutated_event(device_ids),
    )


@pytest.fixture
def device_ids(home):
    return sorted(home.devices)


@pytest.mark.django_db
def test_decoder_never_raises_anything_but_a_rejection(device_ids):
    @FUZZ
    @given(st.lists(payloads(device_ids), min_size=1, max_size=1))
    def run(items):
        topic, payload = items[0]
        assert is_urgent(payload) in (True, False)
        try:
            out = decode(RawMessage(payload, "mqtt", topic))
        except Rejection as rej:
            assert rej.reason and rej.detail
            return
        assert out and all(isinstance(x, Rejection) or x.event_id for x in out)
    run()


@pytest.mark.django_db(transaction=False)
def test_ingest_stores_or_quarantines_every_message(device_ids):
    @FUZZ
    @given(st.lists(payloads(device_ids), min_size=1, max_size=3), st.booleans())
    def run(items, accept_old):
        messages = [RawMessage(payload, "mqtt", topic) for topic, payload in items]
        before_events, before_quarantine = DeviceEvent.objects.count(), Quarantine.objects.count()
        result = ingest(messages, accept_old=accept_old)  # no exception may escape
        assert DeviceEvent.objects.count() - before_events == result.accepted
        assert Quarantine.objects.count() - before_quarantine == result.rejected_total
        for mi in range(len(messages)):  # every message has an outcome: stored, duplicate or quarantined
            assert any(o[0] == mi for o in result.outcomes), f"message {mi} vanished"
    run()


@pytest.mark.django_db
def test_http_endpoint_never_answers_500(home, client):
    vendor = Vendor(name="FuzzCloud")
    token = vendor.issue_token()
    vendor.save()
    Device.objects.filter(elder=home.elder).update(vendor=vendor)
    ids = sorted(home.devices)

    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(payloads(ids))
    def run(item):
        _, payload = item
        body = payload if not payload.startswith(b"{\"token\"") else b'{"events":[' + payload + b"]}"
        response = client.post("/api/devices/events", body, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code in (200, 400, 413), response.content[:200]
        data = response.json()
        assert data["accepted"] + data["duplicates"] + len(data["rejected"]) >= 1
    run()
