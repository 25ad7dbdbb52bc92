import json
import time

import pytest

from carenet.devices.models import Device, DeviceEvent, Quarantine, Vendor
from carenet.monitoring.ingest import MAX_BYTES, RawMessage, ingest
from carenet.monitoring.models import Alarm, AlarmTransition, MonitorState
from tests.monitoring.conftest import message

pytestmark = pytest.mark.django_db


def test_sos_raises_one_alarm_with_its_transition(home):
    result = ingest([message(home.device("sos_button"), "sos")])
    assert result.accepted == 1
    alarm = Alarm.objects.get()
    assert (alarm.type, alarm.status, alarm.severity, alarm.elder_id) == ("sos", "raised", "critical", home.elder.pk)
    assert list(AlarmTransition.objects.values_list("from_status", "to_status")) == [("", "raised")]
    assert MonitorState.objects.get(elder=home.elder).state


def test_redelivered_message_changes_nothing_but_is_counted(home):
    msg = message(home.device("sos_button"), "sos", event_id="same-1")
    ingest([msg])
    again = ingest([msg])
    assert (again.accepted, again.duplicates) == (0, 1)
    assert DeviceEvent.objects.count() == 1
    assert Alarm.objects.get().count == 1
    assert Quarantine.objects.get().reason == "duplicate"


def test_repeats_update_the_one_active_alarm_and_count(home):
    ingest([message(home.device("sos_button"), "sos")])
    ingest([message(home.device("sos_button"), "sos")])
    alarm = Alarm.objects.get()
    assert alarm.count == 2 and alarm.status == "raised"


def test_smoke_clears_itself(home):
    smoke = home.device("smoke")
    ingest([message(smoke, "smoke", {"alarm": True})])
    ingest([message(smoke, "smoke", {"alarm": False})])
    alarm = Alarm.objects.get()
    assert alarm.status == "auto_cleared"
    assert [t.to_status for t in alarm.transitions.all()] == ["raised", "auto_cleared"]


def _reasons():
    return sorted(Quarantine.objects.values_list("reason", flat=True))


@pytest.mark.parametrize("build,reason", [
    (lambda h: RawMessage(b"{not json", "mqtt", "carenet/v1/dev/x/up"), "malformed"),
    (lambda h: RawMessage(b"[1,2]", "mqtt", "carenet/v1/dev/x/up"), "malformed"),
    (lambda h: RawMessage(b"x" * (MAX_BYTES + 1), "mqtt", "carenet/v1/dev/x/up"), "oversized"),
    (lambda h: message(h.device("pir", "bedroom"), "motion", {"motion": True}, token="wrong"), "bad_token"),
    (lambda h: message(h.device("pir", "bedroom"), "teleport"), "unknown_kind"),
    (lambda h: message(h.device("pir", "bedroom"), "sos"), "kind_mismatch"),
    (lambda h: message(h.device("pir", "bedroom"), "motion", ts=time.time() + 3600), "far_future"),
    (lambda h: message(h.device("pir", "bedroom"), "motion", ts=time.time() - 30 * 86400), "too_old"),
    (lambda h: message(h.device("wristband"), "vitals", {"heart_rate": "fast"}), "bad_value"),
    (lambda h: message(h.device("pir", "bedroom"), "motion", extra={"id": ""}), "malformed"),
])
def test_bad_messages_are_quarantined_with_their_reason(home, build, reason):
    result = ingest([build(home)])
    assert result.accepted == 0
    assert _reasons() == [reason]
    assert Quarantine.objects.get().detail
    assert not DeviceEvent.objects.exists() and not Alarm.objects.exists()


def test_unknown_and_inactive_devices_are_quarantined(home):
    pir = home.device("pir", "bedroom")
    body = json.dumps({"token": "t", "events": [{"id": "1", "ts": time.time(), "kind": "motion"}]}).encode()
    ingest([RawMessage(body, "mqtt", "carenet/v1/dev/nobody/up")])
    Device.objects.filter(pk=pir.pk).update(active=False)
    ingest([message(pir, "motion", {"motion": True})])
    assert _reasons() == ["unknown_device", "unknown_device"]


def test_good_events_survive_bad_neighbours_in_one_batch(home):
    result = ingest([
        RawMessage(b"garbage", "mqtt", "carenet/v1/dev/x/up"),
        message(home.device("sos_button"), "sos"),
        message(home.device("pir", "bedroom"), "motion", ts=time.time() + 99999),
    ])
    assert result.accepted == 1 and result.rejected_total == 2
    assert Alarm.objects.filter(type="sos").exists()


def test_heartbeat_updates_device_health(home):
    pir = home.device("pir", "bedroom")
    ingest([message(pir, "heartbeat", {"battery": 14})])
    pir.refresh_from_db()
    assert pir.online and pir.battery == 14 and pir.last_seen is not None
    assert Alarm.objects.filter(type="low_battery").exists()


def test_http_batch_needs_the_vendor_token(home, client):
    vendor = Vendor(name="AcmeCloud")
    token = vendor.issue_token()
    vendor.save()
    Device.objects.filter(pk=home.device("sos_button").pk).update(vendor=vendor)
    body = {"events": [
        {"device_id": home.device("sos_button").device_id, "id": "h1", "ts": time.time(), "kind": "sos"},
        {"device_id": home.device("pir", "bedroom").device_id, "id": "h2", "ts": time.time(), "kind": "motion"},
    ]}
    assert client.post("/api/devices/events", body, content_type="application/json").status_code == 401
    assert client.post("/api/devices/events", body, content_type="application/json",
                       HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    response = client.post("/api/devices/events", body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    data = response.json()
    assert data["accepted"] == 1
    assert [r["reason"] for r in data["rejected"]] == ["bad_token"]  # the PIR is not this vendor's device
    assert Alarm.objects.filter(type="sos").exists()


def _gateway_message(gateway, events, token=None):
    from carenet.devices.models import demo_token

    body = {"token": token or demo_token(gateway.device_id), "events": events}
    return RawMessage(json.dumps(body).encode(), "mqtt", f"carenet/v1/dev/{gateway.device_id}/up")


def test_home_gateway_relays_its_sub_devices(home):
    gw = home.device("gateway")
    now = time.time()
    events = [{"device_id": home.device("pir", "living").device_id, "id": "g1", "ts": now, "kind": "motion",
               "value": {"motion": True}},
              {"device_id": home.device("sos_button").device_id, "id": "g2", "ts": now, "kind": "sos"}]
    result = ingest([_gateway_message(gw, events)])
    assert result.accepted == 2
    assert Alarm.objects.filter(type="sos", elder=home.elder).exists()


def test_gateway_cannot_relay_for_another_home(home, area):
    from carenet.devices.services import provision_demo_home

    other = next(d for d in provision_demo_home(area.elder_b) if d.type == "pir")
    result = ingest([_gateway_message(home.device("gateway"), [
        {"device_id": other.device_id, "id": "x1", "ts": time.time(), "kind": "motion"}])])
    assert result.accepted == 0 and _reasons() == ["bad_token"]
    assert "relay" in Quarantine.objects.get().detail
