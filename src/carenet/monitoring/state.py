"""Engine state persistence: each elder's rules-engine state row (MonitorState), its lock order, its next
deadline, and the engine configuration for an elder. Used by ingest (events), timers (the clock) and
services (staff overrides); none of them imports another for this."""
from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

from carenet.monitoring import engine
from carenet.monitoring.models import MonitorState


def update_rows(model, fields: list[str], objs) -> None:
    """UPDATE many rows by primary key with one prepared statement (executemany; pipelined by psycopg 3).

    Django's bulk_update builds one CASE expression per field and row, which cost 0.9 s per 1,000 rows here.
    """
    if not objs:
        return
    meta = model._meta
    cols = [meta.get_field(f) for f in fields]
    pk = meta.pk
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        connection.ops.quote_name(meta.db_table),
        ", ".join(f"{connection.ops.quote_name(c.column)} = %s" for c in cols), connection.ops.quote_name(pk.column))
    params = [[c.get_db_prep_save(getattr(o, c.attname), connection) for c in cols] + [o.pk] for o in objs]
    with connection.cursor() as cur:
        cur.executemany(sql, params)


def load_states(elder_ids: list[int]) -> dict[int, MonitorState]:
    """Lock the elders' state rows, always in elder-id order, so the urgent and bulk lanes (or two workers)
    never wait on each other in a cycle."""
    rows = {s.elder_id: s for s in MonitorState.objects.select_for_update().filter(elder_id__in=elder_ids)
            .order_by("elder_id")}
    missing = [MonitorState(elder_id=e) for e in elder_ids if e not in rows]
    if missing:
        MonitorState.objects.bulk_create(missing, ignore_conflicts=True)
        rows |= {s.elder_id: s for s in MonitorState.objects.select_for_update().filter(
            elder_id__in=[m.elder_id for m in missing]).order_by("elder_id")}
    return rows


def set_state(row: MonitorState, state, config) -> MonitorState:
    """Put the engine state and its next deadline on the row (saved by the caller, in the same transaction)."""
    deadline = engine.next_deadline(state, config)
    row.state = state.to_dict()
    row.next_deadline = dt.datetime.fromtimestamp(deadline, dt.timezone.utc) if deadline else None
    row.updated = timezone.now()
    return row


CARE_LEVEL_FOR_ENGINE = {"intact": 0, "mild": 1, "moderate": 1, "severe": 2}
# Battery sensors (PIR, magnets) report every 30-60 min; offline after 3 missed (90 min), inside the
# national standard's 2-hour window for covering a fault.
HEARTBEAT_INTERVAL_S = 1800


def declared_semantics(device, value: dict) -> None:
    """Put a device's declared semantics (docs/device-protocol.md) into the event value for the engine."""
    if device.semantics and device.semantics != "state":
        value.setdefault("sem", device.semantics)
        if device.hold_s:
            value.setdefault("hold_s", device.hold_s)


def config_for(elder, overrides: dict | None):
    resident = elder.resident
    return profile_config({"care_level": elder.care_level, "living": elder.living, "dementia": elder.dementia,
                           "resident__lat": resident.lat, "resident__lon": resident.lon}, overrides)


def profile_config(elder: dict, overrides: dict | None):
    """The engine configuration from an elder's values (care_level, living, dementia, resident__lat/lon)."""
    profile = {
        "care_level": CARE_LEVEL_FOR_ENGINE.get(elder["care_level"], 0),
        "living_alone": elder["living"] == "alone",
        "dementia": elder["dementia"],
        "heartbeat_interval_s": HEARTBEAT_INTERVAL_S,
    }
    lat, lon = elder["resident__lat"], elder["resident__lon"]
    if elder["dementia"] and lat is not None and lon is not None:
        profile["geofence"] = {"lat": lat, "lon": lon, "radius_m": 500}
    return engine.config_from_profile(profile, overrides or None)
