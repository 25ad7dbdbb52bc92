"""The trainer's button: in demo mode a simulated home presses SOS through the real ingest path."""
import pytest

from carenet.devices.services import provision_demo_home
from carenet.monitoring.models import Alarm


@pytest.fixture
def demo_home(area):
    return provision_demo_home(area.elder_a)


def test_trainer_press_raises_a_real_sos_alarm(settings, area, login, demo_home, monkeypatch):
    settings.DEMO = True
    monkeypatch.setenv("CARENET_MQTT_URL", "mqtt://127.0.0.1:1")   # no broker: the embedded ingest path
    client = login(area.operator)
    assert "trainer-sos" in client.get("/callcenter/").content.decode()
    response = client.post("/demo/trainer/sos/", follow=True)
    assert response.redirect_chain[-1][0] == "/callcenter/"
    assert "甲老人 刚刚按下了呼救按钮" in response.content.decode()
    alarm = Alarm.objects.get(elder=area.elder_a)
    assert alarm.type == "sos" and alarm.severity == "critical"


def test_trainer_is_off_outside_demo_mode_and_for_other_roles(settings, area, login, demo_home):
    settings.DEMO = False
    assert login(area.operator).post("/demo/trainer/sos/").status_code == 404
    settings.DEMO = True
    assert login(area.worker_a).post("/demo/trainer/sos/").status_code == 403
    assert not Alarm.objects.exists()
