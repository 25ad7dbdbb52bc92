"""The hostile device messages of issue 9, each as an MQTT message and as an HTTP batch, and a valid SOS."""
import json
import time

from carenet.devices.models import demo_token

DEEP = b"[" * 5000 + b"]" * 5000

# name: (device type, token: "device" | "x" | None, the event's fields as raw JSON text; NOW is replaced)
CASES = {
    "nul_in_event_id_urgent": ("nobody", "x", b'"id":"p\\u0000x","ts":NOW,"kind":"sos"'),
    "battery_infinity": ("wristband", "device", b'"id":"b1","ts":NOW,"kind":"heartbeat","value":{"battery":Infinity}'),
    "heart_rate_nan": ("wristband", "device", b'"id":"n1","ts":NOW,"kind":"vitals","value":{"heart_rate":NaN}'),
    "nul_in_value": ("pir", "device", b'"id":"v1","ts":NOW,"kind":"motion","value":{"x":"a\\u0000b"}'),
    "nul_in_event_id_no_token": ("pir", None, b'"id":"e\\u0000","ts":NOW,"kind":"motion"'),
    "raw_nul_byte": ("pir", None, b'"id":"r1","ts":NOW,"kind":"motion","value":{"x":"a\x00b"}'),
    "deep_nesting": ("sos_button", "device", b'"kind":"sos","x":' + DEEP),
    "lone_surrogate_id": ("sos_button", "device", b'"id":"\\ud800","ts":NOW,"kind":"sos"'),
    "integer_device_id": ("sos_button", "device", b'"device_id":5,"id":"i1","ts":NOW,"kind":"sos"'),
    "list_kind": ("sos_button", "device", b'"id":"l1","ts":NOW,"kind":["sos"]'),
    "ts_minus_infinity": ("sos_button", "device", b'"id":"t1","ts":-Infinity,"kind":"sos"'),
    "ts_overflow": ("sos_button", "device", b'"id":"t2","ts":1e400,"kind":"sos"'),
    "ts_year_9999": ("sos_button", "device", b'"id":"t3","ts":"9999-12-31T23:59:59+08:00","kind":"sos"'),
    "nul_in_key": ("pir", "device", b'"id":"k1","ts":NOW,"kind":"motion","value":{"a\\u0000":1}'),
    "surrogate_in_value_key": ("pir", "device", b'"id":"k2","ts":NOW,"kind":"motion","value":{"\\udc80":1}'),
    "huge_integer": ("wristband", "device", b'"id":"h1","ts":NOW,"kind":"vitals","value":{"heart_rate":' + b"9" * 5000 + b'}'),
}


def _device(home, type_):
    if type_ == "nobody":
        return None
    return home.device(type_, "living") if type_ == "pir" else home.device(type_)


def _fields(raw: bytes) -> bytes:
    return raw.replace(b"NOW", str(int(time.time())).encode())


def mqtt_case(home, name) -> tuple[str, bytes]:
    """(topic, payload) of the hostile message `name`, as a device would publish it."""
    type_, token, fields = CASES[name]
    device = _device(home, type_)
    device_id = device.device_id if device else "NOBODY-1"
    head = b"{"
    if token == "device":
        head += b'"token":"' + demo_token(device_id).encode() + b'",'
    elif token:
        head += b'"token":"' + token.encode() + b'",'
    return f"carenet/v1/dev/{device_id}/up", head + _fields(fields) + b"}"


def http_case(home, name) -> bytes:
    """The hostile event `name` in a vendor's HTTP batch."""
    type_, _, fields = CASES[name]
    device = _device(home, type_)
    ref = b"" if b'"device_id"' in fields else b'"device_id":"' + (device.device_id if device else "NOBODY-1").encode() + b'",'
    return b'{"events":[{' + ref + _fields(fields) + b"}]}"


def sos_payload(device, event_id: str) -> bytes:
    return json.dumps({"token": demo_token(device.device_id), "id": event_id, "ts": time.time(), "kind": "sos"}).encode()
