"""In the browser: load a deaths file; a finding appears for a paid beneficiary; the approver confirms it; the
recovery line shows in the ledger and the case asks for a stop decision."""
import datetime as dt

import pytest

from carenet.core import pii
from carenet.matching import models as m
from carenet.matching import services
from tests.assistance.test_browser_assistance import login, logout
from tests.browser.conftest import browser_page  # noqa: F401
from tests.matching.test_flow import aa, clock, paying_case  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_deaths_file_to_finding_to_recovery_and_stop_decision(aa, clock, live_server, browser_page, artifacts,
                                                              tmp_path):
    case = paying_case(aa, clock, months=3)
    clock.at = None
    src = services.create_source(aa.admin, name="公安死亡名单", kind=m.Kind.DEATHS, department="公安",
                                 division=aa.district)
    death = case.entitlement.start_month + dt.timedelta(days=3)
    f = tmp_path / "死亡名单.csv"
    f.write_bytes(f"死者姓名,身份证号码,火化日期\n王小明,{pii.decrypt(aa.applicant.id_number_enc)},{death}\n"
                  .encode("gbk"))
    page, base = browser_page, live_server.url

    login(page, base, "admin1")
    page.goto(base + "/matching/")
    page.set_input_files(f"[data-testid=file-{src.pk}]", str(f))
    page.click(f"[data-testid=upload-{src.pk}]")
    page.wait_for_url("**/matching/loads/*/")
    assert "王小明" in page.locator("[data-testid=records]").inner_text()
    page.screenshot(path=str(artifacts / "matching-load.png"), full_page=True)
    page.goto(base + "/matching/findings/")
    row = page.locator("[data-testid=finding-row]")
    assert row.count() == 1 and "死亡后仍在发放" in row.inner_text() and "王小明" in row.inner_text()
    logout(page)

    login(page, base, "approver1")
    page.goto(base + "/matching/findings/")
    page.locator("[data-testid=finding-row] a").first.click()
    page.fill("[data-testid=reason]", "火化证明属实，死亡后多发两个月")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=recovery]")
    assert page.locator("[data-testid=finding-status]").inner_text() == "已确认"
    assert "已暂停发放" in page.locator("[data-testid=hold]").inner_text()  # held until the stop decision
    page.screenshot(path=str(artifacts / "matching-finding-confirmed.png"), full_page=True)

    page.goto(base + "/assistance/ledger/?kind=recovery")
    rows = page.locator("[data-testid=ledger-row]")
    assert rows.count() == 2 and "追回" in rows.first.inner_text() and "-" in rows.first.inner_text()
    page.screenshot(path=str(artifacts / "matching-ledger-recovery.png"), full_page=True)

    page.goto(base + f"/assistance/cases/{case.pk}/")
    assert page.locator("[data-testid=case-state]").inner_text().startswith("复核")
    assert page.locator("[data-testid=action-stop]").count() == 1
    assert "民生监察" in page.locator("[data-testid=history]").inner_text()
    page.screenshot(path=str(artifacts / "matching-case-stop.png"), full_page=True)
