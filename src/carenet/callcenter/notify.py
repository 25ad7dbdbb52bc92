"""Notifying families (SMS or app push) when an alarm is raised and when it is closed.

The interface is one method, `Backend.send(recipient, channel, text)`. The demo backend (`DatabaseBackend`,
the default) logs the message and keeps it as a Notification row, which the screen pop shows. A real SMS
gateway or push service is another class with the same method, selected by name:

    get_backend()            -> the default ("db"), or settings.CARENET_NOTIFY_BACKEND if a deployment sets it
    get_backend("log")       -> log only, store nothing else
    register_backend("sms-gw", MyGatewayBackend)

`notify_new_alarms()` finds alarms whose families have not yet been told (raised) or told of the outcome
(closed) and sends the messages. It is idempotent: a unique constraint on (alarm, event, address, channel)
means two pollers, or a poller and the console, never send the same message twice. Call it from the
ingest worker's tick, or run `manage.py notify_families` next to the worker.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carenet.callcenter.labels import DEVICE_CARE_TYPES, alarm_type_label, closing_label
from carenet.callcenter.models import Notification
from carenet.monitoring.models import Alarm
from carenet.people.models import EmergencyContact

log = logging.getLogger("carenet.notify")

#: How far back the poller looks for alarms whose families were not told (older ones are history).
LOOKBACK = dt.timedelta(hours=24)
# Families hear about what is happening now. A condition older than this (a backlog after an outage, a
# replay) stays on the staff screens but sends no SMS hours after the fact.
STALE_CONDITION = dt.timedelta(minutes=30)
#: How many contacts (in call order) are told; the first ones are the people who act.
MAX_RECIPIENTS = 3


@dataclasses.dataclass(frozen=True)
class Recipient:
    name: str
    address: str          # phone number for SMS, app user id for push
    elder_id: int
    alarm_id: int | None = None
    event: str = Notification.Event.OTHER


@dataclasses.dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""


class Backend(Protocol):
    name: str

    def send(self, recipient: Recipient, channel: str, text: str) -> SendResult: ...


class LogBackend:
    """Writes the message to the log and nothing else."""

    name = "log"

    def send(self, recipient: Recipient, channel: str, text: str) -> SendResult:
        # The text names the elder and the recipient is a family member: the log gets neither, only masks.
        log.info("notify %s alarm=%s event=%s to %s <%s>: %d characters", channel, recipient.alarm_id,
                 recipient.event, mask_name(recipient.name), mask_address(recipient.address), len(text))
        return SendResult(True)


def mask_name(name: str) -> str:
    """张三丰 -> 张**: enough for staff to tell two log lines apart, not enough to identify anyone."""
    return (name[:1] + "*" * max(1, len(name) - 1)) if name else ""


def mask_address(address: str) -> str:
    """13812345678 -> *******5678 (a phone number or an app user id keeps only its last four characters)."""
    return "*" * max(0, len(address) - 4) + address[-4:] if len(address) > 4 else "*" * len(address)


class DatabaseBackend(LogBackend):
    """The demo backend: logs the message and stores it as a Notification row (what the console shows)."""

    name = "db"

    def send(self, recipient: Recipient, channel: str, text: str) -> SendResult:
        super().send(recipient, channel, text)
        return SendResult(True)


_BACKENDS: dict[str, type] = {"log": LogBackend, "db": DatabaseBackend}
DEFAULT_BACKEND = "db"


def register_backend(name: str, cls: type) -> None:
    _BACKENDS[name] = cls


def get_backend(name: str | None = None) -> Backend:
    name = name or getattr(settings, "CARENET_NOTIFY_BACKEND", None) or DEFAULT_BACKEND
    return _BACKENDS[name]()


# ---- sending ----------------------------------------------------------------------------------------
def recipients_for(alarm: Alarm, event: str) -> list[Recipient]:
    contacts = EmergencyContact.objects.filter(elder_id=alarm.elder_id).exclude(phone="").order_by("order", "id")
    seen, out = set(), []
    for c in contacts:
        if c.phone in seen:
            continue
        seen.add(c.phone)
        out.append(Recipient(c.name, c.phone, alarm.elder_id, alarm.pk, event))
        if len(out) >= MAX_RECIPIENTS:
            break
    return out


def message_text(alarm: Alarm, event: str) -> str:
    """The SMS text, always in the deployment's language (families get Chinese, whatever the operator uses)."""
    with translation.override(settings.LANGUAGE_CODE):
        name = alarm.elder.resident.name
        when = timezone.localtime(alarm.raised_at).strftime("%H:%M")
        if event == Notification.Event.RAISED:
            text = _("[CareNet] %(time)s: %(kind)s alarm for %(name)s. The call center is handling it and may call you.") % {
                "time": when, "kind": alarm_type_label(alarm.type), "name": name}
        else:
            text = _("[CareNet] The %(kind)s alarm for %(name)s (%(time)s) is closed: %(outcome)s.") % {
                "time": when, "kind": alarm_type_label(alarm.type), "name": name,
                "outcome": closing_label(alarm.closing_code)}
    return text[:300]


def send_for_alarm(alarm: Alarm, event: str, backend: Backend | None = None, channel: str = Notification.Channel.SMS) -> int:
    """Tell the family about one alarm event. Returns how many messages were sent now (0 if already sent)."""
    backend = backend or get_backend()
    text = message_text(alarm, event)
    sent = 0
    for r in recipients_for(alarm, event):
        # Claim the (alarm, event, address) slot first, so a concurrent poller cannot send it too.
        try:
            with transaction.atomic():
                row = Notification.objects.create(alarm=alarm, elder_id=alarm.elder_id, event=event, recipient=r.name,
                                                  address=r.address, channel=channel, text=text, backend=backend.name)
        except IntegrityError:
            continue
        try:
            result = backend.send(r, channel, text)
        except Exception as exc:  # a gateway failure must not break the caller (the worker tick or a close)
            log.exception("notification backend %s failed", backend.name)
            result = SendResult(False, f"{exc.__class__.__name__}: {exc}"[:200])
        if not result.ok:
            Notification.objects.filter(pk=row.pk).update(status=Notification.Status.FAILED, error=result.error[:200])
        else:
            sent += 1
    return sent


def _family_alarms():
    return Alarm.objects.exclude(type__in=DEVICE_CARE_TYPES).select_related("elder__resident")


def notify_new_alarms(now: dt.datetime | None = None, backend: Backend | None = None, limit: int = 500) -> dict:
    """Send the raised and closed messages that are due. Safe to call every second from any process."""
    now = now or timezone.now()
    since = now - LOOKBACK
    told = Notification.objects.filter(alarm=OuterRef("pk"), event=Notification.Event.RAISED)
    told_closed = Notification.objects.filter(alarm=OuterRef("pk"), event=Notification.Event.CLOSED)
    has_contacts = EmergencyContact.objects.filter(elder_id=OuterRef("elder_id")).exclude(phone="")
    base = (_family_alarms().filter(raised_at__gte=since, condition_at__gte=now - STALE_CONDITION)
            .filter(Exists(has_contacts)))
    counts = {"raised": 0, "closed": 0}
    for alarm in base.filter(~Exists(told)).order_by("raised_at")[:limit]:
        counts["raised"] += send_for_alarm(alarm, Notification.Event.RAISED, backend)
    # Closed: only alarms whose family was told they were raised, so nobody gets a "closed" out of the blue.
    closed = base.filter(Exists(told), ~Exists(told_closed), status__in=[Alarm.Status.RESOLVED, Alarm.Status.AUTO_CLEARED])
    for alarm in closed.order_by("closed_at")[:limit]:
        counts["closed"] += send_for_alarm(alarm, Notification.Event.CLOSED, backend)
    return counts


def notify_alarm(alarm_id: int, backend: Backend | None = None) -> int:
    """Bring one alarm's family messages up to date (raised, and closed if it is closed). Used on close."""
    alarm = _family_alarms().filter(pk=alarm_id).first()
    if alarm is None:
        return 0
    sent = send_for_alarm(alarm, Notification.Event.RAISED, backend)
    if alarm.status in (Alarm.Status.RESOLVED, Alarm.Status.AUTO_CLEARED):
        sent += send_for_alarm(alarm, Notification.Event.CLOSED, backend)
    return sent
