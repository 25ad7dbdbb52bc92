"""Alarm lifecycle: engine signals become alarm rows; the ticker escalates alarms nobody acknowledged. Every
transition is recorded. The staff actions (acknowledge, dispatch, resolve) are in monitoring/services.py."""
from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carenet.devices.models import Device
from carenet.monitoring.models import Alarm, AlarmTransition

log = logging.getLogger(__name__)

ESCALATE_AFTER_S = getattr(settings, "ALARM_ESCALATE_AFTER_S", 60)
ESCALATE_AGAIN_AFTER_S = getattr(settings, "ALARM_ESCALATE_AGAIN_AFTER_S", 180)

CLOSING_CODES = [
    ("false_alarm", _("False alarm")),
    ("elder_fine", _("Elder answered and is fine")),
    ("assistance_given", _("Assistance given on site")),
    ("ambulance", _("Ambulance (120) sent")),
    ("family_handled", _("Family handled it")),
    ("device_fault", _("Device fault")),
    ("test", _("Test")),
    ("other", _("Other")),
]
DISPATCH_TARGETS = [
    ("ambulance", _("120 ambulance")),
    ("helper", _("Helper")),
    ("family", _("Family member")),
    ("community", _("Community worker")),
    ("police", _("110 police")),
    ("fire", _("119 fire service")),
]


def _dt(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc)


def record_transition(alarm: Alarm, to_status: str, *, actor=None, note: str = "", data=None, from_status=None,
                      ts: dt.datetime | None = None) -> None:
    AlarmTransition.objects.create(alarm=alarm, from_status=alarm.status if from_status is None else from_status,
                                   to_status=to_status, actor=actor, actor_name=getattr(actor, "username", "system"),
                                   note=note[:300], data=data or {}, ts=ts or timezone.now())


def apply_signals(signals, elders: dict) -> list[int]:
    """Apply engine signals for elders (id → ElderProfile with resident loaded). Returns changed alarm ids.

    One query finds every device and one locks every active alarm the signals touch; signals of one elder are
    applied in the order the engine produced them.
    """
    changed = []
    devices = {d.device_id: d.pk for d in Device.objects.filter(device_id__in={s.device_id for s in signals if s.device_id})}
    active = {(a.elder_id, a.key): a for a in Alarm.objects.select_for_update().filter(
        elder_id__in={s.elder_id for s in signals}, key__in={s.key for s in signals}, status__in=Alarm.ACTIVE)
        .order_by("elder_id", "id")}
    for sig in signals:
        elder = elders[sig.elder_id]
        current = active.get((sig.elder_id, sig.key))
        if sig.action in ("raise", "update"):
            if current is not None:
                current.count += 1
                current.last_at = _dt(sig.ts)
                rank = Alarm.SEVERITY_RANK.get(sig.severity, 2)
                if rank < current.severity_rank:
                    current.severity, current.severity_rank = sig.severity, rank
                current.details = {**current.details, **sig.details}
                current.save(update_fields=["count", "last_at", "severity", "severity_rank", "details", "updated"])
                changed.append(current.pk)
            else:
                alarm = Alarm.objects.create(
                    elder_id=sig.elder_id, division_id=elder.resident.division_id, type=sig.type, key=sig.key,
                    severity=sig.severity, severity_rank=Alarm.SEVERITY_RANK.get(sig.severity, 2), message=sig.message,
                    details=sig.details, device_id=devices.get(sig.device_id), condition_at=_dt(sig.ts),
                    last_at=_dt(sig.ts), raised_at=timezone.now())
                record_transition(alarm, Alarm.Status.RAISED, from_status="", note=sig.message)
                active[(sig.elder_id, sig.key)] = alarm
                changed.append(alarm.pk)
            if sig.type == "device_offline" and sig.device_id:
                Device.objects.filter(device_id=sig.device_id).update(online=False)
        elif sig.action == "clear" and current is not None:
            if current.status in (Alarm.Status.RAISED, Alarm.Status.ACKNOWLEDGED):
                record_transition(current, Alarm.Status.AUTO_CLEARED, note=sig.message)
                current.status = Alarm.Status.AUTO_CLEARED
                current.closed_at = timezone.now()
                current.closing_code = "auto_cleared"
                current.save(update_fields=["status", "closed_at", "closing_code", "updated"])
                del active[(sig.elder_id, sig.key)]
            else:  # help is on the way: keep it open for the operator, but say the condition cleared
                current.details = {**current.details, "condition_cleared_at": _dt(sig.ts).isoformat()}
                current.save(update_fields=["details", "updated"])
            changed.append(current.pk)
    return changed


HANDOVER = "handover"   # transition data key: a held alarm was released to the call center at this transition


def escalate_unacknowledged(now: dt.datetime | None = None) -> list[int]:
    """Raise the escalation level of alarms nobody acknowledged in time (60 s, then 180 s by default).

    The call center's clock runs only while the call center can see the alarm: an alarm held by a local
    responder (`held_until` set, e.g. a care home's console) is not escalated, and one released from a hold
    counts its time from the release (`release_holds`), not from when it was raised."""
    now = now or timezone.now()
    changed = []
    for level, after in ((1, ESCALATE_AFTER_S), (2, ESCALATE_AGAIN_AFTER_S)):
        cutoff = now - dt.timedelta(seconds=after)
        released_late = AlarmTransition.objects.filter(alarm=OuterRef("pk"), data__has_key=HANDOVER, ts__gt=cutoff)
        with transaction.atomic():
            due = Alarm.objects.select_for_update().filter(
                status=Alarm.Status.RAISED, escalation_level__lt=level, raised_at__lte=cutoff,
                held_until__isnull=True).exclude(Exists(released_late))
            for alarm in due:
                record_transition(alarm, Alarm.Status.RAISED, note=f"escalated: not acknowledged within {after} s",
                            data={"escalation_level": level})
                alarm.escalation_level = level
                alarm.save(update_fields=["escalation_level", "updated"])
                changed.append(alarm.pk)
    if changed:
        notify(changed)
    return changed


def release_holds(now: dt.datetime | None = None, note: str = "handed over to the call center") -> list[int]:
    """Give the call center every alarm still unacknowledged when its local hold ran out. The release is a
    transition marked `HANDOVER`; the escalation clock starts there."""
    now = now or timezone.now()
    changed = []
    with transaction.atomic():
        for alarm in Alarm.objects.select_for_update(skip_locked=True).filter(held_until__lte=now,
                                                                             status=Alarm.Status.RAISED):
            record_transition(alarm, alarm.status, note=note, data={HANDOVER: True}, ts=now)
            alarm.held_until = None
            alarm.save(update_fields=["held_until", "updated"])
            changed.append(alarm.pk)
        if changed:
            ids = list(changed)
            transaction.on_commit(lambda: notify(ids))
    return changed


def notify(alarm_ids: list[int]) -> None:
    """Wake live consoles. They poll `Alarm.updated` anyway; on PostgreSQL this also sends NOTIFY."""
    if connection.vendor == "postgresql" and alarm_ids:
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_notify('carenet_alarms', %s)", [",".join(map(str, alarm_ids[:500]))])
        except Exception:  # a notification is a hint, never a reason to fail a write
            log.exception("pg_notify failed")
