"""The only place the call center writes. Each step is atomic, timestamped to the second and audited.

Alarm status changes go through monitoring.services (acknowledge = claim, dispatch, resolve), which record the
AlarmTransition and its own audit row; this module adds the call-center records around them (calls,
dispatches with arrival times, notes, online-service records) and tells families when an alarm closes.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.callcenter import notify
from carenet.callcenter.labels import DISPATCH_TARGETS
from carenet.callcenter.models import AlarmNote, CallLog, Dispatch, OnlineService
from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.permissions import require, require_in_area
from carenet.core.scoping import subtree_q
from carenet.monitoring import services as monitoring_services
from carenet.monitoring.models import Alarm
from carenet.people.models import ElderProfile, EmergencyContact

#: Closing codes that mean no real emergency: not counted as an emergency-rescue online service.
NOT_A_RESCUE = {"false_alarm", "test", "device_fault", "auto_cleared"}
#: A planned care call that was not answered this many times is recorded as not reached.
CARE_CALL_MAX_ATTEMPTS = 3


def now() -> dt.datetime:
    """Call-center times are kept to the second."""
    return timezone.now().replace(microsecond=0)


def _locked_alarm(user, alarm_id: int) -> Alarm:
    require(user, "callcenter.console")
    alarm = Alarm.objects.select_for_update().select_related("division", "elder__resident").get(pk=alarm_id)
    require_in_area(user, alarm.division)
    return alarm


def _require_owner(user, alarm: Alarm) -> None:
    """Only the operator who claimed an open alarm works it, so two people never handle the same alarm."""
    if not alarm.is_active:
        raise ValidationError(_("This alarm is closed."))
    if alarm.status == Alarm.Status.RAISED:
        raise ValidationError(_("Claim the alarm first."))
    if alarm.acknowledged_by_id != user.pk:
        who = alarm.acknowledged_by.username if alarm.acknowledged_by_id else "?"
        raise ValidationError(_("Operator %(who)s is handling this alarm.") % {"who": who})


def _audit_create(user, obj, alarm: Alarm, note: str = "") -> None:
    audit.record(AuditLog.Action.CREATE, obj, actor=user, after=audit.snapshot(obj), note=note,
                 division_path=alarm.division.path)


# ---- the alarm ------------------------------------------------------------------------------------
def claim(user, alarm_id: int) -> Alarm:
    """Take the alarm (= acknowledge). A second operator gets a ValidationError naming the first."""
    require(user, "callcenter.console")
    return monitoring_services.acknowledge(user, alarm_id)


@transaction.atomic
def log_call(user, alarm_id: int, callee: str, outcome: str, contact_id: int | None = None, note: str = "") -> CallLog:
    alarm = _locked_alarm(user, alarm_id)
    _require_owner(user, alarm)
    if callee not in CallLog.Callee.values or outcome not in CallLog.Outcome.values:
        raise ValidationError(_("Choose whom you called and the outcome."))
    call = CallLog(alarm=alarm, callee=callee, outcome=outcome, operator=user, note=note[:300], ts=now())
    r = alarm.elder.resident
    if callee == CallLog.Callee.ELDER:
        call.callee_name, call.phone = r.name, r.phone
    elif callee == CallLog.Callee.CONTACT:
        contact = EmergencyContact.objects.filter(pk=contact_id, elder_id=alarm.elder_id).first()
        if contact is None:
            raise ValidationError(_("Choose one of the elder's contacts."))
        call.contact, call.callee_name, call.phone, call.contact_order = contact, contact.name, contact.phone, contact.order
    elif callee == CallLog.Callee.DOCTOR:
        archive = getattr(alarm.elder, "health", None)
        call.callee_name = archive.family_doctor if archive else ""
        call.phone = archive.doctor_phone if archive else ""
    call.save()
    _audit_create(user, call, alarm)
    return call


@dataclasses.dataclass
class Prompt:
    """What the operator should do next about reaching people."""

    step: str                      # call_elder | call_contact | exhausted | reached
    contact: EmergencyContact | None = None
    tried: int = 0                 # contacts tried without answer


def next_contact(alarm: Alarm) -> Prompt:
    """Call the elder first; if the elder cannot be reached, the contacts in call order, skipping those
    already tried without answer, until somebody answers."""
    calls = list(alarm.calls.all())
    if any(c.reached for c in calls):
        return Prompt("reached")
    if not any(c.callee == CallLog.Callee.ELDER for c in calls):
        return Prompt("call_elder")
    tried = {c.contact_id for c in calls if c.callee == CallLog.Callee.CONTACT}
    contacts = list(EmergencyContact.objects.filter(elder_id=alarm.elder_id).order_by("order", "id"))
    for contact in contacts:
        if contact.pk not in tried:
            return Prompt("call_contact", contact, tried=len(tried))
    return Prompt("exhausted", tried=len(tried))


@transaction.atomic
def dispatch(user, alarm_id: int, target: str, responder: str = "", note: str = "") -> Dispatch:
    alarm = _locked_alarm(user, alarm_id)
    _require_owner(user, alarm)
    if target not in dict(DISPATCH_TARGETS):
        raise ValidationError(_("Unknown dispatch target."))
    monitoring_services.dispatch(user, alarm.pk, target, note=(responder + " " + note).strip())
    d = Dispatch.objects.create(alarm=alarm, target=target, responder=responder[:80], note=note[:300], operator=user,
                                dispatched_at=now())
    _audit_create(user, d, alarm)
    return d


@transaction.atomic
def mark_arrived(user, dispatch_id: int) -> Dispatch:
    d = Dispatch.objects.select_related("alarm").get(pk=dispatch_id)
    alarm = _locked_alarm(user, d.alarm_id)
    _require_owner(user, alarm)
    if d.arrived_at:
        raise ValidationError(_("Arrival is already recorded."))
    before = audit.snapshot(d)
    d.arrived_at = now()
    d.save(update_fields=["arrived_at"])
    audit.record(AuditLog.Action.UPDATE, d, actor=user, before=before, after=audit.snapshot(d),
                 division_path=alarm.division.path)
    return d


@transaction.atomic
def add_note(user, alarm_id: int, text: str) -> AlarmNote:
    alarm = _locked_alarm(user, alarm_id)
    if not alarm.is_active:
        raise ValidationError(_("This alarm is closed."))
    if alarm.acknowledged_by_id not in (None, user.pk):
        _require_owner(user, alarm)
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Write the note first."))
    n = AlarmNote.objects.create(alarm=alarm, author=user, text=text[:1000], ts=now())
    _audit_create(user, n, alarm)
    return n


# Life-safety alarms: closing one needs a logged call that reached someone (the elder or a contact), or a
# written reason why not, which the KPI page lists (reports.unverified_closures).
VERIFY_BY_CALL = {"sos", "fall"}


def verified_by_call(alarm: Alarm) -> bool:
    return alarm.calls.filter(outcome__in=CallLog.REACHED).exists()


@transaction.atomic
def close(user, alarm_id: int, closing_code: str, note: str = "", unverified_reason: str = "") -> Alarm:
    alarm = _locked_alarm(user, alarm_id)
    _require_owner(user, alarm)
    data = {}
    verified = alarm.type not in VERIFY_BY_CALL or verified_by_call(alarm)
    if not verified:
        reason = (unverified_reason or "").strip()
        if len(reason) < 4:
            raise ValidationError(_("An SOS or fall alarm is closed only after a call that reached the elder or a "
                                    "contact is logged. If no such call was possible, write why (at least 4 characters)."))
        data = {"unverified": True, "unverified_reason": reason[:300]}
    alarm = monitoring_services.resolve(user, alarm.pk, closing_code, note=note, data=data)
    if verified and closing_code not in NOT_A_RESCUE:
        first = alarm.calls.order_by("ts").first() if hasattr(alarm, "calls") else None
        svc = OnlineService.objects.create(
            elder=alarm.elder, division=alarm.division, kind=OnlineService.Kind.EMERGENCY,
            direction=OnlineService.Direction.INBOUND, status=OnlineService.Status.DONE,
            outcome=OnlineService.Outcome.ANSWERED, started_at=alarm.raised_at.replace(microsecond=0),
            duration_s=int((now() - alarm.raised_at).total_seconds()), operator=user, alarm=alarm,
            note=(note or (first.note if first else ""))[:500])
        _audit_create(user, svc, alarm)
    transaction.on_commit(lambda: notify.notify_alarm(alarm.pk))
    return alarm


def timeline(alarm: Alarm) -> list[dict]:
    """Every step of the alarm in order, to the second: transitions, calls, dispatches, notes, notifications."""
    steps = []
    for t in alarm.transitions.all():
        label = Alarm.Status(t.to_status).label if t.to_status in Alarm.Status.values else t.to_status
        if t.from_status == t.to_status and t.data.get("escalation_level"):
            label = _("Escalated (level %(n)s)") % {"n": t.data["escalation_level"]}
        steps.append({"ts": t.ts, "kind": "status", "who": t.actor_name, "status": label, "from": t.from_status,
                      "text": t.note, "data": t.data})
    for c in alarm.calls.select_related("operator"):
        steps.append({"ts": c.ts, "kind": "call", "who": c.operator.username, "obj": c})
    for d in alarm.dispatches.select_related("operator"):
        steps.append({"ts": d.dispatched_at, "kind": "dispatch", "who": d.operator.username, "obj": d})
        if d.arrived_at:
            steps.append({"ts": d.arrived_at, "kind": "arrived", "who": d.operator.username, "obj": d})
    for n in alarm.notes.select_related("author"):
        steps.append({"ts": n.ts, "kind": "note", "who": n.author.username, "obj": n})
    for m in alarm.notifications.all():
        steps.append({"ts": m.created, "kind": "notification", "who": "system", "obj": m})
    steps.sort(key=lambda s: s["ts"])
    return steps


# ---- online services --------------------------------------------------------------------------------
@transaction.atomic
def schedule_care_calls(today: dt.date | None = None, period_days: int = 7, division=None, actor=None) -> int:
    """Plan a proactive care call (主动关怀) for every living key elder who has had none within the period
    and has none open. Returns the number planned. Run weekly or daily (it never plans twice)."""
    today = today or timezone.localdate()
    window = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=period_days - 1), dt.time.min))
    elders = ElderProfile.objects.filter(key_elder=True, resident__deceased_on__isnull=True).select_related("resident")
    if division is not None:
        elders = elders.filter(subtree_q(division.path, "resident__division__path"))
    care = OnlineService.objects.filter(kind=OnlineService.Kind.CARE_CALL)
    busy = set(care.filter(status=OnlineService.Status.PLANNED).values_list("elder_id", flat=True))
    busy |= set(care.filter(started_at__gte=window).values_list("elder_id", flat=True))
    new = [OnlineService(elder=e, division_id=e.resident.division_id, kind=OnlineService.Kind.CARE_CALL,
                         direction=OnlineService.Direction.OUTBOUND, status=OnlineService.Status.PLANNED, due_date=today)
           for e in elders if e.pk not in busy]
    OnlineService.objects.bulk_create(new, batch_size=500)
    if new:
        audit.record(AuditLog.Action.CREATE, actor=actor, model="callcenter.onlineservice",
                     object_repr=f"{today.isoformat()} 计划关怀电话 {len(new)} 个",
                     division_path=division.path if division is not None else "", note="schedule_care_calls")
    return len(new)


@transaction.atomic
def record_care_call(user, service_id: int, outcome: str, note: str = "", duration_s: int | None = None) -> OnlineService:
    require(user, "callcenter.services")
    svc = OnlineService.objects.select_for_update().select_related("division").get(pk=service_id)
    require_in_area(user, svc.division)
    if svc.kind != OnlineService.Kind.CARE_CALL or svc.status != OnlineService.Status.PLANNED:
        raise ValidationError(_("This care call is not open."))
    if outcome not in (OnlineService.Outcome.WELL, OnlineService.Outcome.FOLLOW_UP, OnlineService.Outcome.NO_ANSWER):
        raise ValidationError(_("Choose the outcome of the call."))
    before = audit.snapshot(svc)
    svc.attempts += 1
    svc.outcome, svc.operator, svc.started_at = outcome, user, now()
    svc.duration_s = duration_s
    svc.note = (note or "")[:500]
    if outcome == OnlineService.Outcome.NO_ANSWER:
        if svc.attempts >= CARE_CALL_MAX_ATTEMPTS:
            svc.status = OnlineService.Status.MISSED
        else:
            svc.due_date = timezone.localdate() + dt.timedelta(days=1)  # try again tomorrow
    else:
        svc.status = OnlineService.Status.DONE
    svc.save()
    audit.record(AuditLog.Action.UPDATE, svc, actor=user, before=before, after=audit.snapshot(svc),
                 division_path=svc.division.path)
    return svc


@transaction.atomic
def log_inbound(user, kind: str, *, elder: ElderProfile | None = None, caller_name: str = "", caller_phone: str = "",
                outcome: str = OnlineService.Outcome.ANSWERED, note: str = "", duration_s: int | None = None) -> OnlineService:
    """An inbound call for information or psychological comfort, logged as an online service record."""
    require(user, "callcenter.services")
    if kind not in (OnlineService.Kind.INFORMATION, OnlineService.Kind.COMFORT, OnlineService.Kind.OTHER):
        raise ValidationError(_("Choose the kind of service."))
    if elder is not None:
        division = elder.resident.division
        require_in_area(user, division)
    else:
        if not (caller_name or caller_phone):
            raise ValidationError(_("Choose an elder or give the caller's name or phone."))
        division = user.division
        if division is None:
            raise ValidationError(_("Your account has no area."))
    svc = OnlineService.objects.create(
        elder=elder, division=division, kind=kind, direction=OnlineService.Direction.INBOUND,
        status=OnlineService.Status.DONE, outcome=outcome, caller_name=caller_name[:50], caller_phone=caller_phone[:20],
        started_at=now(), duration_s=duration_s, operator=user, note=note[:500])
    audit.record(AuditLog.Action.CREATE, svc, actor=user, after=audit.snapshot(svc), division_path=division.path)
    return svc
