"""Alarm feed rows for live consoles: what changed since a point in time, limited to the user's area."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carenet.monitoring.models import Alarm


def alarm_row(a: Alarm) -> dict:
    r = a.elder.resident
    return {
        "id": a.pk, "type": a.type, "severity": a.severity, "status": a.status, "count": a.count,
        "message": a.message, "elder_id": a.elder_id, "name": r.name, "age": r.age, "sex": r.sex,
        "address": r.address, "area": a.division.label, "raised_at": a.raised_at.isoformat(),
        "raised_ts": a.raised_at.timestamp(), "condition_at": a.condition_at.isoformat(),
        "acknowledged_by": a.acknowledged_by.username if a.acknowledged_by_id else None,
        "acknowledged_ts": a.acknowledged_at.timestamp() if a.acknowledged_at else None,
        "escalation_level": a.escalation_level, "updated": a.updated.isoformat(),
        "active": a.is_active,
    }


# `updated` is stamped inside a transaction that may commit later than one stamped after it, so each read
# looks back this far behind the cursor; the consumer drops rows it has already sent unchanged.
OVERLAP = dt.timedelta(seconds=2)


def changed_since(user, since: dt.datetime | None, limit: int = 500) -> tuple[list[dict], dt.datetime]:
    qs = Alarm.objects.visible_to(user).select_related("elder__resident", "division__parent", "acknowledged_by")
    qs = qs.filter(held_until__isnull=True)  # held by a local responder (a facility console) until handed over
    if since is None:  # the snapshot: what is open now; changes are read from this moment on
        since = timezone.now()
        qs = qs.filter(status__in=Alarm.ACTIVE)
    else:
        qs = qs.filter(updated__gt=since - OVERLAP)
    rows = list(qs.order_by("updated")[:limit])
    return [alarm_row(a) for a in rows], max([since] + [a.updated for a in rows])


class SentFilter:
    """Remembers what a connection has sent, so the overlap window never repeats an unchanged row."""

    def __init__(self):
        self.sent: dict[int, str] = {}

    def fresh(self, rows: list[dict]) -> list[dict]:
        out = [r for r in rows if self.sent.get(r["id"]) != r["updated"]]
        for r in out:
            self.sent[r["id"]] = r["updated"]
        if len(self.sent) > 5000:  # closed alarms drop out of the window; forget the oldest half
            for key in list(self.sent)[:2500]:
                del self.sent[key]
        return out
