"""Alarm feed rows for live consoles: what changed since a point in time, limited to the user's area."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carenet.core.scoping import visible_to
from carenet.monitoring.models import Alarm


def alarm_row(a: Alarm) -> dict:
    r = a.elder.resident
    return {
        "id": a.pk, "type": a.type, "severity": a.severity, "status": a.status, "count": a.count,
        "message": a.message, "elder_id": a.elder_id, "name": r.name, "age": r.age, "sex": r.sex,
        "address": r.address, "area": a.division.name, "raised_at": a.raised_at.isoformat(),
        "raised_ts": a.raised_at.timestamp(), "condition_at": a.condition_at.isoformat(),
        "acknowledged_by": a.acknowledged_by.username if a.acknowledged_by_id else None,
        "escalation_level": a.escalation_level, "updated": a.updated.isoformat(),
        "active": a.is_active,
    }


def changed_since(user, since: dt.datetime | None, limit: int = 200) -> tuple[list[dict], dt.datetime]:
    qs = visible_to(user, Alarm.objects.select_related("elder__resident", "division", "acknowledged_by"))
    if since is None:
        qs = qs.filter(status__in=Alarm.ACTIVE)
    else:
        qs = qs.filter(updated__gt=since)
    rows = list(qs.order_by("updated")[:limit])
    cursor = rows[-1].updated if rows else (since or timezone.now())
    return [alarm_row(a) for a in rows], cursor
