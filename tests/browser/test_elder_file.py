import pytest
from playwright.sync_api import expect

from carenet.core.models import AuditLog
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_search_and_open_an_elder_file(area, live_server, browser_page, artifacts):
    page = browser_page
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "worker_a")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.screenshot(path=str(artifacts / "foundation-dashboard.png"), full_page=True)

    page.goto(live_server.url + "/people/elders/")
    page.fill("[data-testid=search-q]", "甲")
    page.click("[data-testid=search-submit]")
    links = page.locator("[data-testid=elder-link]")
    assert links.count() == 1
    page.screenshot(path=str(artifacts / "foundation-elder-list.png"), full_page=True)
    links.first.click()
    assert page.locator("[data-testid=elder-name]").inner_text().startswith("甲老人")
    assert "高血压" in page.locator("[data-testid=health-archive]").inner_text()
    masked = page.locator("[data-testid=id-number]").inner_text()
    assert "*" in masked
    page.click("[data-testid=reveal-id]")
    expect(page.locator("#id-number")).not_to_contain_text("*")  # no string predicate: the CSP forbids eval
    assert page.locator("#id-number").inner_text() == area.elder_a.resident.id_number
    page.screenshot(path=str(artifacts / "foundation-elder-file.png"), full_page=True)
    assert AuditLog.objects.filter(action="view_id", actor=area.worker_a).count() == 1
    assert AuditLog.objects.filter(action="view_health", actor=area.worker_a).count() >= 1
