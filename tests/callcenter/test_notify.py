"""Families are told when an alarm is raised and when it is closed, once, through the backend interface."""
import pytest
from django.core.management import call_command

from carenet.callcenter import notify, services
from carenet.callcenter.models import Notification
from carenet.monitoring.models import Alarm
from carenet.monitoring.ingest import ingest
from tests.callcenter.conftest import ago, make_alarm
from tests.monitoring.conftest import message

pytestmark = pytest.mark.django_db


class Recorder:
    name = "recorder"

    def __init__(self, fail_for=()):
        self.sent = []
        self.fail_for = set(fail_for)

    def send(self, recipient, channel, text):
        self.sent.append((recipient.address, recipient.event, text))
        if recipient.address in self.fail_for:
            return notify.SendResult(False, "gateway said no")
        return notify.SendResult(True)


def test_raised_alarm_from_the_ingest_path_notifies_the_contacts_once(area, home, contacts):
    ingest([message(home.device("sos_button"), "sos")])
    backend = Recorder()
    counts = notify.notify_new_alarms(backend=backend)
    assert counts == {"raised": 3, "closed": 0}
    assert [a for a, _, _ in backend.sent] == [c.phone for c in contacts]  # call order
    text = backend.sent[0][2]
    assert "甲老人" in text and "呼叫中心" in text  # Chinese for families, whatever the operator's language
    assert notify.notify_new_alarms(backend=backend) == {"raised": 0, "closed": 0}
    assert Notification.objects.filter(event="raised").count() == 3


def test_close_notifies_the_family_of_the_outcome(area, contacts, django_capture_on_commit_callbacks):
    alarm = make_alarm(area.elder_a)
    notify.notify_new_alarms()
    services.claim(area.operator, alarm.pk)
    services.log_call(area.operator, alarm.pk, "elder", "fine")
    with django_capture_on_commit_callbacks(execute=True):
        services.close(area.operator, alarm.pk, "elder_fine")
    closed = Notification.objects.filter(alarm=alarm, event="closed")
    assert closed.count() == 3
    assert "已办结" in closed.first().text and "情况正常" in closed.first().text
    assert notify.notify_new_alarms() == {"raised": 0, "closed": 0}  # nothing twice


def test_auto_cleared_alarm_is_reported_closed_by_the_poller(area):
    alarm = make_alarm(area.elder_a, "inactivity", severity="high")
    notify.notify_new_alarms()
    alarm.status, alarm.closing_code, alarm.closed_at = "auto_cleared", "auto_cleared", alarm.raised_at
    alarm.save()
    assert notify.notify_new_alarms() == {"raised": 0, "closed": 1}


def test_device_care_alarms_and_old_alarms_do_not_notify(area):
    make_alarm(area.elder_a, "device_offline", severity="medium")
    make_alarm(area.elder_a, "sos", raised_at=ago(3 * 86400))
    assert notify.notify_new_alarms() == {"raised": 0, "closed": 0}


def test_a_failing_gateway_is_recorded_and_does_not_stop_the_others(area, contacts):
    make_alarm(area.elder_a)
    backend = Recorder(fail_for={contacts[1].phone})
    assert notify.notify_new_alarms(backend=backend)["raised"] == 2
    failed = Notification.objects.get(status="failed")
    assert failed.address == contacts[1].phone and failed.error == "gateway said no"


def test_backend_selection_has_a_default_and_accepts_registered_backends(settings):
    assert notify.get_backend().name == "db"
    notify.register_backend("recorder", Recorder)
    settings.CARENET_NOTIFY_BACKEND = "recorder"
    assert isinstance(notify.get_backend(), Recorder)
    assert notify.get_backend("log").name == "log"


def test_notify_families_command_runs_once(area, capsys):
    make_alarm(area.elder_a)
    call_command("notify_families")
    assert "raised=1" in capsys.readouterr().out


def test_a_stale_condition_raised_now_sends_no_sms(area, contacts):
    """A backlog or a replay raises alarms now for conditions hours old: staff see them, families get no SMS."""
    alarm = make_alarm(area.elder_a, "inactivity", severity="high")
    Alarm.objects.filter(pk=alarm.pk).update(condition_at=ago(3 * 3600))
    assert notify.notify_new_alarms() == {"raised": 0, "closed": 0}
    fresh = make_alarm(area.elder_a, "sos")
    assert notify.notify_new_alarms()["raised"] >= 1
    assert not Notification.objects.filter(alarm=alarm).exists() and Notification.objects.filter(alarm=fresh).exists()


def test_the_log_backend_masks_names_and_phones(caplog):
    """Issue 9 §3: the ingest worker's log printed family SMS texts with names and phone numbers."""
    import logging

    from carenet.callcenter import notify as notify_mod

    recipient = notify_mod.Recipient("王小明", "13812345678", elder_id=1, alarm_id=7, event="raised")
    with caplog.at_level(logging.INFO, logger="carenet.notify"):
        notify_mod.get_backend("log").send(recipient, "sms", "[CareNet] 08:15: SOS alarm for 张老人. Call 13812345678")
    text = caplog.text
    assert "王小明" not in text and "13812345678" not in text and "张老人" not in text
    assert "王**" in text and "*******5678" in text and "alarm=7" in text
