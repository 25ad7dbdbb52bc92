"""In headless Chromium: an elder applies from a 390 px phone and the department completes it; a community
request goes through all seven steps and the public 晒单 page shows it with masked names."""
import io

import pytest
from PIL import Image

from carenet.civic import models as m
from carenet.civic import services
from tests.browser.conftest import browser_page  # noqa: F401  (the shared Chromium fixture)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 110, 140)).save(buf, "JPEG")
    return buf.getvalue()


def staff_login(page, base, username):
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def staff_logout(page):
    page.locator("form[action$='/logout/'] button").click()
    page.wait_for_url("**/login/")


def home_login(page, base, phone, code):
    page.goto(base + "/civic/home/login/")
    page.fill("#id_phone", phone)
    page.fill("#id_code", code)
    page.click("[data-testid=home-login-submit]")
    page.wait_for_url(base + "/civic/home/")


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_elder_applies_from_a_phone_and_the_department_completes_it(area, catalogue, media, live_server,
                                                                    browser_page, artifacts):
    page, base = browser_page, live_server.url
    page.set_default_timeout(10000)
    elder = area.elder_a.resident
    code = services.issue_home_access(area.worker_a, elder)
    item = catalogue["残疾人证换领"]

    # 1. the elder, on a 390 px phone: sign in, pick the item, fill its fields, photograph the old card
    page.set_viewport_size({"width": 390, "height": 844})
    home_login(page, base, elder.phone, code)
    page.click("[data-testid=home-new]")
    page.fill("[data-testid=item-search]", "残疾人证")
    page.press("[data-testid=item-search]", "Enter")
    page.click(f"[data-testid=item-{item.code}]")
    assert "残疾人证换领" in page.inner_text("[data-testid=apply-title]") and fits(page)
    page.screenshot(path=str(artifacts / "civic-1-phone-item.png"), full_page=True)
    page.click("[data-testid=apply-submit]")  # nothing filled: clear errors, nothing saved
    assert page.locator("#id_f_card_no:invalid").count() == 1 and not m.ServiceRequest.objects.exists()
    page.fill("#id_f_card_no", "34080219500304123442")
    page.select_option("#id_f_delivery", "送证上门")
    page.set_input_files("#id_photos", files=[{"name": "card.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    assert page.locator("#id_photos").get_attribute("capture") == "environment"
    page.screenshot(path=str(artifacts / "civic-2-phone-filled.png"), full_page=True)
    page.click("[data-testid=apply-submit]")
    page.wait_for_selector("[data-testid=home-status]")
    req = m.ServiceRequest.objects.get()
    assert req.channel == "home" and req.attachments.count() == 1 and req.answers["delivery"] == "送证上门"
    assert fits(page)
    page.screenshot(path=str(artifacts / "civic-3-phone-submitted.png"), full_page=True)
    page.locator("form[action$='/civic/home/logout/'] button").click()

    # 2. the department (the township reviewer) routes it and completes it
    page.set_viewport_size({"width": 1366, "height": 900})
    staff_login(page, base, "reviewer1")
    page.goto(base + "/civic/?queue=new")
    page.click(f"text={req.number}")
    page.click("[data-testid=btn-route]")
    page.fill("[data-testid=act-complete] input[name=note]", "新证已制作，网格员明天送证上门")
    page.click("[data-testid=btn-complete]")
    page.wait_for_selector("[data-testid=outcome]")
    page.screenshot(path=str(artifacts / "civic-4-department-done.png"), full_page=True)
    req.refresh_from_db()
    assert req.state == "done" and m.CivicNotification.objects.filter(request=req).count() == 3
    staff_logout(page)

    # 3. the elder sees it is done and rates it
    page.set_viewport_size({"width": 390, "height": 844})
    home_login(page, base, elder.phone, code)
    page.click("[data-testid=home-request]")
    assert "新证已制作" in page.inner_text("[data-testid=home-status]")
    page.click("[data-testid=score-4]")
    page.click("[data-testid=rate-submit]")
    page.wait_for_selector("[data-testid=message]")
    assert fits(page)
    page.screenshot(path=str(artifacts / "civic-5-phone-rated.png"), full_page=True)
    req.refresh_from_db()
    assert req.state == "rated" and req.score == 4


def test_community_request_through_all_seven_steps_and_the_public_page(area, live_server, browser_page, artifacts):
    page, base = browser_page, live_server.url
    page.set_default_timeout(10000)

    def step(action, fill=None):
        for selector, value in (fill or {}).items():
            page.fill(f"[data-testid=form-{action}] {selector}", value)
        page.click(f"[data-testid=btn-{action}]")
        page.wait_for_load_state()
        errors = page.locator(".alert-danger").all_inner_texts()
        assert not errors, (action, errors)

    # 收单 by the community worker
    staff_login(page, base, "worker_a")
    page.goto(base + "/civic/community/new/")
    page.select_option("#id_division", str(area.comm_a.pk))
    page.select_option("#id_category", "light")
    page.fill("#id_title", "3号楼路灯不亮")
    page.fill("#id_description", "居民王小明（电话13812345678）反映3号楼到5号楼的路灯坏了一个多月")
    page.fill("#id_reporter_name", "王小明")
    page.fill("#id_reporter_phone", "13812345678")
    page.click("[data-testid=community-submit]")
    page.wait_for_selector("[data-testid=community-state]")
    req = m.CommunityRequest.objects.get()
    step("screen")                                                     # 筛单
    step("draft_plan", {"textarea[name=plan]": "更换LED路灯2盏", "input[name=cost]": "1800",
                        "input[name=owner]": "甲社区居委会"})              # 制单
    step("to_council")                                                 # 议单
    step("decide", {"input[name=yes]": "7", "input[name=no]": "1"})
    page.screenshot(path=str(artifacts / "civic-6-council-vote.png"), full_page=True)
    step("revise", {"textarea[name=plan]": "更换LED路灯2盏，加装声控开关"})   # 修单
    staff_logout(page)

    # 晒单 by the township, with an answer drafted first and published later
    staff_login(page, base, "reviewer1")
    page.goto(f"{base}/civic/community/{req.pk}/")
    step("publish")
    page.fill("[data-testid=answer-text]", "感谢王小明的反映，已安排更换。")
    page.click("[data-testid=answer-draft]")
    page.wait_for_load_state()
    req.refresh_from_db()
    assert req.state == "published" and req.answer == "" and req.answer_draft
    page.click("[data-testid=answer-publish]")
    page.wait_for_selector("[data-testid=answer-published]")
    staff_logout(page)

    # 落单 by the community worker, and the resident's confirmation
    staff_login(page, base, "worker_a")
    page.goto(f"{base}/civic/community/{req.pk}/")
    step("start_delivery")
    step("progress", {"input[name=note]": "灯具已采购，王小明家门口先换"})
    step("complete", {"input[name=result]": "两盏路灯已更换并验收"})
    step("confirm", {"input[name=confirmed_by]": "上门回访，王小明确认"})
    page.screenshot(path=str(artifacts / "civic-7-seven-steps-done.png"), full_page=True)
    req.refresh_from_db()
    assert req.state == "closed"
    assert [e.action for e in req.events.all()] == ["receive", "screen", "draft_plan", "to_council", "decide",
                                                    "revise", "publish", "start_delivery", "progress", "complete",
                                                    "confirm"]
    staff_logout(page)

    # the public page (no login), on a phone: masked name and phone, plan, vote, answer, progress, result
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/civic/public/")
    page.click("[data-testid=public-card]")
    page.wait_for_selector("[data-testid=public-title]")
    text = page.inner_text("main")
    assert "王小明" not in text and "13812345678" not in text
    assert "王**" in page.inner_text("[data-testid=public-reporter]")
    assert "138****5678" in page.inner_text("[data-testid=public-description]")
    assert "感谢王**的反映" in page.inner_text("[data-testid=public-answer]")
    assert "两盏路灯已更换" in page.inner_text("[data-testid=public-result]") and fits(page)
    page.screenshot(path=str(artifacts / "civic-8-public-page.png"), full_page=True)
