"""Staff changes to monitoring: per-elder rule overrides. Atomic and audited."""
from __future__ import annotations

from django.db import transaction

from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.permissions import require, require_in_area
from carenet.monitoring import engine
from carenet.monitoring.state import config_for, load_states, set_state, update_rows
from carenet.monitoring.models import MonitorState

OVERRIDE_FIELDS = ["inactivity_day_h", "inactivity_night_h", "bathroom_overstay_min", "routine_check_h",
                   "night_out_of_bed_min", "learn_thresholds", "away_until"]


@transaction.atomic
def set_overrides(user, elder, overrides: dict) -> MonitorState:
    require(user, "devices.manage")
    require_in_area(user, elder.resident.division)
    clean = {k: v for k, v in overrides.items() if k in OVERRIDE_FIELDS and v not in (None, "")}
    config = config_for(elder, clean)  # raises ValueError/KeyError on values the engine refuses
    row = load_states([elder.pk])[elder.pk]
    before = dict(row.overrides)
    row.overrides = clean
    state = engine.ElderState.from_dict(row.state) if row.state else engine.ElderState(elder_id=elder.pk)
    set_state(row, state, config)  # the next deadline follows the new thresholds at once
    update_rows(MonitorState, ["overrides", "state", "next_deadline", "updated"], [row])
    audit.record(AuditLog.Action.UPDATE, elder, actor=user, model="monitoring.monitorstate", object_id=str(elder.pk),
                 before={"overrides": before}, after={"overrides": clean})
    return row
