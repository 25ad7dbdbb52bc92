import datetime as dt
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from carenet.core.models import AuditLog
from carenet.monitoring import alarms, timers
from carenet.monitoring import services as staff
from carenet.monitoring.ingest import ingest
from carenet.monitoring.models import Alarm, MonitorState
from tests.monitoring.conftest import message

pytestmark = pytest.mark.django_db


@pytest.fixture
def sos(home):
    ingest([message(home.device("sos_button"), "sos")])
    return Alarm.objects.get(type="sos")


def test_lifecycle_records_who_and_when(area, sos):
    op = area.operator
    staff.acknowledge(op, sos.pk)
    staff.dispatch(op, sos.pk, "ambulance", note="胸痛")
    staff.resolve(op, sos.pk, "ambulance", note="送市立医院")
    sos.refresh_from_db()
    assert sos.status == "resolved" and sos.closing_code == "ambulance" and sos.closed_by == op
    steps = list(sos.transitions.values_list("to_status", "actor_name"))
    assert steps == [("raised", "system"), ("acknowledged", op.username), ("dispatched", op.username), ("resolved", op.username)]
    assert all(t.ts.microsecond is not None for t in sos.transitions.all())
    assert AuditLog.objects.filter(model="monitoring.alarm", object_id=str(sos.pk)).count() == 3


def test_out_of_order_steps_are_refused(area, sos):
    with pytest.raises(ValidationError):
        staff.resolve(area.operator, sos.pk, "false_alarm")
    with pytest.raises(ValidationError):
        staff.dispatch(area.operator, sos.pk, "helper")
    staff.acknowledge(area.operator, sos.pk)
    with pytest.raises(ValidationError):  # a second operator cannot take it over silently
        staff.acknowledge(area.admin, sos.pk)
    with pytest.raises(ValidationError):
        staff.resolve(area.operator, sos.pk, "not-a-code")


def test_roles_without_alarm_handling_are_refused(area, sos):
    for user in (area.helper, area.supervisor, area.worker_a):
        with pytest.raises(PermissionDenied):
            staff.acknowledge(user, sos.pk)


def test_escalation_after_sixty_seconds(area, sos):
    assert alarms.escalate_unacknowledged(timezone.now()) == []
    Alarm.objects.filter(pk=sos.pk).update(raised_at=timezone.now() - dt.timedelta(seconds=61))
    assert alarms.escalate_unacknowledged() == [sos.pk]
    assert alarms.escalate_unacknowledged() == []  # once per level
    sos.refresh_from_db()
    assert sos.escalation_level == 1
    assert "escalated" in sos.transitions.last().note


def test_a_new_alarm_after_resolution_is_a_new_row(area, home, sos):
    staff.acknowledge(area.operator, sos.pk)
    staff.resolve(area.operator, sos.pk, "false_alarm")
    ingest([message(home.device("sos_button"), "sos")])
    assert Alarm.objects.filter(type="sos").count() == 2


def test_inactivity_timer_fires_once_from_persisted_state(home):
    # A day-time motion, then silence: the deadline is stored with the state and the ticker fires it.
    morning = time.time() - 3600 * 2
    ingest([message(home.device("pir", "living"), "motion", {"motion": True}, ts=morning)], now=morning + 1)
    row = MonitorState.objects.get(elder=home.elder)
    assert row.next_deadline is not None
    deadline = row.next_deadline.timestamp()
    assert timers.tick_due(now=deadline - 1) == 0
    fired_at = deadline + 1
    timers.tick_due(now=fired_at)
    raised = set(Alarm.objects.values_list("type", flat=True))
    assert raised and raised <= {"inactivity", "no_routine", "routine_deviation", "sos_test_overdue"}
    count = Alarm.objects.count()
    timers.tick_due(now=fired_at + 1)
    assert Alarm.objects.count() == count  # not raised twice


CALLS = []


def record_tick():
    CALLS.append("tick")


def test_run_tick_runs_the_registered_hooks(area, settings):
    settings.CARENET_TICK_HOOKS = ["tests.monitoring.test_alarms.record_tick"]
    CALLS.clear()
    timers.run_tick()
    assert CALLS == ["tick"]
