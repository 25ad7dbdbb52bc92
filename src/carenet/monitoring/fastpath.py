"""The fast ingest path (issue 15): the same decisions as ingest.ingest_old, with less work per event.

What is different, and why (the profile of the old path is in docs/monitoring-ingest.md):
- JSON is parsed once, by orjson. The limits are the same: size and nesting depth are checked on the bytes
  first; orjson refuses NaN/Infinity, invalid UTF-8, lone surrogates and numbers out of range by itself. Any
  message orjson refuses, or one with a 19-digit run (an integer orjson would accept but we refuse), is parsed
  again by the bounded stdlib parser, so the quarantine reason and detail are exactly the old ones.
- No ORM object per event or per device: devices are read as tuples, events are written by COPY on PostgreSQL
  (a multi-row INSERT on SQLite), the engine states are read and written as JSON text (one UPDATE ... FROM
  VALUES on PostgreSQL), and the device last-contact writes of a batch are one statement, at most one per
  device and minute (coalesced: the stored contact is rewritten only when it is a minute old or the battery or
  online state changed).
- Each elder's engine configuration is cached for CONFIG_TTL_S, keyed by its staff overrides.
- The duplicate check and the insert run under a per-device lock (lock_devices), so two workers (or the two
  lanes) can never both find (device, event id) new and both store it. On PostgreSQL the event table is
  partitioned by month and its unique key is (device, event id, ts) (the partition key must be in it); this
  check is what keeps (device, event id) unique across months (docs/monitoring-ingest.md). The elders' state
  rows are locked only for the rules step, as in the old path, so bulk transactions hold them no longer.
Everything else (validation, quarantine, isolation of a failing event, alarms, NOTIFY) is shared with ingest.py.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from collections import defaultdict

import orjson
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from carenet.monitoring import alarms, engine
from carenet.monitoring.ingest import (MAX_BYTES, PATHS, MAX_DEPTH, LAST_SEEN_RESOLUTION, IngestResult, RawMessage,
                                       _Batch, _store_isolating, decode_all, nesting_depth, parse_json, validate,
                                       write_quarantine)
from carenet.monitoring.state import declared_semantics, profile_config

_LONG_DIGITS = re.compile(rb"\d{19}")


def parse_json_fast(payload: bytes, max_bytes: int = MAX_BYTES):
    """orjson.loads under parse_json's limits; anything orjson refuses is handed to parse_json for its reason."""
    if len(payload) > max_bytes or nesting_depth(payload) > MAX_DEPTH or _LONG_DIGITS.search(payload):
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
        for name, value in zip(self.__slots__, values):
            setattr(self, name, value)


def load_devices(refs: set[str]) -> dict[str, DeviceRow]:
    if not refs:
        return {}
    out: dict[str, DeviceRow] = {}
    select = f"SELECT {', '.join(DeviceRow.FIELDS)} FROM devices_device WHERE active AND device_id "
    with connection.cursor() as cur:
        if _pg():
            cur.execute(select + "= ANY(%s)", [list(refs)])
            rows = cur.fetchall()
        else:
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
    now = now or time.time()
    batch = _Batch()
    candidates = decode_all(messages, batch, parse_json_fast, fast=True)
    devices = load_devices({c.device_ref for c in candidates} | {c.via for c in candidates if c.via})
    accepted = validate(candidates, devices, now, accept_old, batch)
    _store_isolating(accepted, batch, store=store_fast)
    write_quarantine(batch.quarantine)
    return batch.result


PATHS["fast"] = ingest_fast


def store_fast(items, part: _Batch) -> None:
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
    with connection.cursor() as cur:
        cur.execute("SELECT count(pg_advisory_xact_lock(%s, (k %% 2147483647)::int)) "
                    "FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS d", [DEVICE_LOCKS, sorted(device_pks)])


# ---- engine state rows ---------------------------------------------------------------------------------
def lock_states(elder_ids: list[int]) -> dict[int, list]:
    """Lock the elders' state rows in elder-id order (as state.load_states does); {elder: [state, overrides]}."""
    if not elder_ids:
        return {}
    with connection.cursor() as cur:
        rows = dict(_select_states(cur, elder_ids))
        absent = [e for e in elder_ids if e not in rows]
        if absent:
            stamp = _db_time(timezone.now())
            cur.executemany("INSERT INTO monitoring_monitorstate (elder_id, state, overrides, updated) "
                            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", [(e, "{}", "{}", stamp) for e in absent])
            rows.update(_select_states(cur, absent))
    return rows


def _select_states(cur, elder_ids):
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    marks = ", ".join(["%s"] * len(elder_ids))
    cur.execute(f"SELECT elder_id, state, overrides FROM monitoring_monitorstate WHERE elder_id IN ({marks}) "
                f"ORDER BY elder_id{lock}", elder_ids)
    return [(e, [_loads(s), _loads(o)]) for e, s, o in cur.fetchall()]


def save_states(rows: list[tuple]) -> None:
    """rows: (elder id, state JSON text, next deadline, updated). One statement on PostgreSQL."""
    if not rows:
        return
    with connection.cursor() as cur:
        if _pg():
            values = ", ".join(["(%s::bigint, %s::jsonb, %s::timestamptz, %s::timestamptz)"] * len(rows))
            cur.execute("UPDATE monitoring_monitorstate AS m SET state = v.state, next_deadline = v.nd, updated = v.up "
                        f"FROM (VALUES {values}) AS v(elder_id, state, nd, up) WHERE m.elder_id = v.elder_id",
                        [x for r in rows for x in r])
        else:
            cur.executemany("UPDATE monitoring_monitorstate SET state = %s, next_deadline = %s, updated = %s "
                            "WHERE elder_id = %s", [(s, _db_time(nd), _db_time(up), e) for e, s, nd, up in rows])


# ---- events --------------------------------------------------------------------------------------------
def drop_duplicates(items, part: _Batch):
    """Events already stored (any month), or repeated within the batch, are duplicates: quarantined as such."""
    pairs = {(d.pk, c.event_id) for c, d in items}
    seen: set = set()
    with connection.cursor() as cur:
        if _pg():
            devs, ids = zip(*pairs)
            cur.execute("SELECT device_id, event_id FROM devices_deviceevent WHERE (device_id, event_id) IN "
                        "(SELECT * FROM unnest(%s::bigint[], %s::varchar[]))", [list(devs), list(ids)])
            seen.update(cur.fetchall())
        else:
            pair_list = list(pairs)
            for i in range(0, len(pair_list), 400):
                chunk = pair_list[i:i + 400]
                cur.execute("SELECT device_id, event_id FROM devices_deviceevent WHERE (device_id, event_id) IN "
                            f"(VALUES {', '.join(['(%s, %s)'] * len(chunk))})", [x for p in chunk for x in p])
                seen.update(cur.fetchall())
    fresh = []
    for cand, device in items:
        key = (device.pk, cand.event_id)
        if key in seen:
            part.result.duplicates += 1
            part.reject(cand.msg, "duplicate", f"event {cand.event_id} of {device.device_id} was already received",
                        device.device_id, cand.event_id, cand.index)
            continue
        seen.add(key)
        fresh.append((cand, device))
    return fresh


EVENT_COLUMNS = "(device_id, event_id, kind, ts, received, value)"


def write_events(fresh, received: dt.datetime) -> None:
    utc = dt.timezone.utc
    if _pg():
        with connection.cursor() as cur:
            with cur.cursor.copy(f"COPY devices_deviceevent {EVENT_COLUMNS} FROM STDIN") as copy:
                for c, d in fresh:
                    copy.write_row((d.pk, c.event_id, c.kind, dt.datetime.fromtimestamp(c.ts, utc), received,
                                    _json(c.value)))
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
    with connection.cursor() as cur:
        if _pg():
            values = ", ".join(["(%s::bigint, %s::smallint)"] * len(changed))
            cur.execute("UPDATE devices_device AS d SET last_seen = %s, online = true, battery = v.battery "
                        f"FROM (VALUES {values}) AS v(id, battery) WHERE d.id = v.id",
                        [received] + [x for r in changed for x in r])
        else:
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
    profiles = elder_profiles(list(by_elder))
    stamp = timezone.now()
    rows = []
    for elder_id, items in by_elder.items():
        stored, overrides = states[elder_id]
        state = engine.ElderState.from_dict(stored) if stored else engine.ElderState(elder_id=elder_id)
        config = config_for_elder(elder_id, profiles[elder_id], overrides)
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
