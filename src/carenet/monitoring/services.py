"""Staff changes to monitoring: the alarm actions (acknowledge, dispatch, resolve) and per-elder rule overrides.
Each is atomic and audited; live consoles are woken after the commit."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.permissions import require, require_in_area
from carenet.monitoring import engine
from carenet.monitoring.alarms import CLOSING_CODES, DISPATCH_TARGETS, notify, record_transition
from carenet.monitoring.models import Alarm, AwayRecord, MonitorState
from carenet.monitoring.state import config_for, load_states, set_state, update_rows

OVERRIDE_FIELDS = ["inactivity_day_h", "inactivity_night_h", "bathroom_overstay_min", "routine_check_h",
                   "night_out_of_bed_min", "learn_thresholds", "quiet_factor", "pets"]
AWAY_FIELDS = ("away_from", "away_until")   # written by register_away / end_away only
MAX_AWAY = dt.timedelta(days=120)


@transaction.atomic
def set_overrides(user, elder, overrides: dict) -> MonitorState:
    require(user, "devices.manage")
    require_in_area(user, elder.resident.division)
    clean = {k: v for k, v in overrides.items() if k in OVERRIDE_FIELDS and v not in (None, "")}
    config = config_for(elder, clean)  # raises ValueError/KeyError on values the engine refuses
    row = load_states([elder.pk])[elder.pk]
    before = dict(row.overrides)
    clean |= {k: v for k, v in before.items() if k in AWAY_FIELDS}   # a registered absence stays
    config = config_for(elder, clean)
    row.overrides = clean
    state = engine.ElderState.from_dict(row.state) if row.state else engine.ElderState(elder_id=elder.pk)
    set_state(row, state, config)  # the next deadline follows the new thresholds at once
    update_rows(MonitorState, ["overrides", "state", "next_deadline", "updated"], [row])
    audit.record(AuditLog.Action.UPDATE, elder, actor=user, model="monitoring.monitorstate", object_id=str(elder.pk),
                 before={"overrides": before}, after={"overrides": clean})
    return row


# ---- registered absences (外出报备) ------------------------------------------------------------------
def _apply_away(user, elder, away: dict | None) -> None:
    """Put the running absence (or none) into the elder's engine overrides and reschedule the next deadline."""
    row = load_states([elder.pk])[elder.pk]
    overrides = {k: v for k, v in row.overrides.items() if k not in AWAY_FIELDS} | (away or {})
    config = config_for(elder, overrides)
    row.overrides = overrides
    state = engine.ElderState.from_dict(row.state) if row.state else engine.ElderState(elder_id=elder.pk)
    set_state(row, state, config)
    update_rows(MonitorState, ["overrides", "state", "next_deadline", "updated"], [row])


@transaction.atomic
def register_away(user, elder, *, starts_at, expected_return, reason: str, reporter: str, reporter_name: str = "",
                  note: str = "") -> AwayRecord:
    require(user, "monitoring.away")
    require_in_area(user, elder.resident.division)
    if expected_return <= starts_at:
        raise ValidationError(_("The expected return must be after the start of the absence."))
    if expected_return - starts_at > MAX_AWAY:
        raise ValidationError(_("An absence can be registered for at most 120 days; register it again later."))
    if expected_return <= timezone.now():
        raise ValidationError(_("The expected return is already past."))
    if reason not in AwayRecord.Reason.values or reporter not in AwayRecord.Reporter.values:
        raise ValidationError(_("Choose a reason and who reported the absence."))
    running = AwayRecord.objects.filter(elder=elder, ended_at__isnull=True, expected_return__gt=timezone.now())
    for old in running:                      # one absence at a time: the new registration replaces it
        old.ended_at = timezone.now()
        old.save(update_fields=["ended_at"])
    rec = AwayRecord.objects.create(elder=elder, starts_at=starts_at, expected_return=expected_return, reason=reason,
                                    reporter=reporter, reporter_name=reporter_name[:50], note=note[:200],
                                    recorded_by=user)
    _apply_away(user, elder, {"away_from": starts_at.timestamp(), "away_until": expected_return.timestamp()})
    audit.record(AuditLog.Action.CREATE, rec, actor=user, after=audit.snapshot(rec),
                 division_path=elder.resident.division.path)
    return rec


@transaction.atomic
def end_away(user, record_id: int) -> AwayRecord:
    """The elder is back (or the trip was cancelled): the absence rules apply again at once."""
    rec = AwayRecord.objects.select_for_update().select_related("elder__resident__division").get(pk=record_id)
    require(user, "monitoring.away")
    require_in_area(user, rec.elder.resident.division)
    if rec.ended_at is not None:
        raise ValidationError(_("This absence has already ended."))
    rec.ended_at = timezone.now()
    rec.save(update_fields=["ended_at"])
    _apply_away(user, rec.elder, None)
    audit.record(AuditLog.Action.UPDATE, rec, actor=user, after={"ended_at": rec.ended_at.isoformat()},
                 division_path=rec.elder.resident.division.path)
    return rec


# ---- the staff alarm actions ------------------------------------------------------------------------
def _locked(alarm_id: int) -> Alarm:
    return Alarm.objects.select_for_update().select_related("division").get(pk=alarm_id)


def _may_handle(user, alarm: Alarm, allow=None) -> None:
    """`allow(user, alarm)`: another app's rule for a local responder (e.g. a facility's staff for its rooms)."""
    if allow is not None and allow(user, alarm):
        return
    require(user, "alarms.handle")
    require_in_area(user, alarm.division)


@transaction.atomic
def acknowledge(user, alarm_id: int, note: str = "", *, allow=None) -> Alarm:
    alarm = _locked(alarm_id)
    _may_handle(user, alarm, allow)
    if alarm.status != Alarm.Status.RAISED:
        who = alarm.acknowledged_by.username if alarm.acknowledged_by else "?"
        raise ValidationError(_("This alarm is already %(status)s (by %(who)s).") % {"status": alarm.get_status_display(), "who": who})
    record_transition(alarm, Alarm.Status.ACKNOWLEDGED, actor=user, note=note)
    alarm.status, alarm.acknowledged_at, alarm.acknowledged_by = Alarm.Status.ACKNOWLEDGED, timezone.now(), user
    alarm.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "updated"])
    audit.record(AuditLog.Action.UPDATE, alarm, actor=user, after={"status": alarm.status}, division_path=alarm.division.path)
    transaction.on_commit(lambda: notify([alarm.pk]))
    return alarm


@transaction.atomic
def dispatch(user, alarm_id: int, target: str, note: str = "") -> Alarm:
    alarm = _locked(alarm_id)
    require(user, "alarms.handle")
    require_in_area(user, alarm.division)
    if target not in dict(DISPATCH_TARGETS):
        raise ValidationError(_("Unknown dispatch target."))
    if alarm.status == Alarm.Status.RAISED:
        raise ValidationError(_("Acknowledge the alarm before dispatching help."))
    if alarm.status not in (Alarm.Status.ACKNOWLEDGED, Alarm.Status.DISPATCHED):
        raise ValidationError(_("This alarm is closed."))
    record_transition(alarm, Alarm.Status.DISPATCHED, actor=user, note=note, data={"target": target})
    alarm.status = Alarm.Status.DISPATCHED
    alarm.dispatched_at = alarm.dispatched_at or timezone.now()
    alarm.save(update_fields=["status", "dispatched_at", "updated"])
    audit.record(AuditLog.Action.UPDATE, alarm, actor=user, after={"status": alarm.status, "dispatch": target},
                 division_path=alarm.division.path)
    transaction.on_commit(lambda: notify([alarm.pk]))
    return alarm


@transaction.atomic
def resolve(user, alarm_id: int, closing_code: str, note: str = "", *, allow=None, data: dict | None = None) -> Alarm:
    alarm = _locked(alarm_id)
    _may_handle(user, alarm, allow)
    if closing_code not in dict(CLOSING_CODES):
        raise ValidationError(_("Choose a closing code."))
    if not alarm.is_active:
        raise ValidationError(_("This alarm is closed."))
    if alarm.status == Alarm.Status.RAISED:
        raise ValidationError(_("Acknowledge the alarm before closing it."))
    record_transition(alarm, Alarm.Status.RESOLVED, actor=user, note=note, data={"closing_code": closing_code, **(data or {})})
    alarm.status, alarm.closed_at, alarm.closed_by, alarm.closing_code = Alarm.Status.RESOLVED, timezone.now(), user, closing_code
    alarm.save(update_fields=["status", "closed_at", "closed_by", "closing_code", "updated"])
    audit.record(AuditLog.Action.UPDATE, alarm, actor=user, after={"status": alarm.status, "closing_code": closing_code},
                 division_path=alarm.division.path)
    transaction.on_commit(lambda: notify([alarm.pk]))
    return alarm
