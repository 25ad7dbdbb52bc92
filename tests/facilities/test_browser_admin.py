"""Browser, desktop and a 390 px phone: the district adds a dated subsidy rule; a street edits a staff record;
the call center takes a complaint and the street routes, answers and closes it. No horizontal scrolling at 390 px."""
import pytest
from django.utils import timezone

from carenet.facilities import models as m
from carenet.facilities import services
from tests.browser.conftest import browser_page, login  # noqa: F401 (fixture)
from tests.facilities.helpers import make_facility, setup_rules

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", [1366, 390])
def test_rules_staff_and_complaints_pages(area, live_server, browser_page, artifacts, width):
    setup_rules(area)
    fac = make_facility(area, division=area.comm_a, name="甲社区养老服务站")
    staff = services.add_staff(area.reviewer, fac, name="李护理", role="caregiver", training_hours=8)
    page, url = browser_page, live_server.url
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})

    login(page, url, "approver1")
    page.goto(url + "/facilities/subsidy-rules/")
    page.select_option("[name=facility_type]", "station")
    page.fill("[name=cap]", "90000")
    page.fill("[name=source]", "区民政局〔2026〕9号")
    page.click("[data-testid=rule-save]")
    page.wait_for_selector("text=规则已保存")
    assert "90000" in page.locator("[data-testid=in-force]").inner_text()
    no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"facilities-subsidy-rules-{width}.png"), full_page=True)

    login(page, url, "reviewer1")
    page.goto(f"{url}/facilities/{fac.pk}/")
    page.click(f"[data-testid=staff-edit-{staff.pk}]")
    page.select_option("[name=role]", "nurse")
    page.fill("[name=certificates]", "护士执业证书")
    page.fill("[name=training_hours]", "48")
    no_sideways_scroll(page)
    page.click("[data-testid=staff-save]")
    page.wait_for_url(f"{url}/facilities/{fac.pk}/")
    staff.refresh_from_db()
    assert (staff.role, staff.training_hours) == ("nurse", 48)

    login(page, url, "operator1")
    page.goto(url + "/facilities/complaints/")
    page.click("summary")
    page.select_option("[name=facility]", str(fac.pk))
    page.select_option("[name=category]", "food")
    page.fill("[name=complainant]", "张女士")
    page.fill("[name=phone]", "13912345678")
    page.fill("[name=summary]", "午餐饭菜偏咸，老人反映多次")
    page.click("[data-testid=complaint-save]")
    page.wait_for_selector("[data-testid=complaint-status]")
    assert page.locator("[data-testid=complaint-status]").inner_text().strip() == "已受理"
    assert "139****5678" in page.content()
    no_sideways_scroll(page)

    login(page, url, "reviewer1")
    c = m.Complaint.objects.get()
    page.goto(f"{url}/facilities/complaints/{c.pk}/")
    page.fill("[name=handler]", "街道民政办")
    page.click("[data-testid=route]")
    page.wait_for_selector("[data-testid=answer]")
    page.fill("[name=reply]", "已约谈厨师，调整菜品口味，下周回访")
    page.click("[data-testid=answer]")
    page.wait_for_selector("[data-testid=close]")
    page.fill("[data-testid=close-form] [name=note]", "投诉人表示满意")
    page.click("[data-testid=close]")
    page.wait_for_selector("[data-testid=complaint-status]:has-text('已办结')")
    assert len(page.locator("[data-testid=complaint-steps] li").all()) == 4
    no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"facilities-complaint-{width}.png"), full_page=True)
    c.refresh_from_db()
    assert c.status == "closed" and c.due and c.due > timezone.localdate()
