"""Timer rules: elders whose engine deadline has come are ticked. The deadline lives in the database
(MonitorState.next_deadline, indexed), so any worker can pick up the work after a restart."""
from __future__ import annotations

import datetime as dt
import time

from django.db import transaction

from carenet.monitoring import alarms, engine
from carenet.monitoring.state import config_for, set_state, update_rows
from carenet.monitoring.models import MonitorState


def run_tick() -> int:
    """Everything that happens on the clock: due timer rules, escalations, then the hooks other apps register
    in settings.CARENET_TICK_HOOKS (dotted paths, e.g. the call center's family notices). Returns alarms changed."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    changed = tick_due()
    alarms.escalate_unacknowledged()
    for path in getattr(settings, "CARENET_TICK_HOOKS", []):
        import_string(path)()
    return changed


def tick_due(now: float | None = None, limit: int = 2000) -> int:
    """Tick every elder whose next deadline is at or before `now`. Returns the number of alarms changed."""
    now = now or time.time()
    changed: list[int] = []
    with transaction.atomic():
        rows = list(MonitorState.objects.select_for_update(skip_locked=True)
                    .filter(next_deadline__lte=dt.datetime.fromtimestamp(now, dt.timezone.utc))
                    .select_related("elder__resident").order_by("next_deadline")[:limit])
        signals = []
        for row in rows:
            state = engine.ElderState.from_dict(row.state) if row.state else engine.ElderState(elder_id=row.elder_id)
            config = config_for(row.elder, row.overrides)
            state, out = engine.tick(state, config, now)
            set_state(row, state, config)
            signals.extend(out)
        if signals:
            changed.extend(alarms.apply_signals(signals, {row.elder_id: row.elder for row in rows}))
        update_rows(MonitorState, ["state", "next_deadline", "updated"], rows)
        if changed:
            ids = list(changed)
            transaction.on_commit(lambda: alarms.notify(ids))
    return len(changed)
