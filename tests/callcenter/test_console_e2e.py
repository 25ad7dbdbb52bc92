"""End to end: a device publishes SOS to a real MQTT broker (a Mosquitto of the test's own, so other sessions'
traffic on the shared broker cannot leak in; the shared one on 1883 when no mosquitto binary is there); the
ingest worker and a daphne web server run as subprocesses on the test database; the operator works the
alarm in headless Chromium."""
import time
import uuid

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from carenet.callcenter.models import CallLog, Dispatch, Notification, OnlineService
from carenet.core.models import AuditLog
from carenet.monitoring.models import Alarm
from tests.conftest import mqtt_url
from tests.browser.conftest import login
from tests.factories import PASSWORD
from carenet.devices.models import demo_token
from carenet.devices.services import provision_demo_home
from tests.callcenter.live import PrivateMosquitto, Publisher, sos_payload, start_web, start_worker, stop, release_database
pytestmark = [pytest.mark.mqtt, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def usable_password(user):
    """The subprocess uses the production hashers, not the tests' MD5: store a (cheap) PBKDF2 hash."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


def test_sos_appears_live_and_is_handled_to_the_kpis(area, home, contacts, subprocess_env, browser_page, artifacts, tmp_path):
    usable_password(area.operator)
    broker = PrivateMosquitto(tmp_path).start() if PrivateMosquitto.available() else None
    url = broker.url if broker else mqtt_url()
    worker = start_worker(subprocess_env, url, f"test-cc-{uuid.uuid4().hex[:8]}", tmp_path / "worker.log")
    web, base = start_web(subprocess_env, tmp_path / "daphne.log")
    pub = Publisher(url)
    page = browser_page
    try:
        login(page, base, area.operator.username)
        page.goto(base + "/callcenter/")
        page.wait_for_selector("[data-testid=connection][data-state=live]", timeout=10000)
        assert page.locator("[data-testid=alarm-row]").count() == 0
        page.evaluate("window.__sameDocument = 42")

        sos = home.device("sos_button")
        published = time.time()
        pub.publish(f"carenet/v1/dev/{sos.device_id}/up", sos_payload(sos.device_id, demo_token(sos.device_id)))
        page.wait_for_selector("[data-testid=alarm-row]", timeout=10000)
        seen = time.time() - published
        row = page.locator("[data-testid=alarm-row]").first
        assert "甲老人" in row.inner_text()
        assert page.evaluate("window.__sameDocument") == 42          # no reload
        assert page.locator("[data-testid=waiting-count]").inner_text() == "1"
        assert "cc-new" in row.get_attribute("class")                  # visual cue
        alarm = Alarm.objects.get(type="sos")
        assert row.get_attribute("data-alarm-id") == str(alarm.pk)
        print(f"publish → row in browser: {seen * 1000:.0f} ms")
        page.screenshot(path=str(artifacts / "callcenter-queue.png"), full_page=True)

        # claim → screen pop
        row.locator("[data-testid=claim]").click()
        page.wait_for_url(f"{base}/callcenter/alarms/{alarm.pk}/")
        assert page.locator("[data-testid=pop-name]").inner_text().startswith("甲老人")
        assert "operator1" in page.locator("[data-testid=pop-owner]").inner_text()
        assert "氨氯地平" in page.locator("[data-testid=pop-health]").inner_text()
        assert page.locator("[data-testid=contact-row]").count() == 3
        page.wait_for_selector("#cc-timeline canvas")  # a selector wait: string predicates need eval, which the CSP forbids
        assert page.locator("[data-testid=prompt]").get_attribute("data-step") == "call_elder"
        page.screenshot(path=str(artifacts / "callcenter-screen-pop.png"), full_page=True)

        # while the operator handles this one, another elder presses SOS: the screen pop says so
        other = next(d for d in provision_demo_home(area.elder_b) if d.type == "sos_button")
        pub.publish(f"carenet/v1/dev/{other.device_id}/up", sos_payload(other.device_id, demo_token(other.device_id)))
        page.wait_for_selector("[data-testid=others-waiting]:not(.d-none)", timeout=10000)
        assert "1" in page.locator("[data-testid=others-waiting]").inner_text()

        # verification call: the elder does not answer → the first contact is prompted and preselected
        page.select_option("[data-testid=call-callee]", "elder:")
        page.click("[data-testid=outcome-no_answer]")
        page.wait_for_selector("[data-testid=prompt][data-step=call_contact]")
        assert contacts[0].phone in page.locator("[data-testid=prompt]").inner_text()
        assert page.locator("[data-testid=call-callee]").input_value() == f"contact:{contacts[0].pk}"
        page.click("[data-testid=outcome-needs_help]")
        page.wait_for_selector("[data-testid=prompt][data-step=reached]")

        # dispatch 120, then close
        page.select_option("[data-testid=dispatch-target]", "ambulance")
        page.fill("[data-testid=dispatch-form] input[name=responder]", "120 急救中心")
        page.click("[data-testid=dispatch-submit]")
        page.wait_for_selector("[data-testid=dispatch-row]")
        page.select_option("[data-testid=closing-code]", "ambulance")
        page.click("[data-testid=close-submit]")
        page.wait_for_selector("[data-testid=pop-closed]")
        page.screenshot(path=str(artifacts / "callcenter-screen-pop-closed.png"), full_page=True)

        alarm.refresh_from_db()
        assert alarm.status == "resolved" and alarm.closing_code == "ambulance" and alarm.acknowledged_by == area.operator
        assert [c.outcome for c in CallLog.objects.filter(alarm=alarm)] == ["no_answer", "needs_help"]
        assert Dispatch.objects.get(alarm=alarm).target == "ambulance"
        assert AuditLog.objects.filter(action="view_health", actor=area.operator).exists()
        assert Notification.objects.filter(alarm=alarm, event="closed").count() == 3   # the family is told

        # the KPI page counts it
        page.goto(base + "/callcenter/kpis/")
        assert page.locator("[data-testid=kpi-total]").inner_text() == "2"   # ours and the one still waiting
        assert page.locator("[data-testid=kpi-dispatch]").inner_text() != "— s"
        assert page.locator("[data-testid=kpi-online]").inner_text() == str(OnlineService.objects.count()) == "1"
        page.screenshot(path=str(artifacts / "callcenter-kpis.png"), full_page=True)
    finally:
        pub.close()
        stop(web, worker)
        if broker:
            broker.stop()
        release_database()


@pytest.mark.django_db(transaction=True)
def test_console_reconciles_when_a_push_is_missed(area, live_server, browser_page):
    """The push follows Alarm.updated; the console also reconciles with /callcenter/queue.json every 5 s."""
    from tests.callcenter.conftest import make_alarm

    page = browser_page
    page.route_web_socket("**/ws/alarms/", lambda ws: None)  # the WebSocket connects to nothing: no push at all
    login(page, live_server.url, area.operator.username)
    page.goto(live_server.url + "/callcenter/")
    alarm = make_alarm(area.elder_b, "fall")
    page.wait_for_selector(f"[data-testid=alarm-row][data-alarm-id='{alarm.pk}']", timeout=12000)
    alarm.status = "auto_cleared"
    alarm.save()
    page.wait_for_selector(f"[data-testid=alarm-row][data-alarm-id='{alarm.pk}']", state="detached", timeout=12000)
    release_database()
