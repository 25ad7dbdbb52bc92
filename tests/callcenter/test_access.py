"""Operators see the alarms and elders of their center's area; every screen pop is an audited health read."""
import pytest
from django.core.exceptions import PermissionDenied

from carenet.callcenter import services
from carenet.core.models import AuditLog
from carenet.devices.services import provision_demo_home
from carenet.monitoring.ingest import ingest
from tests.callcenter.conftest import make_alarm
from tests.monitoring.conftest import message

pytestmark = pytest.mark.django_db


def test_operator_of_street2_cannot_open_or_work_an_alarm_of_street1(area, street2_operator, client):
    alarm = make_alarm(area.elder_a)  # community A, street 1
    client.force_login(street2_operator)
    assert client.get(f"/callcenter/alarms/{alarm.pk}/").status_code == 404
    assert client.post(f"/callcenter/alarms/{alarm.pk}/claim/", HTTP_ACCEPT="application/json").status_code == 404
    assert client.post(f"/callcenter/alarms/{alarm.pk}/call/", {"callee": "elder", "outcome": "fine"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.claim(street2_operator, alarm.pk)
    alarm.refresh_from_db()
    assert alarm.status == "raised"
    assert not AuditLog.objects.filter(actor=street2_operator, action="view_health").exists()
    own = make_alarm(area.elder_c)  # community C, street 2
    assert client.get(f"/callcenter/alarms/{own.pk}/").status_code == 200


def test_alarm_history_lists_only_the_own_area(area, street2_operator, client):
    make_alarm(area.elder_a)
    make_alarm(area.elder_c)
    client.force_login(street2_operator)
    page = client.get("/callcenter/alarms/").content.decode()
    assert "丙老人" in page and "甲老人" not in page


def test_every_screen_pop_is_an_audited_read_of_the_health_archive(area, client):
    alarm = make_alarm(area.elder_a)
    client.force_login(area.operator)
    for n in (1, 2):
        page = client.get(f"/callcenter/alarms/{alarm.pk}/").content.decode()
        assert AuditLog.objects.filter(action="view_health", actor=area.operator).count() == n
    for text in ("甲老人", "高血压", "氨氯地平 5mg", "青霉素", "联系人", "13900000000"):
        assert text in page, text


def test_screen_pop_shows_sensor_timeline_location_and_history(area, client):
    r = area.elder_a.resident
    r.lat, r.lon = 30.5, 117.05
    r.save()
    devices = provision_demo_home(area.elder_a)
    pir = next(d for d in devices if d.type == "pir" and d.room == "bedroom")
    sos = next(d for d in devices if d.type == "sos_button")
    ingest([message(pir, "motion", {"motion": True}), message(sos, "sos")])
    old = make_alarm(area.elder_a, "inactivity", severity="high", status="resolved", closing_code="elder_fine")
    from carenet.monitoring.models import Alarm
    alarm = Alarm.objects.get(type="sos")
    client.force_login(area.operator)
    resp = client.get(f"/callcenter/alarms/{alarm.pk}/")
    charts = resp.context["charts"]
    assert charts["timeline"]["count"] == 2 and len(charts["timeline"]["categories"]) == 2
    assert charts["map"]["elder"] == [117.05, 30.5]
    assert [c["name"] for c in charts["map"]["communities"]] == ["甲社区"]
    assert [(a.pk, closing) for a, _, closing in resp.context["recent_alarms"]] == [(old.pk, "老人接听，情况正常")]  # zh-Hans by default
    html = resp.content.decode()
    assert "vendor/echarts/echarts.min.js" in html and "http://" not in html.split("<body")[1].replace("http://www.w3.org", "")


def test_console_page_is_for_operators(area, client):
    client.force_login(area.operator)
    page = client.get("/callcenter/")
    assert page.status_code == 200 and b"cc-config" in page.content and b"callcenter/console.js" in page.content
    client.force_login(area.worker_a)
    assert client.get("/callcenter/").status_code == 403
    client.force_login(area.supervisor)
    assert client.get("/callcenter/kpis/").status_code == 200


def test_queue_json_lists_open_alarms_of_the_own_area(area, street2_operator, client):
    make_alarm(area.elder_a)
    own = make_alarm(area.elder_c)
    make_alarm(area.elder_c, "fall", status="resolved")
    client.force_login(street2_operator)
    rows = client.get("/callcenter/queue.json").json()["alarms"]
    assert [r["id"] for r in rows] == [own.pk] and rows[0]["name"] == "丙老人" and rows[0]["active"]


def test_pages_in_chinese_by_default_and_english_when_chosen(area, client):
    alarm = make_alarm(area.elder_a)
    client.force_login(area.operator)
    assert "实时告警队列" in client.get("/callcenter/").content.decode()
    assert "紧急联系人" in client.get(f"/callcenter/alarms/{alarm.pk}/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/callcenter/"})
    assert "Live alarm queue" in client.get("/callcenter/").content.decode()
    for url in (f"/callcenter/alarms/{alarm.pk}/", "/callcenter/care/", "/callcenter/kpis/", "/callcenter/alarms/"):
        assert client.get(url).status_code == 200, url
