"""End-to-end in headless Chromium: the public page on a phone, and the staff search."""

from __future__ import annotations

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def policy_index(settings, small_index):
    from carenet.policy import runtime

    settings.POLICY_INDEX_DIR = str(small_index["dir"])
    runtime.reset()
    yield
    runtime.reset()


@pytest.fixture
def phone_and_desktop(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                    has_touch=True, device_scale_factor=2)
        desktop = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        yield phone.new_page(), desktop.new_page()
        browser.close()


def test_public_page_on_a_phone_and_staff_search(live_server, policy_index, phone_and_desktop, artifacts):
    from carenet.core.models import User
    from carenet.core.roles import Role
    from carenet.policy.models import QAPair
    from carenet.policy.starter import load_starter_into

    load_starter_into(QAPair)
    phone, desktop = phone_and_desktop

    phone.goto(live_server.url + "/policy/")
    phone.fill("#q", "申请低保要到哪里去办")
    phone.click("button[type=submit]")
    answer = phone.locator("[data-testid=answer]")
    answer.wait_for()
    assert "乡镇人民政府" in answer.inner_text()
    # large type: the answer text is at least 20 px on a phone
    size = phone.eval_on_selector("[data-testid=answer] .lead-answer", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 20
    # nothing overflows the phone's width
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(artifacts / "policy-public-phone.png"), full_page=True)

    User.objects.create_user(username="approver_p", password="pw-123456", role=Role.APPROVER)
    desktop.goto(live_server.url + "/login/")
    desktop.fill("#id_username", "approver_p")
    desktop.fill("#id_password", "pw-123456")
    desktop.click("button[type=submit]")
    desktop.wait_for_url(live_server.url + "/")
    desktop.goto(live_server.url + "/policy/staff/?q=老年人权益保障&level=local")
    hits = desktop.locator("[data-testid=hit]")
    assert hits.count() > 0
    assert all("地方" in t for t in hits.all_inner_texts())
    desktop.screenshot(path=str(artifacts / "policy-staff-search.png"), full_page=True)
