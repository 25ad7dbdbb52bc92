"""Smart-room alarms: the facility console first, the call center after the hold."""
import datetime as dt
import json
import time

import pytest
from django.core.exceptions import PermissionDenied

from carenet.devices.models import Device, demo_token, hash_token
from carenet.facilities import models as m
from carenet.facilities import rooms, services
from carenet.monitoring.feed import changed_since
from carenet.monitoring.ingest import RawMessage, ingest
from carenet.monitoring.models import Alarm
from tests.facilities.helpers import make_facility

pytestmark = pytest.mark.django_db


def event(did, kind, value, eid):
    body = {"token": demo_token(did), "id": eid, "ts": time.time(), "kind": kind, "value": value}
    return RawMessage(json.dumps(body).encode(), "mqtt", f"carenet/v1/dev/{did}/up")


@pytest.fixture
def room(area):
    fac = make_facility(area, type_="nursing_home", division=area.street1, beds=30)
    m.SmartRoom.objects.create(facility=fac, name="201房", elder=area.elder_a)
    m.Staff.objects.create(facility=fac, name="护理员", role="caregiver", user=area.helper)
    for did, type_ in (("R-smoke", "smoke"), ("R-air", "air")):
        Device.objects.create(device_id=did, type=type_, elder=area.elder_a, room="bedroom", token_hash=hash_token(demo_token(did)))
    return fac


def test_room_alarm_is_held_for_the_facility_then_handed_over(area, room, client):
    result = ingest([event("R-smoke", "smoke", {"alarm": True}, "e1")])
    alarm = Alarm.objects.get(pk=result.alarm_ids[0])
    assert alarm.held_until is not None and alarm.details["facility_room"] == "201房"
    rows, _ = changed_since(area.operator, None)
    assert alarm.pk not in [r["id"] for r in rows]                         # not on the call center's queue yet
    client.force_login(area.operator)
    assert alarm.pk not in [r["id"] for r in client.get("/callcenter/queue.json").json()["alarms"]]
    assert rooms.hand_over_due(alarm.held_until - dt.timedelta(seconds=1)) == []
    assert rooms.hand_over_due(alarm.held_until + dt.timedelta(seconds=1)) == [alarm.pk]
    alarm.refresh_from_db()
    assert alarm.held_until is None and "handed over" in alarm.transitions.last().note
    assert alarm.pk in [r["id"] for r in client.get("/callcenter/queue.json").json()["alarms"]]


def test_facility_staff_acknowledge_and_keep_it(area, room):
    ingest([event("R-air", "air", {"co2": 1800, "pm25": 20}, "a1")])
    alarm = Alarm.objects.get(type="air_high_co2")
    with pytest.raises(PermissionDenied):
        services.acknowledge_room_alarm(area.worker_b, alarm.pk)           # not staff there (and no console)
    services.acknowledge_room_alarm(area.helper, alarm.pk, "开窗通风")
    assert rooms.hand_over_due(alarm.held_until + dt.timedelta(minutes=5)) == []   # handled here: stays local
    services.resolve_room_alarm(area.helper, alarm.pk, "assistance_given")
    alarm.refresh_from_db()
    assert alarm.status == "resolved" and alarm.closed_by == area.helper
    other = make_facility(area, type_="nursing_home", division=area.street1, name="别的院")
    m.Staff.objects.create(facility=other, name="别人", role="caregiver", user=area.reviewer)
    ingest([event("R-smoke", "smoke", {"alarm": True}, "e2")])
    smoke = Alarm.objects.get(type="smoke")
    with pytest.raises(PermissionDenied):
        services.acknowledge_room_alarm(area.reviewer, smoke.pk)            # staff of another facility


def test_ordinary_home_alarms_are_not_held(area):
    Device.objects.create(device_id="H-smoke", type="smoke", elder=area.elder_b, room="kitchen", token_hash=hash_token(demo_token("H-smoke")))
    ingest([event("H-smoke", "smoke", {"alarm": True}, "h1")])
    assert Alarm.objects.get(elder=area.elder_b).held_until is None


def test_held_room_alarm_does_not_run_the_call_center_escalation_clock(area, room):
    from carenet.monitoring import alarms as malarms

    result = ingest([event("R-smoke", "smoke", {"alarm": True}, "e9")])
    alarm = Alarm.objects.get(pk=result.alarm_ids[0])
    raised = alarm.raised_at
    # hidden from the call center: long past the 60 s / 180 s escalation times, still level 0
    assert malarms.escalate_unacknowledged(raised + dt.timedelta(seconds=rooms.hold_seconds() - 1)) == []
    alarm.refresh_from_db()
    assert alarm.escalation_level == 0
    released = raised + dt.timedelta(seconds=rooms.hold_seconds() + 1)
    assert rooms.hand_over_due(released) == [alarm.pk]
    assert alarm.transitions.filter(data__has_key=malarms.HANDOVER).exists()
    handed = alarm.transitions.get(data__has_key=malarms.HANDOVER).ts
    assert handed == released                                   # the clock starts at the release
    assert malarms.escalate_unacknowledged(handed + dt.timedelta(seconds=malarms.ESCALATE_AFTER_S - 5)) == []
    assert malarms.escalate_unacknowledged(handed + dt.timedelta(seconds=malarms.ESCALATE_AFTER_S + 1)) == [alarm.pk]
    alarm.refresh_from_db()
    assert alarm.escalation_level == 1


def test_ordinary_alarm_still_escalates_from_when_it_was_raised(area):
    from carenet.monitoring import alarms as malarms

    Device.objects.create(device_id="H-smoke2", type="smoke", elder=area.elder_b, room="kitchen",
                          token_hash=hash_token(demo_token("H-smoke2")))
    ingest([event("H-smoke2", "smoke", {"alarm": True}, "h9")])
    alarm = Alarm.objects.get(elder=area.elder_b)
    assert malarms.escalate_unacknowledged(alarm.raised_at + dt.timedelta(seconds=malarms.ESCALATE_AFTER_S + 1)) == [alarm.pk]
