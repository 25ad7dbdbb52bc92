"""The audit trail. Every write of people data and every sensitive read goes through `record`."""
from __future__ import annotations

import datetime as dt
import decimal
from contextvars import ContextVar

from django.db import models

from carenet.core.models import AuditLog

current_request: ContextVar = ContextVar("carenet_request", default=None)

# Fields never copied into the audit log: ciphertexts and keyed hashes.
SECRET_FIELD_SUFFIXES = ("_enc", "_hash", "password")
# Timestamps that change on every save say nothing about what the user changed.
AUTO_FIELDS = {"updated", "created"}


def _jsonable(value):
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model) -> dict:
    """The audit-safe field values of a model instance."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name.endswith(SECRET_FIELD_SUFFIXES):
            continue
        data[field.attname] = _jsonable(getattr(obj, field.attname))
    return data


def diff(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Keep only the fields that changed, so updates read clearly."""
    if not before or not after:
        return before, after
    changed = [k for k in after if k not in AUTO_FIELDS and before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def record(action: str, obj: models.Model | None = None, *, actor=None, before=None, after=None,
           note: str = "", model: str = "", object_id: str = "", object_repr: str = "",
           division_path: str = "") -> AuditLog:
    request = current_request.get()
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    if obj is not None:
        model = model or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        division_path = division_path or _division_path_of(obj)
    if action == AuditLog.Action.UPDATE:
        before, after = diff(before, after)
    return AuditLog.objects.create(
        actor=actor, actor_name=getattr(actor, "username", "") or "", action=action, model=model,
        object_id=object_id, object_repr=object_repr, division_path=division_path,
        before=before, after=after, note=note[:300],
        ip=(request.META.get("REMOTE_ADDR") if request is not None else None) or None,
    )


def _division_path_of(obj) -> str:
    division = getattr(obj, "division", None)
    if division is None and hasattr(obj, "resident"):
        division = getattr(obj.resident, "division", None)
    if division is None and hasattr(obj, "elder"):
        division = getattr(obj.elder.resident, "division", None)
    return getattr(division, "path", "") or ""


def record_many(action: str, objs, *, actor, after=None, note: str = "", repr_of=None) -> int:
    """One audit row per object, written in one INSERT: for bulk writes (imports), where record() per object
    would cost a round trip each. `after(obj)` gives the row's after-state (default: the object's snapshot);
    `repr_of(obj)` its description (default str(obj): give one when __str__ queries the database)."""
    request = current_request.get()
    ip = (request.META.get("REMOTE_ADDR") if request is not None else None) or None
    rows = [AuditLog(actor=actor, actor_name=getattr(actor, "username", "") or "", action=action,
                     model=obj._meta.label_lower, object_id=str(obj.pk),
                     object_repr=(repr_of(obj) if repr_of else str(obj))[:200], division_path=_division_path_of(obj),
                     before=None, after=after(obj) if after else snapshot(obj), note=note[:300], ip=ip)
            for obj in objs]
    _insert(rows)
    return len(rows)


COPY_COLUMNS = ("ts", "actor_id", "actor_name", "action", "model", "object_id", "object_repr", "division_path",
                "before", "after", "ip", "note")


def _insert(rows: list[AuditLog]) -> None:
    """COPY on PostgreSQL (most of a bulk import's write time is its audit rows), bulk_create elsewhere."""
    from django.db import connection

    if connection.vendor != "postgresql":
        AuditLog.objects.bulk_create(rows, batch_size=1000)
        return
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    def js(value):
        return None if value is None else json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)

    table = AuditLog._meta.db_table
    with connection.cursor() as cur:
        with cur.connection.cursor().copy(f'COPY "{table}" ({", ".join(COPY_COLUMNS)}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row((r.ts, r.actor_id, r.actor_name, r.action, r.model, r.object_id, r.object_repr,
                                r.division_path, js(r.before), js(r.after), r.ip, r.note))
