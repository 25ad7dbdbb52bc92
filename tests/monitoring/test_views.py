import pytest

from carenet.core.models import AuditLog
from carenet.devices.models import Quarantine
from carenet.monitoring.ingest import RawMessage, ingest
from carenet.monitoring.models import MonitorState
from tests.monitoring.conftest import message

pytestmark = pytest.mark.django_db


def test_alarm_list_is_scoped(area, home, login):
    ingest([message(home.device("sos_button"), "sos")])
    assert "甲老人" in login(area.operator).get("/monitoring/").content.decode()
    assert "甲老人" not in login(area.worker_b).get("/monitoring/").content.decode()


def test_quarantine_is_visible_to_staff_with_reasons(area, home, login):
    ingest([message(home.device("pir", "bedroom"), "motion", token="bad")])
    ingest([RawMessage(b"garbage", "mqtt", "carenet/v1/dev/nobody/up")])
    page = login(area.admin).get("/monitoring/quarantine/").content.decode()
    assert "token does not match" in page and "not JSON" in page
    page = login(area.worker_b).get("/monitoring/quarantine/").content.decode()
    assert "token does not match" not in page  # elder A's device is not in community B
    assert Quarantine.objects.count() == 2


def test_staff_override_changes_the_rules_and_is_audited(area, home, login):
    client = login(area.operator)
    url = f"/monitoring/elders/{home.elder.pk}/rules/"
    assert client.post(url, {"bathroom_overstay_min": "15", "inactivity_day_h": "3"}).status_code == 302
    row = MonitorState.objects.get(elder=home.elder)
    assert row.overrides == {"bathroom_overstay_min": 15.0, "inactivity_day_h": 3.0}
    assert AuditLog.objects.filter(model="monitoring.monitorstate", action="update").get().after == {"overrides": row.overrides}
    page = client.get(url).content.decode()
    assert "15.0" in page


def test_bad_override_gets_a_message_and_changes_nothing(area, home, login):
    client = login(area.operator)
    response = client.post(f"/monitoring/elders/{home.elder.pk}/rules/", {"bathroom_overstay_min": "1"})
    assert response.status_code == 200 and 'data-testid="error-bathroom_overstay_min"' in response.content.decode()
    assert not MonitorState.objects.filter(elder=home.elder).exclude(overrides={}).exists()


def test_only_device_managers_may_override(area, home, login):
    response = login(area.worker_a).post(f"/monitoring/elders/{home.elder.pk}/rules/", {"bathroom_overstay_min": "20"})
    assert response.status_code == 403
