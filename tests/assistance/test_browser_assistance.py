"""One application from the grid worker's mobile report to the first payment, in headless Chromium."""
import base64
import datetime as dt

import pytest
from playwright.sync_api import expect
from django.utils import timezone

from carenet.assistance import models as m
from carenet.assistance import adapter, services
from carenet.core.roles import Role
from tests.browser.conftest import browser_page, login  # noqa: F401  (the shared Chromium fixture)
from tests.factories import ResidentFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# a 1x1 PNG, as a phone camera would send a JPEG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def logout(page):
    page.locator("form[action$='/logout/'] button").click()
    page.wait_for_url("**/login/")


def act(page, base, case, action, fill=None):
    page.goto(f"{base}/assistance/cases/{case.pk}/{action}/")
    for selector, value in (fill or {}).items():
        page.fill(selector, value)
    invalid = page.evaluate("Array.from(document.querySelectorAll('form :invalid')).map(e => e.name)")
    assert not invalid, (action, invalid)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("[data-testid=action-confirm]")
    assert posted.value.status in (302, 400, 403, 409), posted.value.status
    page.wait_for_load_state()
    errors = page.locator("[data-testid=action-error], .invalid-feedback, .alert-danger").all_inner_texts()
    assert page.url == f"{base}/assistance/cases/{case.pk}/", (action, errors, page.inner_text("body")[:600])


def test_mobile_report_to_first_payment(area, live_server, browser_page, artifacts, monkeypatch, settings, tmp_path):  # noqa: F811
    settings.VAR_DIR = tmp_path  # uploaded photos go to tmp_path/media
    services.seed_default_standards(area.district)
    UserFactory(username="approver1", role=Role.APPROVER, division=area.district)
    applicant = ResidentFactory(division=area.comm_a, name="王小明", birth_date=dt.date(1972, 4, 9))
    page, base = browser_page, live_server.url
    page.set_default_timeout(10000)

    # 1. the grid worker reports from a phone: search the person, photo from the camera, location
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": 30.5312, "longitude": 117.0587})
    login(page, base, "worker_a", landing="/")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/assistance/report/")
    page.click("[data-testid=geo-button]")
    expect(page.locator("#id_lat")).not_to_have_value("")  # no string predicate: the CSP forbids eval
    page.fill("[data-testid=report-search]", "王小")
    page.locator("[data-testid=resident-choice]").first.click()
    assert "王小明" in page.locator("[data-testid=chosen]").inner_text()
    page.select_option("#id_route", "dibao_urban")
    page.fill("#id_description", "走访发现：下岗失业，独自抚养，家庭收入很低")
    page.set_input_files("#id_photos", files=[{"name": "home.png", "mimeType": "image/png", "buffer": PNG}])
    assert page.locator("#id_photos").get_attribute("capture") == "environment"
    page.screenshot(path=str(artifacts / "assistance-1-mobile-report.png"), full_page=True)
    page.click("[data-testid=report-submit]")
    page.wait_for_selector("[data-testid=report-done]")
    page.screenshot(path=str(artifacts / "assistance-2-mobile-reported.png"), full_page=True)
    assert m.GridReport.objects.get().status == "new" and not m.Case.objects.exists()

    # 2. the community accepts the report as an application (受理)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(base + "/assistance/reports/")
    assert page.locator("[data-testid=report-card]").count() == 1
    page.screenshot(path=str(artifacts / "assistance-2b-report-queue.png"), full_page=True)
    page.click("[data-testid=report-accept]")
    page.wait_for_url("**/assistance/cases/*/")
    case = m.Case.objects.get()
    assert (case.channel, case.state, case.applicant_id) == ("grid", "accepted", applicant.pk)
    assert case.location_lat == pytest.approx(30.5312) and case.photos.count() == 1
    assert (tmp_path / "media" / case.photos.get().file.name).read_bytes() == PNG

    # 3. home visit by the worker (入户调查) with the household's income and assets
    act(page, base, case, "survey", {"#id_visitors": "网格员甲、社区专干乙", "#id_notes": "家中陈设简陋，无大额财产",
                                     "#id_wage_income": "300", "#id_deposits": "2000",
                                     "#id_bank_account": "6228480012345678901"})
    assert page.locator("[data-testid=report-photo]").count() == 1
    logout(page)

    # 4. township review and public notice
    login(page, base, "reviewer1", landing="/")
    act(page, base, case, "review", {"#id_opinion": "情况属实，同意上报"})
    act(page, base, case, "start_notice")
    case.refresh_from_db()
    assert case.state == "in_notice" and case.notice_ends_on > services.today()
    page.goto(base + "/assistance/notice/")
    assert "王*明" in page.locator("[data-testid=notice-table]").inner_text()
    assert "王小明" not in page.locator("[data-testid=notice-table]").inner_text()
    page.screenshot(path=str(artifacts / "assistance-3-public-notice.png"), full_page=True)
    # the notice period passes: move the service clock to the day after it ends
    after = timezone.make_aware(dt.datetime.combine(case.notice_ends_on + dt.timedelta(days=1), dt.time(9)))
    monkeypatch.setattr(adapter, "now", lambda: after)
    act(page, base, case, "submit")
    logout(page)

    # 5. a different user approves (the reviewer could not)
    login(page, base, "approver1", landing="/")
    act(page, base, case, "approve", {"#id_opinion": "同意"})
    case.refresh_from_db()
    assert case.state == "approved"
    assert page.locator("[data-testid=case-state]").inner_text().strip() != ""
    assert "300.00" in page.locator("[data-testid=explanation]").inner_text()
    page.screenshot(path=str(artifacts / "assistance-4-approved-case.png"), full_page=True)
    ent = case.entitlement
    assert ent.start_month > case.history.get(action="approve").at.date().replace(day=1)

    # 6. the monthly payroll runs as a background job; the page polls its progress
    page.goto(base + "/assistance/payroll/")
    page.fill("#id_run_month", ent.start_month.strftime("%Y-%m"))
    page.select_option("#id_program", "*")
    page.select_option("#id_area", str(area.district.pk))
    page.click("[data-testid=payroll-start]")
    page.wait_for_selector("[data-testid=run-progress][data-status=done]", timeout=20000)
    page.screenshot(path=str(artifacts / "assistance-5-payroll-run.png"), full_page=True)
    run = m.PayrollRun.objects.get()
    assert run.status == "done" and run.lines == 1 and run.total == case.monthly_amount

    # 7. the ledger shows the first payment; the case is now paying
    page.click("[data-testid=to-ledger]")
    rows = page.locator("[data-testid=ledger-row]")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert "王小明" in text and str(case.monthly_amount) in text
    page.screenshot(path=str(artifacts / "assistance-6-ledger.png"), full_page=True)
    case.refresh_from_db()
    assert case.state == "paying"
    assert [h.action for h in case.history.all()] == ["accept", "survey", "review", "start_notice", "submit",
                                                      "approve", "start_payment"]
