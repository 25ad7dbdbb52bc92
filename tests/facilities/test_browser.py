"""Browser: a street proposes a facility and the district approves it; an evaluator scores it and the subsidy shows
with its explanation; an inspection finding goes round the loop; a smart-room smoke event reaches the facility
console; the big screen at 1920×1080."""
import json
import time

import pytest

from carenet.devices.models import Device, demo_token, hash_token
from carenet.facilities import models as m
from carenet.monitoring.ingest import RawMessage, ingest
from tests.facilities.helpers import make_facility, setup_rules
from tests.browser.conftest import browser_page, login  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_propose_approve_evaluate_and_inspect(area, live_server, browser_page, artifacts):
    setup_rules(area)
    page, url = browser_page, live_server.url
    login(page, url, "reviewer1", landing="/")
    page.goto(url + "/facilities/new/")
    page.fill("#id_name", "乙社区养老服务站")
    page.select_option("#id_type", "station")
    page.select_option("#id_division", str(area.comm_b.pk))
    page.fill("#id_beds", "10")
    page.fill("#id_nursing_beds", "12")
    page.click("[data-testid=submit]")
    assert "护理型床位不能多于总床位" in page.content()            # bad input: a clear error, nothing lost
    assert page.input_value("#id_name") == "乙社区养老服务站"
    page.fill("#id_nursing_beds", "6")
    page.fill("#id_reason", "新建社区站")
    page.click("[data-testid=submit]")
    page.wait_for_url(url + "/facilities/changes/")
    assert page.locator("[data-testid=approve]").count() == 0       # streets cannot approve
    login(page, url, "approver1", landing="/")
    page.goto(url + "/facilities/changes/")
    page.click("[data-testid=approve]")
    page.wait_for_url(url + "/facilities/*/")
    fac = m.Facility.objects.get(name="乙社区养老服务站")
    assert page.locator("[data-testid=facility-status]").inner_text() == "筹建中"
    page.screenshot(path=str(artifacts / "facilities-approved.png"), full_page=True)
    fac.status = "operating"
    fac.save()

    login(page, url, "evaluator1", landing="/")
    page.goto(f"{url}/facilities/{fac.pk}/evaluate/")
    for code, v in {"fire": "9", "food": "8", "care": "8", "mgmt": "7", "satis": "90"}.items():
        page.fill(f"[data-testid=score-{code}]", v)
    page.set_input_files("input[name=photos]", files=[{"name": "p.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"0" * 32}])
    page.click("[data-testid=submit-evaluation]")
    page.wait_for_url(f"{url}/facilities/{fac.pk}/")
    assert page.locator("[data-testid=evaluation-score]").first.inner_text() == "83.00"
    assert page.locator("[data-testid=subsidy-amount]").first.inner_text().replace(",", "") == "64000.00"
    explanation = page.locator("[data-testid=subsidy-explanation]").first.inner_text()
    assert "80,000.00" in explanation and "80%" in explanation
    page.screenshot(path=str(artifacts / "facilities-evaluation-subsidy.png"), full_page=True)

    login(page, url, "reviewer1", landing="/")
    page.goto(f"{url}/facilities/{fac.pk}/")
    page.fill("[data-testid=finding-0]", "灭火器过期")
    page.click("[data-testid=record-inspection]")
    page.fill("[data-testid=assignee]", "站长王某")
    page.click("[data-testid=assign]")
    assert "已交办整改" in page.locator("[data-testid=finding-status]").inner_text()
    login(page, url, "helper1", landing="/")
    page.goto(f"{url}/facilities/{fac.pk}/")
    page.fill("[data-testid=rectify-note]", "已更换灭火器")
    page.set_input_files("[data-testid=rectify-photo]", files=[{"name": "r.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"1" * 32}])
    page.click("[data-testid=rectify]")
    assert "已整改待督查" in page.locator("[data-testid=finding-status]").inner_text()
    login(page, url, "reviewer1", landing="/")
    page.goto(f"{url}/facilities/{fac.pk}/")
    page.click("[data-testid=accept]")
    assert "已验收销号" in page.locator("[data-testid=finding-status]").inner_text()
    page.screenshot(path=str(artifacts / "facilities-inspection-loop.png"), full_page=True)
    assert [s.to_status for s in m.Finding.objects.get().steps.all()] == ["open", "assigned", "rectified", "closed"]


def test_smart_room_smoke_reaches_the_facility_console(area, live_server, browser_page, artifacts):
    fac = make_facility(area, type_="nursing_home", name="一街道敬老院", division=area.street1, beds=40)
    m.SmartRoom.objects.create(facility=fac, name="201房", elder=area.elder_a)
    m.Staff.objects.create(facility=fac, name="值班护理员", role="caregiver", user=area.helper)
    did = "R1-smoke"
    Device.objects.create(device_id=did, type="smoke", elder=area.elder_a, room="kitchen", token_hash=hash_token(demo_token(did)))
    page, url = browser_page, live_server.url
    login(page, url, "helper1", landing="/")
    page.goto(url + "/facilities/console/")
    page.wait_for_url(f"{url}/facilities/{fac.pk}/console/")
    assert page.locator("[data-testid=console-alarm]").count() == 0
    body = {"token": demo_token(did), "id": "e1", "ts": time.time(), "kind": "smoke", "value": {"alarm": True}}
    result = ingest([RawMessage(json.dumps(body).encode(), "mqtt", f"carenet/v1/dev/{did}/up")])
    assert result.accepted == 1 and result.alarm_ids
    page.wait_for_selector("[data-testid=console-alarm]", timeout=10000)
    row = page.locator("[data-testid=console-alarm]").first.inner_text()
    assert "烟" in row and "201房" in row and "转呼叫中心" in row
    page.screenshot(path=str(artifacts / "facilities-room-console.png"), full_page=True)
    page.click("[data-testid=console-ack]")
    page.wait_for_selector("[data-testid=console-resolve]")
    assert "本机构处置" in page.locator("[data-testid=handover]").first.inner_text()
    login(page, url, "worker_b", landing="/")  # no console capability
    assert page.goto(f"{url}/facilities/{fac.pk}/console/").status == 403


def test_big_screen_1920x1080(area, live_server, browser_page, artifacts):
    setup_rules(area)
    make_facility(area, type_="center", division=area.street1, lat="30.50", lon="117.00", name="一街道养老服务中心")
    page, url = browser_page, live_server.url
    login(page, url, "supervisor1", landing="/")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(url + "/bigscreen/")
    page.wait_for_selector("body[data-loaded='1']", timeout=15000)
    page.wait_for_timeout(500)   # let ECharts finish its first frame
    assert page.locator("#k-elders").inner_text() == "3"
    box = page.locator("#screen").bounding_box()
    assert box["width"] <= 1920 and box["height"] <= 1080               # the wall layout fits: no scrolling
    assert page.evaluate("getComputedStyle(document.body).overflow") == "hidden"
    page.screenshot(path=str(artifacts / "bigscreen-1920x1080.png"))
