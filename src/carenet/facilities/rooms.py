"""Smart rooms: a room alarm goes to its facility's staff console first and to the call center after a timeout.

When monitoring creates an alarm for an elder who lives in a facility's smart room, the alarm is held locally
(`Alarm.held_until`): the call center's queue and live feed leave it out. Facility staff acknowledge and close it
on their console. If nobody there acknowledges it in time, `hand_over_due` (a tick hook of the monitoring timer)
clears the hold and the call center gets it like any other alarm, with a transition saying why.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings

from carenet.facilities import models as m


def hold_seconds() -> int:
    return int(getattr(settings, "CARENET_FACILITY_HOLD_S", 120))


def on_alarm_saved(sender, instance, created, **kwargs):
    if not created or instance.held_until is not None:
        return
    room = m.SmartRoom.objects.filter(elder_id=instance.elder_id).select_related("facility").first()
    if room is None or room.facility.status != m.Facility.Status.OPERATING:
        return
    held = instance.raised_at + dt.timedelta(seconds=hold_seconds())
    details = {**instance.details, "facility_id": room.facility_id, "facility": room.facility.name, "facility_room": room.name}
    type(instance).objects.filter(pk=instance.pk).update(held_until=held, details=details)
    instance.held_until, instance.details = held, details


def is_room_staff(user, alarm) -> bool:
    """The user is staff in post of the facility whose smart room raised the alarm."""
    return m.Staff.objects.filter(user=user, active=True, facility__rooms__elder_id=alarm.elder_id).exists()


def hand_over_due(now: dt.datetime | None = None) -> list[int]:
    """Give the call center every room alarm still unacknowledged at its facility after the hold. The release
    (and the escalation clock that starts with it) belongs to monitoring: `alarms.release_holds`."""
    from carenet.monitoring import alarms as malarms

    return malarms.release_holds(now, note=f"handed over to the call center: not acknowledged at the facility "
                                           f"within {hold_seconds()} s")
