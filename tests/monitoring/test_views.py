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


def test_registering_a_device_shows_its_token_once_and_it_works(area, home, login):
    from carenet.devices.models import Device
    from carenet.monitoring.models import Alarm

    client = login(area.operator)
    url = f"/monitoring/elders/{home.elder.pk}/devices/new/"
    page = client.post(url, {"device_id": "WB-0001", "type": "sos_button", "room": "bedroom"}).content.decode()
    token = page.split('<code class="fs-6">')[1].split("</code>")[0]
    device = Device.objects.get(device_id="WB-0001")
    assert token not in device.token_hash and len(token) > 20
    ingest([message(device, "sos", token=token)])
    assert Alarm.objects.filter(type="sos", device=device).exists()
    again = client.post(url, {"device_id": "WB-0001", "type": "pir"}).content.decode()
    assert 'data-testid="error-device_id"' in again


def test_device_registration_is_refused_outside_the_area_and_for_other_roles(area, home, login):
    assert login(area.worker_a).post(f"/monitoring/elders/{home.elder.pk}/devices/new/",
                                     {"device_id": "X-1", "type": "pir"}).status_code == 403
    from carenet.core.roles import Role
    from tests.factories import UserFactory

    street2_operator = UserFactory(role=Role.OPERATOR, division=area.street2)
    assert login(street2_operator).post(f"/monitoring/elders/{home.elder.pk}/devices/new/",
                                        {"device_id": "X-2", "type": "pir"}).status_code == 404
