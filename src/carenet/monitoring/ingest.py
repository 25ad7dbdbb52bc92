"""Device messages in, alarms out: the one ingest path used by MQTT, HTTP, replay and the demo.

A batch of raw messages is decoded and validated; every rejected event goes to the quarantine with its
reason; accepted events are stored once (unique by device and event id), run through the rules engine
per elder, and the resulting alarms and engine state are written in the same transaction. Nothing is
acknowledged to the broker until that transaction has committed (see worker.py).

No input can stop this path:
- parsing is bounded: size and nesting depth are checked on the raw bytes before anything recursive runs,
  NaN/Infinity and out-of-range numbers are refused, and text with NUL or invalid Unicode (which PostgreSQL
  cannot store) is refused per event;
- if storing a batch fails for any reason but a lost database connection, the batch is split in halves until
  the failing event stands alone; that event is quarantined (`processing_error`) and the rest is stored;
- the quarantine escapes every byte sequence, so writing it cannot fail on content.
Only a lost database connection escapes `ingest()` (as OperationalError/InterfaceError): the caller keeps the
messages and retries, acknowledging nothing.
"""
from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import math
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from carenet.devices.models import Device, DeviceEvent, Quarantine, Vendor, hash_token
from carenet.devices.registry import KINDS_BY_TYPE
from carenet.monitoring import alarms, engine
from carenet.monitoring.models import MonitorState
from carenet.monitoring.state import declared_semantics, config_for, load_states, set_state, update_rows  # noqa: F401 (re-exported)

log = logging.getLogger("carenet.ingest")

TOPIC_PREFIX = "carenet/v1/dev/"
TOPIC_SUFFIX = "/up"
SUBSCRIPTION = "carenet/v1/dev/+/up"
MAX_BYTES = 64 * 1024
MAX_EVENTS = 1000
MAX_DEPTH = 16                # objects/arrays nested deeper than this are refused before parsing
MAX_INT_DIGITS = 18
FUTURE_SLACK_S = 300          # device clocks may run a little fast
MAX_AGE_S = 7 * 24 * 3600     # older than this is refused (replays use --accept-old)
MIN_TS, MAX_TS = 946684800.0, 4102444800.0  # 2000-01-01 .. 2100-01-01: anything else is not a device clock
MAX_ID = 64
QUARANTINE_PAYLOAD = 4000


class Rejection(Exception):
    def __init__(self, reason: str, detail: str = "", device_ref: str = "", event_id: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail[:300]
        self.device_ref = device_ref
        self.event_id = event_id


# ---- safe text: whatever a device sends can be written to the quarantine ------------------------------
def safe_text(value, limit: int | None = None) -> str:
    """Any str as text every database stores: NUL and lone surrogates become visible escapes (\\x00, \\ud800)."""
    if not isinstance(value, str):
        value = "" if value is None else repr(value)
    if limit is not None:
        value = value[:limit]
    value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value.replace("\x00", "\\x00")


def payload_text(payload: bytes, limit: int = QUARANTINE_PAYLOAD) -> str:
    """The raw payload for the quarantine: UTF-8 as it came, any invalid byte (and NUL) as a \\xNN escape."""
    return safe_text(payload[:limit].decode("utf-8", "backslashreplace"))


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "invalid Unicode (lone surrogate)"
    return None


def _check_texts(obj, path: str = "") -> None:
    """Refuse text that PostgreSQL cannot store, anywhere in an event (keys too). Depth is already bounded."""
    if isinstance(obj, str):
        problem = _text_problem(obj)
        if problem:
            raise Rejection("malformed", f"{problem} in {path or 'text'}")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            problem = _text_problem(k)
            if problem:
                raise Rejection("malformed", f"{problem} in a key of {path or 'the event'}")
            _check_texts(v, f"{path}.{safe_text(k, 30)}" if path else safe_text(k, 30))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _check_texts(v, f"{path}[{i}]")


# ---- bounded parsing ---------------------------------------------------------------------------------
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def nesting_depth(payload: bytes, limit: int = MAX_DEPTH) -> int:
    """The deepest object/array nesting in a JSON text (brackets inside strings do not count), without
    parsing it; stops counting past `limit`. Linear time, no recursion."""
    if payload.count(b"[") + payload.count(b"{") <= limit:
        return payload.count(b"[") + payload.count(b"{")  # cannot be deeper than the number of openers
    depth = deepest = 0
    for m in _BRACKET.finditer(_JSON_STRING.sub(b"", payload)):
        if m.group() in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


def _no_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _bounded_int(text):
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"integer with {len(text)} digits is out of range")
    return int(text)


def parse_json(payload: bytes, max_bytes: int = MAX_BYTES):
    """json.loads with limits: size, nesting depth (checked first), no NaN/Infinity, bounded numbers.
    Raises Rejection; never RecursionError, never MemoryError from a device's input."""
    if len(payload) > max_bytes:
        raise Rejection("oversized", f"{len(payload)} bytes > {max_bytes}")
    depth = nesting_depth(payload)
    if depth > MAX_DEPTH:
        raise Rejection("malformed", f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(payload, parse_constant=_no_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Rejection("malformed", f"not JSON: {safe_text(str(exc), 200)}") from None


# ---- messages ----------------------------------------------------------------------------------------
@dataclass
class RawMessage:
    payload: bytes
    source: str = "mqtt"
    topic: str = ""
    received: float = field(default_factory=time.time)
    vendor: Vendor | None = None
    tag: Any = None
    body: Any = None  # already parsed (the worker's urgent check): the fast path does not parse it again


@dataclass
class Candidate:
    device_ref: str
    token: str | None
    event_id: str
    ts: float
    kind: str
    value: dict
    msg: RawMessage
    via: str | None = None  # the home gateway that relayed this sub-device's event (MQTT topic device)
    index: tuple = (None, None)  # (message index, event index) in the ingest() call


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: dict = field(default_factory=lambda: defaultdict(int))
    signals: list = field(default_factory=list)
    alarm_ids: list = field(default_factory=list)
    rejections: list = field(default_factory=list)  # (message index, event index, reason, detail)
    outcomes: list = field(default_factory=list)    # (message index, event index, status, reason, detail)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def quarantine_row(msg: RawMessage, reason: str, detail: str, device_ref="", event_id="") -> Quarantine:
    return Quarantine(
        received=dt.datetime.fromtimestamp(msg.received, dt.timezone.utc), source=safe_text(msg.source, 10),
        topic=safe_text(msg.topic, 200), device_ref=safe_text(device_ref or "", 64)[:64],
        event_id=safe_text(event_id or "", 64)[:64], reason=reason, detail=safe_text(detail, 300)[:300],
        payload=payload_text(msg.payload))


def write_quarantine(rows: list[Quarantine]) -> None:
    """Store quarantine rows. Their text is already escaped; should a row still fail (not for a lost
    connection), it is stored again with only ASCII, so quarantining never blocks the messages behind it."""
    if not rows:
        return
    try:
        with transaction.atomic():
            Quarantine.objects.bulk_create(rows, batch_size=500)
        return
    except Exception as exc:
        if connection_lost(exc):
            raise
        log.error("quarantine batch failed (%s); storing the rows one by one in ASCII", exc.__class__.__name__)
    for row in rows:
        row.pk = None
        for f in ("topic", "device_ref", "event_id", "detail", "payload"):
            setattr(row, f, getattr(row, f).encode("ascii", "backslashreplace").decode("ascii")[
                :Quarantine._meta.get_field(f).max_length or None])
        with transaction.atomic():
            row.save()


def quarantine_failed(msg: RawMessage, exc: Exception) -> None:
    """A message the rules could not process (a bug, not bad input): keep it, with the error, for staff."""
    write_quarantine([quarantine_row(msg, "processing_error", f"{exc.__class__.__name__}: {exc}",
                                     device_from_topic(msg.topic) or "")])


def connection_lost(exc: BaseException) -> bool:
    """True only when the database cannot be reached: then the caller keeps the messages and retries.
    Any other error (bad data, a constraint, a bug) is the message's problem, not the database's."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    # OperationalError is also a deadlock, a lock timeout or SQLite's "database is locked": ask the server.
    try:
        if connection.connection is None:
            connection.ensure_connection()
            return False
        return not connection.is_usable()
    except Exception:
        return True


def device_from_topic(topic: str) -> str | None:
    if isinstance(topic, str) and topic.startswith(TOPIC_PREFIX) and topic.endswith(TOPIC_SUFFIX):
        ref = topic[len(TOPIC_PREFIX):-len(TOPIC_SUFFIX)]
        return ref or None
    return None


def _ts(raw) -> float:
    if isinstance(raw, bool):
        raise Rejection("malformed", "ts must be epoch seconds or ISO 8601")
    if isinstance(raw, (int, float)):
        value = float(raw)
        value = value / 1000.0 if value > 1e11 else value  # milliseconds are accepted too
    elif isinstance(raw, str):
        try:
            parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise Rejection("malformed", f"bad timestamp {safe_text(raw, 40)!r}") from None
        if parsed.tzinfo is None:
            raise Rejection("malformed", "ISO timestamps need an offset, e.g. +08:00")
        try:
            value = parsed.timestamp()
        except (OverflowError, ValueError):
            raise Rejection("malformed", "timestamp out of range") from None
    else:
        raise Rejection("malformed", "ts missing")
    if not MIN_TS <= value <= MAX_TS:
        raise Rejection("malformed", "timestamp out of range (before 2000 or after 2100)")
    return value


# Only these escapes put NUL or lone surrogates in parsed text (raw ones are refused): else skip the walk (fast path)
_SUSPECT_TEXT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def decode(msg: RawMessage, parse=parse_json, fast: bool = False) -> list[Candidate | Rejection]:
    """Turn one raw message into candidate events (or rejections, one per bad event).
    Raises Rejection when the whole message is unreadable; never anything else for any input."""
    body = msg.body if fast and msg.body is not None else parse(msg.payload)
    check_texts = not fast or _SUSPECT_TEXT.search(msg.payload) is not None
    if not isinstance(body, dict):
        raise Rejection("malformed", "payload must be a JSON object")
    topic_device = device_from_topic(msg.topic) if msg.source == "mqtt" else None
    if msg.source == "mqtt" and topic_device is None:
        raise Rejection("malformed", f"topic must be {TOPIC_PREFIX}<device_id>{TOPIC_SUFFIX}")
    events = body.get("events", [body] if "kind" in body else None)
    if not isinstance(events, list) or not events:
        raise Rejection("malformed", "no events: give 'events': [...] or a single event with 'kind'")
    if len(events) > MAX_EVENTS:
        raise Rejection("oversized", f"{len(events)} events > {MAX_EVENTS}")
    token = body.get("token")
    if isinstance(token, str) and _text_problem(token):
        raise Rejection("bad_token", f"token has {_text_problem(token)}")
    token = token if isinstance(token, str) else None
    out: list[Candidate | Rejection] = []
    for ev in events:
        device_ref, event_id = topic_device or "", ""
        try:
            if not isinstance(ev, dict):
                raise Rejection("malformed", "event must be an object")
            raw_ref, raw_id = ev.get("device_id"), ev.get("id")
            device_ref = raw_ref if isinstance(raw_ref, str) else (topic_device or "")
            event_id = raw_id if isinstance(raw_id, str) else str(raw_id) if isinstance(raw_id, int) else ""
            if check_texts:
                _check_texts(ev)
            if raw_ref is not None and not isinstance(raw_ref, str):
                raise Rejection("malformed", "device_id must be a string")
            ref = raw_ref or topic_device
            if not isinstance(ref, str) or not ref or len(ref) > MAX_ID:
                raise Rejection("malformed", "device_id missing or longer than 64 characters")
            via = topic_device if topic_device and ref != topic_device else None
            if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
                raise Rejection("malformed", "event id missing: a string or an integer")
            if not event_id or len(event_id) > MAX_ID:
                raise Rejection("malformed", "event id missing or longer than 64 characters")
            kind = ev.get("kind")
            if not isinstance(kind, str):
                raise Rejection("malformed", "kind must be a string")
            if kind not in engine.KINDS:
                raise Rejection("unknown_kind", f"kind {kind[:30]!r}")
            value = ev.get("value", {})
            if not isinstance(value, dict):
                raise Rejection("bad_value", "value must be an object")
            out.append(Candidate(ref, token, event_id, _ts(ev.get("ts")), kind, value, msg, via))
        except Rejection as rej:
            rej.device_ref, rej.event_id = device_ref, event_id
            out.append(rej)
    return out


NUMERIC_FIELDS = ("heart_rate", "bp_sys", "bp_dia", "spo2", "breath_rate", "battery", "lat", "lon", "confidence")


def _check_value(kind: str, value: dict) -> None:
    for key in NUMERIC_FIELDS:
        v = value.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise Rejection("bad_value", f"{key} must be a number")
    if kind == "gps" and not all(isinstance(value.get(k), (int, float)) and not isinstance(value.get(k), bool)
                                 for k in ("lat", "lon")):
        raise Rejection("bad_value", "gps needs lat and lon")


def _token_ok(device: Device, cand: Candidate, devices: dict) -> bool:
    if cand.msg.vendor is not None:  # HTTP: the vendor token was checked; the device must belong to it
        return device.vendor_id == cand.msg.vendor.pk
    signer = device
    if cand.via is not None:  # relayed: the gateway signs, and must be in the same home
        signer = devices.get(cand.via)
        if signer is None or signer.type != "gateway" or signer.elder_id != device.elder_id:
            return False
    return cand.token is not None and hmac.compare_digest(signer.token_hash, hash_token(cand.token))


class _Batch:
    """What one ingest() call has decided so far: results, and the quarantine rows to write."""

    def __init__(self):
        self.result = IngestResult()
        self.quarantine: list[Quarantine] = []

    def reject(self, msg, reason, detail, device_ref="", event_id="", index=(None, None)):
        self.result.rejected[reason] += 1
        self.result.rejections.append((*index, reason, detail))
        self.result.outcomes.append((*index, "duplicate" if reason == "duplicate" else "rejected", reason, detail))
        self.quarantine.append(quarantine_row(msg, reason, detail, device_ref, event_id))


def ingest(messages: list[RawMessage], *, now: float | None = None, accept_old: bool = False,
           path: str | None = None) -> IngestResult:
    """Store what is valid, quarantine the rest. Raises only when the database connection is lost. path: "fast"
    (fastpath.py, default) or "old" (ingest_old, before issue 15, kept for benchmarks); CARENET_INGEST_PATH."""
    impl = PATHS[path or getattr(settings, "CARENET_INGEST_PATH", "fast")]
    return impl(messages, now=now, accept_old=accept_old)


PATHS: dict = {}  # "old": ingest_old (below); "fast": registered by monitoring/fastpath.py (imported by apps.py)


def decode_all(messages: list[RawMessage], batch: "_Batch", parse=parse_json, fast=False) -> list[Candidate]:
    """Decode every message; rejections go to the batch, the candidate events are returned."""
    reject = batch.reject
    candidates: list[Candidate] = []
    for mi, msg in enumerate(messages):
        try:
            decoded = decode(msg, parse, fast)
        except Rejection as rej:
            reject(msg, rej.reason, rej.detail, device_from_topic(msg.topic) or "", index=(mi, None))
            continue
        except Exception as exc:  # a bug in the decoder: the message is kept, never a crash
            log.exception("decoder failed on a message from %s", safe_text(msg.topic, 200))
            reject(msg, "processing_error", f"{exc.__class__.__name__}: {exc}", device_from_topic(msg.topic) or "",
                   index=(mi, None))
            continue
        for ei, item in enumerate(decoded):
            if isinstance(item, Rejection):
                reject(msg, item.reason, item.detail, item.device_ref, item.event_id, (mi, ei))
            else:
                item.index = (mi, ei)
                candidates.append(item)
    return candidates


def validate(candidates: list[Candidate], devices: dict, now: float, accept_old: bool, batch, token_ok=_token_ok):
    """(candidate, device) pairs that pass the registry, token, kind, clock and value checks; the rest rejected.
    `devices` maps device ids to Device rows or look-alikes (the fast path's), token_ok checks the token."""
    accepted = []
    for cand in candidates:
        device = devices.get(cand.device_ref)
        try:
            if device is None:
                raise Rejection("unknown_device", f"device {cand.device_ref!r} is not registered or not active")
            if not token_ok(device, cand, devices):
                raise Rejection("bad_token", "device does not belong to this vendor" if cand.msg.vendor is not None
                                else f"gateway {cand.via} may not relay for this device" if cand.via
                                else "token does not match the device")
            if cand.kind not in KINDS_BY_TYPE.get(device.type, set()):
                raise Rejection("kind_mismatch", f"a {device.type} does not send {cand.kind}")
            if cand.ts > now + FUTURE_SLACK_S:
                raise Rejection("far_future", f"ts is {cand.ts - now:.0f}s ahead of the server clock")
            if not accept_old and cand.ts < now - MAX_AGE_S:
                raise Rejection("too_old", f"ts is {(now - cand.ts) / 86400:.1f} days old")
            _check_value(cand.kind, cand.value)
        except Rejection as rej:
            batch.reject(cand.msg, rej.reason, rej.detail, cand.device_ref, cand.event_id, cand.index)
            continue
        accepted.append((cand, device))
    return accepted


def ingest_old(messages: list[RawMessage], *, now: float | None = None, accept_old: bool = False) -> IngestResult:
    """The path before issue 15: stdlib json, ORM objects per event and device, bulk_create, one UPDATE per row."""
    now = now or time.time()
    batch = _Batch()
    candidates = decode_all(messages, batch)
    devices = {d.device_id: d for d in Device.objects.filter(
        device_id__in={c.device_ref for c in candidates} | {c.via for c in candidates if c.via},
        active=True).select_related("elder__resident")}
    accepted = validate(candidates, devices, now, accept_old, batch)
    _store_isolating(accepted, batch)
    write_quarantine(batch.quarantine)
    return batch.result


PATHS["old"] = ingest_old
TRANSIENT_RETRIES = (0.2, 0.5, 1.0, 2.0)  # seconds; a deadlock, lock timeout or SQLite "database is locked"


def _store_isolating(items: list[tuple[Candidate, Device]], batch: _Batch, top: bool = True, store=None) -> None:
    """Store the events in one transaction; if that fails for any reason but a lost connection, store each half
    on its own, down to the single event that fails, which is quarantined. The others land.

    An OperationalError while the server still answers (a deadlock, a lock timeout, SQLite's "database is
    locked") is first retried as it is, so lock contention never quarantines a valid event."""
    if not items:
        return
    store = store or _store
    retries = list(TRANSIENT_RETRIES) if top or len(items) == 1 else []
    error: Exception | None = None
    while True:
        try:
            part = _Batch()
            with transaction.atomic():
                store(items, part)
            break
        except Exception as exc:
            if connection_lost(exc):
                raise
            if isinstance(exc, OperationalError) and retries:
                log.warning("storing %d events hit %s; retrying", len(items), exc.__class__.__name__)
                time.sleep(retries.pop(0))
                continue
            error = exc
            break
    if error is not None:
        if len(items) > 1:
            mid = len(items) // 2
            _store_isolating(items[:mid], batch, top=False, store=store)
            _store_isolating(items[mid:], batch, top=False, store=store)
            return
        exc = error
        cand, device = items[0]
        log.error("event %s of %s quarantined: %s while storing it", safe_text(cand.event_id, 64),
                  safe_text(device.device_id, 64), exc.__class__.__name__)
        batch.reject(cand.msg, "processing_error", f"{exc.__class__.__name__}: {exc}", device.device_id,
                     cand.event_id, cand.index)
        return
    r, p = batch.result, part.result
    r.accepted += p.accepted
    r.duplicates += p.duplicates
    r.signals += p.signals
    r.alarm_ids += p.alarm_ids
    r.outcomes += p.outcomes
    r.rejections += p.rejections
    for reason, n in p.rejected.items():
        r.rejected[reason] += n
    batch.quarantine += part.quarantine


def _store(items, part: _Batch) -> None:
    fresh = _drop_duplicates(items, part)
    received = timezone.now()
    DeviceEvent.objects.bulk_create([
        DeviceEvent(device=d, event_id=c.event_id, kind=c.kind, ts=dt.datetime.fromtimestamp(c.ts, dt.timezone.utc),
                    received=received, value=c.value) for c, d in fresh], batch_size=1000)
    part.result.accepted = len(fresh)
    part.result.outcomes += [(*c.index, "accepted", "", "") for c, _ in fresh]
    _update_devices(fresh, received)
    if fresh:
        _run_rules(fresh, part.result)
    if part.result.alarm_ids:
        ids = list(part.result.alarm_ids)
        transaction.on_commit(lambda: alarms.notify(ids))


def _drop_duplicates(accepted, part: _Batch):
    """Events already stored, or repeated within the batch, are counted as duplicates and quarantined."""
    if not accepted:
        return []
    seen = set(DeviceEvent.objects.filter(
        device__in={d.pk for _, d in accepted}, event_id__in={c.event_id for c, _ in accepted},
    ).values_list("device_id", "event_id"))
    fresh = []
    for cand, device in accepted:
        key = (device.pk, cand.event_id)
        if key in seen:
            part.result.duplicates += 1
            part.reject(cand.msg, "duplicate", f"event {cand.event_id} of {device.device_id} was already received",
                        device.device_id, cand.event_id, cand.index)
            continue
        seen.add(key)
        fresh.append((cand, device))
    return fresh


LAST_SEEN_RESOLUTION = dt.timedelta(seconds=60)


def _update_devices(fresh, received) -> None:
    """Last contact, battery and online state; a device's row is rewritten at most once a minute."""
    latest: dict[int, tuple[Device, int | None]] = {}
    for cand, device in fresh:
        battery = cand.value.get("battery")
        battery = battery if isinstance(battery, (int, float)) and not isinstance(battery, bool) else None
        prev = latest.get(device.pk)
        latest[device.pk] = (device, battery if battery is not None else (prev[1] if prev else None))
    changed = []
    for device, battery in latest.values():
        battery = max(0, min(100, int(battery))) if battery is not None else device.battery
        stale = device.last_seen is None or received - device.last_seen >= LAST_SEEN_RESOLUTION
        if stale or not device.online or battery != device.battery:
            device.last_seen, device.online, device.battery = received, True, battery
            changed.append(device)
    if changed:
        update_rows(Device, ["last_seen", "online", "battery"], changed)


def _run_rules(fresh, result: IngestResult) -> None:
    by_elder: dict[int, list[tuple[Candidate, Device]]] = defaultdict(list)
    for cand, device in fresh:
        by_elder[device.elder_id].append((cand, device))
    states = load_states(sorted(by_elder))
    elders = {device.elder_id: device.elder for _, device in fresh}
    rows = []
    for elder_id, items in by_elder.items():
        row = states[elder_id]
        state = engine.ElderState.from_dict(row.state) if row.state else engine.ElderState(elder_id=elder_id)
        config = config_for(elders[elder_id], row.overrides)
        signals = []
        for cand, device in sorted(items, key=lambda x: x[0].ts):
            value = dict(cand.value)
            if device.type == "door" and device.role:
                value.setdefault("role", device.role)
            declared_semantics(device, value)   # pulse / edge and hold time from the registry (#16)
            if cand.kind == "heartbeat":
                value.setdefault("device_type", device.type)
            event = engine.SensorEvent(device_id=device.device_id, elder_id=elder_id, kind=cand.kind,
                                       room=device.room or None, ts=cand.ts, value=value, event_id=cand.event_id)
            state, out = engine.process(state, config, event)
            signals.extend(out)
        rows.append(set_state(row, state, config))
        result.signals.extend(signals)
    if result.signals:
        result.alarm_ids.extend(alarms.apply_signals(result.signals, elders))
    update_rows(MonitorState, ["state", "next_deadline", "updated"], rows)
