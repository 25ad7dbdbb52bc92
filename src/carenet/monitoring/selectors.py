"""Reads for the monitoring pages and the call-center console: is the elder away, registered or inferred?"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carenet.monitoring import engine
from carenet.monitoring.models import AwayRecord, MonitorState
from carenet.monitoring.state import config_for


def running_away(elder) -> AwayRecord | None:
    return (AwayRecord.objects.filter(elder=elder, ended_at__isnull=True, expected_return__gt=timezone.now()
                                      - dt.timedelta(days=2)).order_by("-starts_at").first())


def absence_status(elder) -> dict:
    """Why absence alarms may be quiet: a registered absence (外出报备) and/or an absence the engine inferred
    from the entrance door (left, nothing heard since)."""
    row = MonitorState.objects.filter(elder=elder).first()
    state = engine.ElderState.from_dict(row.state) if row and row.state else engine.ElderState(elder_id=elder.pk)
    config = config_for(elder, dict(row.overrides) if row else {})
    tz = timezone.get_current_timezone()
    inferred = dt.datetime.fromtimestamp(state.away_since, tz) if state.away_since else None
    pending = engine.deadlines(state, config)
    return {"registered": running_away(elder), "inferred_since": inferred,
            "overdue_check": (dt.datetime.fromtimestamp(pending["away_overdue"], tz)
                              if "away_overdue" in pending else None),
            "last_activity": dt.datetime.fromtimestamp(state.last_activity, tz) if state.last_activity else None}


def away_history(elder, limit: int = 10):
    return AwayRecord.objects.filter(elder=elder).select_related("recorded_by")[:limit]
