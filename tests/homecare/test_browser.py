"""The issue's browser tests, in headless Chromium: an operator orders a service from an SOS screen pop; the
helper, on a 390 px phone, accepts it, checks in inside the geofence with a photo (the check-in made offline
and sent when the connection returns), and checks out; the service is confirmed and appears in the settlement
and on the KPI page. A second test checks in outside the geofence and shows the anomaly to the supervisor."""
import datetime as dt
import io

import pytest
from django.utils import timezone

from carenet.homecare import models as m
from tests.browser.conftest import browser_page, login  # noqa: F401  (the shared Chromium fixture)
from tests.callcenter.conftest import make_alarm
from tests.homecare.conftest import HOME

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def photo_bytes(color="navy"):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(img).rectangle((50, 50, 300, 250), fill=color)
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    return buf.getvalue()


def wait_state(page, label):
    try:
        # a selector wait, not wait_for_function: the Content-Security-Policy refuses eval
        page.wait_for_selector(f"#hc-state:text-is('{label}')", timeout=30000)
    except Exception:
        raise AssertionError(page.inner_text("[data-testid=phone-msg]") + " / " + page.inner_text("#hc-state")) from None


def order_from_screen_pop(page, base, hc, artifacts, prefix):
    alarm = make_alarm(hc.area.elder_a, "sos")
    login(page, base, hc.area.operator.username)
    page.goto(f"{base}/callcenter/alarms/{alarm.pk}/")
    page.click("[data-testid=pop-homecare-order]")
    page.wait_for_selector("[data-testid=order-form]")
    assert "200.00" in page.inner_text("[data-testid=balance-explain]")
    page.select_option("#id_service_type", str(hc.bath.pk))
    page.fill("#id_scheduled_at", timezone.localtime(hc.soon).strftime("%Y-%m-%dT%H:%M"))
    page.screenshot(path=str(artifacts / f"{prefix}-1-order-from-screen-pop.png"), full_page=True)
    page.click("[data-testid=order-submit]")
    page.wait_for_selector("[data-testid=order-state]")
    o = m.Order.objects.get()
    assert (o.channel, o.alarm_id, o.helper_id, o.state) == ("screen_pop", alarm.pk, hc.helper.pk, "assigned")
    assert "李助老" in page.inner_text("[data-testid=order-helper]")
    return o


def test_screen_pop_order_to_phone_visit_to_settlement_and_kpis(hc, live_server, browser_page, artifacts):
    page, base = browser_page, live_server.url
    page.set_default_timeout(15000)
    o = order_from_screen_pop(page, base, hc, artifacts, "homecare")

    # the helper's phone, at the elder's door
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": HOME[0] + 0.0002, "longitude": HOME[1] + 0.0001})
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, base, hc.area.helper.username)
    page.goto(base + "/homecare/m/")
    assert page.locator("[data-testid=task-card]").count() == 1
    page.screenshot(path=str(artifacts / "homecare-2-phone-tasks.png"), full_page=True)
    page.click("[data-testid=task-card]")
    page.wait_for_selector("[data-testid=act-accept]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on the phone
    page.click("[data-testid=act-accept]")
    wait_state(page, "已接单")
    # the connection drops at the door: the check-in is kept on the phone with its own time
    page.context.set_offline(True)
    page.set_input_files("[data-testid=checkin-photo]", files=[{"name": "door.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}])
    tapped = timezone.now()
    page.click("[data-testid=act-checkin]")
    page.wait_for_selector("[data-testid=queue-banner]:not(.d-none)")
    page.screenshot(path=str(artifacts / "homecare-3-phone-offline-checkin.png"), full_page=True)
    o.refresh_from_db()
    assert o.state == "accepted"  # nothing reached the server yet
    page.wait_for_timeout(1500)   # the helper works on; the step stays queued with its original time
    page.context.set_offline(False)
    page.wait_for_selector("[data-testid=queue-banner].d-none", state="attached")
    wait_state(page, "已签到")
    o.refresh_from_db()
    assert o.state == "checked_in" and abs((o.checked_in_at - tapped).total_seconds()) < 1.5
    assert (o.checked_in_received - o.checked_in_at).total_seconds() >= 1.0  # sent later, kept its time
    assert o.check_in_distance_m < 50 and o.photos.count() == 1
    page.fill("[data-testid=checkout-record]", "协助洗澡、更衣，检查皮肤无破损，老人精神好")
    page.fill("[data-testid=checkout-confirmer]", "甲老人本人")
    page.select_option("[data-testid=checkout-rating]", "5")
    # a real visit lasts 45 minutes at least: move the check-in back so the test need not wait
    m.Order.objects.filter(pk=o.pk).update(checked_in_at=o.checked_in_at - dt.timedelta(minutes=50))
    page.click("[data-testid=act-checkout]")
    wait_state(page, "已评价")
    assert page.locator("[data-testid=phone-done]:not(.d-none)").count() == 1
    page.screenshot(path=str(artifacts / "homecare-4-phone-checked-out.png"), full_page=True)
    o.refresh_from_db()
    assert o.state == "rated" and o.confirmed_by == "甲老人本人" and not o.anomalies.exists()
    assert all(o.evv.values())  # the six EVV elements are all there

    # the month is settled: the order is a line of the provider's statement
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, base, hc.area.admin.username)
    page.goto(base + "/homecare/settlement/")
    page.click("[data-testid=settle-start]")
    page.wait_for_selector("[data-testid=run-progress][data-status=done]")
    page.goto(page.url)
    row = page.locator("[data-testid=statement-row]")
    assert row.count() == 1 and "安康居家服务社" in row.inner_text() and "60.00" in row.inner_text()
    page.screenshot(path=str(artifacts / "homecare-5-settlement.png"), full_page=True)
    with page.expect_download() as dl:
        page.click("[data-testid=statement-all]")
    from openpyxl import load_workbook
    ws = load_workbook(io.BytesIO(open(dl.value.path(), "rb").read())).active
    assert any(r[3] == o.pk and r[2] == "通过" for r in ws.iter_rows(values_only=True))

    # and on the call center's KPI page, as a door-to-door service
    login(page, base, hc.area.operator.username)
    page.goto(base + "/callcenter/kpis/")
    assert page.inner_text("[data-testid=kpi-offline]").strip() == "1"
    page.screenshot(path=str(artifacts / "homecare-6-kpis.png"), full_page=True)


def test_check_in_outside_the_geofence_is_shown_to_the_supervisor(hc, live_server, browser_page, artifacts):
    page, base = browser_page, live_server.url
    page.set_default_timeout(15000)
    o = order_from_screen_pop(page, base, hc, artifacts, "homecare-geofence")
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": HOME[0] + 0.01, "longitude": HOME[1]})  # about 1.1 km away
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, base, hc.area.helper.username)
    page.goto(f"{base}/homecare/m/{o.pk}/")
    page.click("[data-testid=act-accept]")
    wait_state(page, "已接单")
    page.set_input_files("[data-testid=checkin-photo]", files=[{"name": "door.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes("darkgreen")}])
    page.click("[data-testid=act-checkin]")
    wait_state(page, "已签到")
    m.Order.objects.filter(pk=o.pk).update(checked_in_at=timezone.now() - dt.timedelta(minutes=60))
    page.fill("[data-testid=checkout-record]", "助浴完成")
    page.click("[data-testid=act-checkout]")
    wait_state(page, "已签退")
    assert "围栏" in page.inner_text("[data-testid=phone-msg]")
    login(page, base, hc.area.supervisor.username)
    page.goto(base + "/homecare/anomalies/")
    rows = page.locator("[data-testid=anomaly-row][data-kind=outside_geofence]")
    assert rows.count() == 1 and "超出 200 米" in rows.inner_text() and "李助老" in rows.inner_text()
    assert page.locator("form[action*=decide]").count() == 0  # the supervisor reads; deciding is the district's
    page.screenshot(path=str(artifacts / "homecare-7-supervisor-anomalies.png"), full_page=True)
