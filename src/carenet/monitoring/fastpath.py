"""The fast ingest path (issue 15): the same decisions as ingest.ingest_old, with less work per event.

What is different, and why (the profiles are in docs/monitoring-ingest.md):
- JSON is parsed once, by orjson. The limits are the same: size and nesting depth are checked on the bytes
  first (by byte translations, not a regex: nesting_depth_fast); orjson refuses NaN/Infinity, invalid UTF-8,
  lone surrogates and numbers out of range by itself. Any message orjson refuses, or one with a 19-digit run
  (an integer orjson would accept but we refuse), is parsed again by the bounded stdlib parser, so the
  quarantine reason and detail are exactly the old ones.
- No ORM object per event or per device: devices are read as tuples, events are written by COPY on PostgreSQL
  (one buffer formatted here; a multi-row INSERT on SQLite), the engine states are read and written as JSON
  text (one UPDATE on PostgreSQL), and the device last-contact writes of a batch are one statement, at most one
  per device and minute (coalesced: the stored contact is rewritten only when it is a minute old or the battery
  or online state changed).
- PostgreSQL statements bind on the server with binary arrays, are prepared, and those whose result is not read
  go in one pipeline with the next query (_pg_cursor): 6 round trips per batch.
- Each elder's profile is read with its locked state row (PostgreSQL); engine configurations are shared by
  every elder with the same profile values and staff overrides. A gateway's token is hashed once per batch.
- The duplicate check and the insert run under a per-device lock (lock_devices), so two workers (or the two
  lanes) can never both find (device, event id) new and both store it. On PostgreSQL the event table is
  partitioned by month and its unique key is (device, event id, ts) (the partition key must be in it); this
  check is what keeps (device, event id) unique across months (docs/monitoring-ingest.md). The elders' state
  rows are locked only for the rules step, as in the old path, so bulk transactions hold them no longer.
Everything else (validation, quarantine, isolation of a failing event, alarms, NOTIFY) is shared with ingest.py.
"""
from __future__ import annotations

import datetime as dt
import hmac
import threading
import time
from collections import defaultdict
from contextlib import contextmanager

import orjson
import psycopg
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from carenet.devices.models import hash_token
from carenet.monitoring import alarms, engine
from carenet.monitoring.ingest import (MAX_BYTES, MAX_INT_DIGITS, PATHS, MAX_DEPTH, LAST_SEEN_RESOLUTION, IngestResult, RawMessage,
                                       _Batch, _store_isolating, _token_ok, decode_all, nesting_depth, parse_json, validate,
                                       write_quarantine)
from carenet.monitoring.state import declared_semantics, profile_config

# Cheap byte-level checks (a regex over the payload cost more than parsing it with orjson): the structure
# characters, with [{ as "(" and ]} as ")"; every digit as "0", anything else as a space.
_STRUCT = bytes(40 if b in b"[{" else 41 if b in b"]}" else b for b in range(256))
_NOT_STRUCT = bytes(b for b in range(256) if b not in b'[]{}"\\')
_DIGITS = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_LONG_RUN = b"0" * (MAX_INT_DIGITS + 1)


def nesting_depth_fast(payload: bytes, limit: int = MAX_DEPTH) -> int:
    """ingest.nesting_depth, exact for every payload orjson accepts, in C-speed byte operations: strings are
    cut out (when no escape can hide a quote; else the exact scan runs), then innermost bracket pairs are
    removed round by round; the rounds are the depth. Brackets that do not pair up (not JSON) also get the
    exact scan. A wrong answer can only be for invalid JSON, which parse_json (exact) then judges anyway."""
    skel = payload.translate(_STRUCT, _NOT_STRUCT)
    openers = skel.count(b"(")
    if openers <= limit:
        return openers  # cannot be deeper than the number of openers
    if b"\\" in skel:
        return nesting_depth(payload, limit)
    skel = skel.replace(b'""', b"")  # strings without brackets in them; those with brackets: split
    if b'"' in skel:
        skel = b"".join(skel.split(b'"')[::2])
    for rounds in range(limit + 1):
        if not skel:
            return rounds
        inner = skel.replace(b"()", b"")
        if len(inner) == len(skel):
            break
        skel = inner
    return nesting_depth(payload, limit)


def parse_json_fast(payload: bytes, max_bytes: int = MAX_BYTES):
    """orjson.loads under parse_json's limits; anything orjson refuses is handed to parse_json for its reason.
    A run of 19 digits (an integer orjson accepts and parse_json refuses, or a long fraction) also goes there."""
    if (len(payload) > max_bytes or nesting_depth_fast(payload) > MAX_DEPTH
            or _LONG_RUN in payload.translate(_DIGITS)):
        return parse_json(payload, max_bytes)
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return parse_json(payload, max_bytes)  # raises Rejection with the specific reason


class DeviceRow:
    """What ingest needs of a device (read as a tuple; attribute names as on Device, for validate())."""

    __slots__ = ("pk", "device_id", "type", "elder_id", "room", "role", "vendor_id", "token_hash", "last_seen",
                 "battery", "online", "semantics", "hold_s")
    FIELDS = ("id", "device_id", "type", "elder_id", "room", "role", "vendor_id", "token_hash", "last_seen",
              "battery", "online", "semantics", "hold_s")

    def __init__(self, values):
        (self.pk, self.device_id, self.type, self.elder_id, self.room, self.role, self.vendor_id, self.token_hash,
         self.last_seen, self.battery, self.online, self.semantics, self.hold_s) = values


def load_devices(refs: set[str]) -> dict[str, DeviceRow]:
    if not refs:
        return {}
    out: dict[str, DeviceRow] = {}
    select = f"SELECT {', '.join(DeviceRow.FIELDS)} FROM devices_device WHERE active AND device_id "
    if _pg():
        _forget_deferred()  # outside any transaction
        with _pg_cursor() as cur:
            rows = cur.execute(select + "= ANY(%b::varchar[])", [list(refs)], prepare=True).fetchall()
    else:
        with connection.cursor() as cur:
            refs_list, rows = list(refs), []
            for i in range(0, len(refs_list), 500):
                chunk = refs_list[i:i + 500]
                cur.execute(select + f"IN ({', '.join(['%s'] * len(chunk))})", chunk)
                rows += cur.fetchall()
    for r in rows:
        out[r[1]] = DeviceRow(r)
    return out


def ingest_fast(messages: list[RawMessage], *, now: float | None = None, accept_old: bool = False) -> IngestResult:
    """Store what is valid, quarantine the rest. Raises only when the database connection is lost."""
    return finish_fast(prepare_fast(messages, now=now, accept_old=accept_old))


def prepare_fast(messages: list[RawMessage], *, now: float | None = None, accept_old: bool = False) -> tuple:
    """Decode, read the devices and validate: no write, no transaction. The worker runs it for the next batch
    while the current one is being stored (the devices are read before the storing transaction either way)."""
    now = now or time.time()
    batch = _Batch()
    candidates = decode_all(messages, batch, parse_json_fast, fast=True)
    devices = load_devices({c.device_ref for c in candidates} | {c.via for c in candidates if c.via})
    return batch, validate(candidates, devices, now, accept_old, batch, token_ok=_TokenCheck())


def finish_fast(prepared: tuple) -> IngestResult:
    """Store what prepare_fast accepted, and the quarantine rows."""
    batch, accepted = prepared
    _store_isolating(accepted, batch, store=store_fast)
    write_quarantine(batch.quarantine)
    return batch.result


PATHS["fast"] = ingest_fast


class _TokenCheck:
    """ingest._token_ok, with each (signer, token) pair hashed once per batch: a gateway signs all its
    sensors' events with one token."""

    def __init__(self):
        self.memo: dict = {}

    def __call__(self, device, cand, devices) -> bool:
        if cand.msg.vendor is not None:
            return _token_ok(device, cand, devices)
        signer = device
        if cand.via is not None:  # relayed: the gateway signs, and must be in the same home
            signer = devices.get(cand.via)
            if signer is None or signer.type != "gateway" or signer.elder_id != device.elder_id:
                return False
        if cand.token is None:
            return False
        key = (signer.token_hash, cand.token)
        ok = self.memo.get(key)
        if ok is None:
            ok = self.memo[key] = hmac.compare_digest(signer.token_hash, hash_token(cand.token))
        return ok


def store_fast(items, part: _Batch) -> None:
    """One transaction. On PostgreSQL: the device locks go with the duplicate check, the contact update with the
    state rows' lock (one round trip each, _defer)."""
    _forget_deferred()
    lock_devices({d.pk for _, d in items})
    fresh = drop_duplicates(items, part)
    if not fresh:
        return
    received = timezone.now()
    write_events(fresh, received)
    part.result.accepted = len(fresh)
    part.result.outcomes += [(*c.index, "accepted", "", "") for c, _ in fresh]
    write_contacts(fresh, received)
    states = lock_states(sorted({d.elder_id for _, d in fresh}))  # as late as the old path: short lock holds
    run_rules(fresh, states, part.result)
    if part.result.alarm_ids:
        ids = list(part.result.alarm_ids)
        transaction.on_commit(lambda: alarms.notify(ids))


def _pg() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def _pg_cursor(pipeline: bool = True):
    """A psycopg cursor with server-side binding on Django's connection (same transaction), its errors turned
    into Django's (so a lost connection is still an OperationalError/InterfaceError for the worker). Django's own
    cursor binds client-side: it quotes every parameter into the SQL text in Python, and each array element
    through a regex. Here arrays go as binary (%b) and the statements, whose text never changes, are prepared.

    Statements deferred by _defer (no result read) are sent first, in one pipeline with what the caller runs
    (one round trip for all; the server still runs them in order, each with its own snapshot). pipeline=False
    (COPY cannot be pipelined): they are sent one by one first."""
    connection.ensure_connection()
    pending, _local.pending = getattr(_local, "pending", []), []
    conn = connection.connection
    with connection.wrap_database_errors, psycopg.Cursor(conn) as cur:
        if not pending:
            yield cur
            return
        with psycopg.Cursor(conn) as early:
            if not pipeline:
                for sql, params in pending:
                    early.execute(sql, params, prepare=True)
                yield cur
                return
            with conn.pipeline():
                for sql, params in pending:
                    early.execute(sql, params, prepare=True)
                yield cur


_local = threading.local()  # statements deferred on this thread's connection (Django's are per thread)


def _defer(sql: str, params: list) -> None:
    """A statement whose result nobody reads: sent with the next query of this transaction (_pg_cursor)."""
    _local.pending = getattr(_local, "pending", []) + [(sql, params)]


def _forget_deferred() -> None:
    """At the start of a transaction: nothing a rolled-back one deferred may reach the database."""
    _local.pending = []


def _json(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _loads(value):
    if value is None:
        return {}
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _aware(value):
    if value is None or isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = parse_datetime(value)
    return value.replace(tzinfo=dt.timezone.utc) if value is not None and value.tzinfo is None else value


def _db_time(value: dt.datetime | None):
    return value if value is None or _pg() else connection.ops.adapt_datetimefield_value(value)


DEVICE_LOCKS = 15_001  # advisory lock space (two-key form) of "this device's event ids are being stored"


def lock_devices(device_pks: set[int]) -> None:
    """Serialize the duplicate check and insert per device, in device-id order (PostgreSQL: transaction-scoped
    advisory locks; SQLite has one writer at a time anyway). Every transaction takes all its device locks before
    any state-row lock, so the two kinds never wait on each other in a cycle. An urgent SOS never waits here for
    a bulk batch of the same home's other sensors: the lock is the device's, not the elder's."""
    if not device_pks or not _pg():
        return
    _defer("SELECT count(pg_advisory_xact_lock(%s, (k %% 2147483647)::int)) "
           "FROM (SELECT unnest(%b::bigint[]) AS k ORDER BY 1) AS d", [DEVICE_LOCKS, sorted(device_pks)])


# ---- engine state rows ---------------------------------------------------------------------------------
def lock_states(elder_ids: list[int]) -> dict[int, list]:
    """Lock the elders' state rows in elder-id order (as state.load_states does); {elder: [state, overrides,
    profile]}. On PostgreSQL the profile (what the engine configuration is built from) is read fresh in the
    same statement; on SQLite by elder_profiles (cached for CONFIG_TTL_S)."""
    if not elder_ids:
        return {}
    if _pg():  # rows that do not exist yet are made (in elder-id order) and all are locked: one round trip
        _defer("INSERT INTO monitoring_monitorstate (elder_id, state, overrides, updated) SELECT e, '{}', '{}', %s "
               "FROM unnest(%b::bigint[]) AS e ORDER BY e ON CONFLICT DO NOTHING", [timezone.now(), elder_ids])
        with _pg_cursor() as cur:
            return dict(_select_states(cur, elder_ids))
    with connection.cursor() as cur:
        rows = dict(_select_states(cur, elder_ids))
        absent = [e for e in elder_ids if e not in rows]
        if absent:
            stamp = _db_time(timezone.now())
            cur.executemany("INSERT INTO monitoring_monitorstate (elder_id, state, overrides, updated) "
                            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", [(e, "{}", "{}", stamp) for e in absent])
            rows.update(_select_states(cur, absent))
    profiles = elder_profiles(list(rows))
    for elder_id, row in rows.items():
        row.append(profiles[elder_id])
    return rows


_PROFILE = ("care_level", "living", "dementia", "resident__lat", "resident__lon")


def _select_states(cur, elder_ids):
    if _pg():
        cur.execute("SELECT m.elder_id, m.state::text, m.overrides::text, p.care_level, p.living, p.dementia, "
                    "r.lat, r.lon FROM monitoring_monitorstate m JOIN people_elderprofile p ON p.id = m.elder_id "
                    "JOIN people_resident r ON r.id = p.resident_id WHERE m.elder_id = ANY(%b::bigint[]) "
                    "ORDER BY m.elder_id FOR UPDATE OF m", [elder_ids], prepare=True)
        return [(r[0], [_loads(r[1]), _loads(r[2]), dict(zip(_PROFILE, r[3:]))]) for r in cur.fetchall()]
    marks = ", ".join(["%s"] * len(elder_ids))
    cur.execute(f"SELECT elder_id, state, overrides FROM monitoring_monitorstate WHERE elder_id IN ({marks}) "
                f"ORDER BY elder_id", elder_ids)
    return [(e, [_loads(s), _loads(o)]) for e, s, o in cur.fetchall()]


def save_states(rows: list[tuple]) -> None:
    """rows: (elder id, state JSON text, next deadline, updated). One statement on PostgreSQL."""
    if not rows:
        return
    if _pg():
        elders, states, deadlines, stamps = zip(*rows)
        with _pg_cursor() as cur:
            cur.execute("UPDATE monitoring_monitorstate AS m SET state = v.state::jsonb, next_deadline = v.nd, "
                        "updated = %s FROM unnest(%b::bigint[], %b::text[], %b::timestamptz[]) AS v(elder_id, state, nd) "
                        "WHERE m.elder_id = v.elder_id", [stamps[0], list(elders), list(states), list(deadlines)],
                        prepare=True)
        return
    with connection.cursor() as cur:
        cur.executemany("UPDATE monitoring_monitorstate SET state = %s, next_deadline = %s, updated = %s "
                        "WHERE elder_id = %s", [(s, _db_time(nd), _db_time(up), e) for e, s, nd, up in rows])


# ---- events --------------------------------------------------------------------------------------------
def drop_duplicates(items, part: _Batch):
    """Events already stored (any month), or repeated within the batch, are duplicates: quarantined as such."""
    keys = [(d.pk, c.event_id) for c, d in items]
    seen: set = set()
    if _pg():
        devs, ids = zip(*keys)
        with _pg_cursor() as cur:
            seen.update(cur.execute("SELECT device_id, event_id FROM devices_deviceevent WHERE (device_id, event_id) IN "
                                    "(SELECT * FROM unnest(%b::bigint[], %b::varchar[]))", [list(devs), list(ids)],
                                    prepare=True).fetchall())
    else:
        with connection.cursor() as cur:
            pair_list = list(set(keys))
            for i in range(0, len(pair_list), 400):
                chunk = pair_list[i:i + 400]
                cur.execute("SELECT device_id, event_id FROM devices_deviceevent WHERE (device_id, event_id) IN "
                            f"(VALUES {', '.join(['(%s, %s)'] * len(chunk))})", [x for p in chunk for x in p])
                seen.update(cur.fetchall())
    fresh = []
    for key, item in zip(keys, items):
        if key in seen:
            cand, device = item
            part.result.duplicates += 1
            part.reject(cand.msg, "duplicate", f"event {cand.event_id} of {device.device_id} was already received",
                        device.device_id, cand.event_id, cand.index)
            continue
        seen.add(key)
        fresh.append(item)
    return fresh


EVENT_COLUMNS = "(device_id, event_id, kind, ts, received, value)"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """A field of COPY's text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def write_events(fresh, received: dt.datetime) -> None:
    utc = dt.timezone.utc
    if _pg():
        # One COPY buffer formatted here (psycopg's write_row per row cost more than the COPY itself).
        stamp = received.isoformat()
        times: dict[float, str] = {}
        lines = []
        for c, d in fresh:
            ts = times.get(c.ts)
            if ts is None:
                ts = times[c.ts] = dt.datetime.fromtimestamp(c.ts, utc).isoformat()
            lines.append(f"{d.pk}\t{_copy_text(c.event_id)}\t{c.kind}\t{ts}\t{stamp}\t{_copy_text(_json(c.value))}\n")
        with _pg_cursor(pipeline=False) as cur, cur.copy(f"COPY devices_deviceevent {EVENT_COLUMNS} FROM STDIN") as copy:
            copy.write("".join(lines).encode())
        return
    stamp = _db_time(received)
    rows = [(d.pk, c.event_id, c.kind, _db_time(dt.datetime.fromtimestamp(c.ts, utc)), stamp, _json(c.value))
            for c, d in fresh]
    with connection.cursor() as cur:
        for i in range(0, len(rows), 150):  # 900 parameters: under SQLite's oldest limit
            chunk = rows[i:i + 150]
            cur.execute(f"INSERT INTO devices_deviceevent {EVENT_COLUMNS} VALUES "
                        + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk)), [x for r in chunk for x in r])


def write_contacts(fresh, received: dt.datetime) -> None:
    """Last contact, battery and online state in one statement; a device's row at most once a minute."""
    latest: dict[int, tuple] = {}
    for cand, device in fresh:
        battery = cand.value.get("battery")
        battery = battery if isinstance(battery, (int, float)) and not isinstance(battery, bool) else None
        prev = latest.get(device.pk)
        latest[device.pk] = (device, battery if battery is not None else (prev[1] if prev else None))
    changed = []
    for device, battery in latest.values():
        battery = max(0, min(100, int(battery))) if battery is not None else device.battery
        last_seen = _aware(device.last_seen)
        stale = last_seen is None or received - last_seen >= LAST_SEEN_RESOLUTION
        if stale or not device.online or battery != device.battery:
            changed.append((device.pk, battery))
    if not changed:
        return
    if _pg():
        pks, batteries = zip(*changed)
        _defer("UPDATE devices_device AS d SET last_seen = %s, online = true, battery = v.battery "
               "FROM unnest(%b::bigint[], %b::smallint[]) AS v(id, battery) WHERE d.id = v.id",
               [received, list(pks), list(batteries)])
        return
    with connection.cursor() as cur:
        cur.executemany("UPDATE devices_device SET last_seen = %s, online = %s, battery = %s WHERE id = %s",
                        [(_db_time(received), True, b, pk) for pk, b in changed])


# ---- rules ---------------------------------------------------------------------------------------------
CONFIG_TTL_S = 30.0  # a staff change to an elder's profile reaches the rules within this (overrides at once)
_profiles: dict[int, tuple[float, dict]] = {}
_configs: dict[tuple, tuple[float, object]] = {}


def elder_profiles(elder_ids) -> dict[int, dict]:
    from carenet.people.models import ElderProfile

    now = time.monotonic()
    missing = [e for e in elder_ids if e not in _profiles or _profiles[e][0] < now]
    if missing:
        if len(_profiles) > 200_000:
            _profiles.clear()
            _configs.clear()
        for row in ElderProfile.objects.filter(pk__in=missing).values(
                "id", "care_level", "living", "dementia", "resident__lat", "resident__lon"):
            _profiles[row["id"]] = (now + CONFIG_TTL_S, row)
    return {e: _profiles[e][1] for e in elder_ids if e in _profiles}


def config_for_elder(elder_id: int, profile: dict, overrides: dict):
    """The engine configuration, shared by every elder with the same profile values and overrides (the rules
    never change a configuration)."""
    geo = (profile["resident__lat"], profile["resident__lon"]) if profile["dementia"] else None
    key = (profile["care_level"], profile["living"], profile["dementia"], geo, _json(overrides) if overrides else "")
    hit = _configs.get(key)
    if hit is None:
        if len(_configs) > 100_000:
            _configs.clear()
        hit = _configs[key] = (0.0, profile_config(profile, overrides))
    return hit[1]


def run_rules(fresh, states: dict[int, list], result: IngestResult) -> None:
    by_elder: dict[int, list] = defaultdict(list)
    for cand, device in fresh:
        by_elder[device.elder_id].append((cand, device))
    stamp = timezone.now()
    rows = []
    for elder_id, items in by_elder.items():
        stored, overrides, profile = states[elder_id]
        state = engine.ElderState.from_dict(stored) if stored else engine.ElderState(elder_id=elder_id)
        config = config_for_elder(elder_id, profile, overrides)
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
            result.signals.extend(out)
        deadline = engine.next_deadline(state, config)
        rows.append((elder_id, _json(state.to_dict()),
                     dt.datetime.fromtimestamp(deadline, dt.timezone.utc) if deadline else None, stamp))
    if result.signals:
        from carenet.people.models import ElderProfile

        elders = ElderProfile.objects.select_related("resident").in_bulk({s.elder_id for s in result.signals})
        result.alarm_ids.extend(alarms.apply_signals(result.signals, elders))
    save_states(rows)
