"""In the browser: a department file with an unknown header goes through the mapping screen; the disaster loss
it carries raises a risk alert that the community worker visits and closes; a discovery screen lists a household
whose members are all severely disabled, and the worker records the visit, the plan and a measure."""
import datetime as dt

import pytest

from carenet.core import pii
from carenet.matching import models as m
from carenet.matching import services
from carenet.people.models import Household
from tests.assistance.test_browser_assistance import login, logout
from tests.browser.conftest import browser_page  # noqa: F401
from tests.factories import ResidentFactory
from tests.matching.test_flow import aa, clock  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_mapping_screen_risk_alert_follow_up_and_discovery_plan(aa, live_server, browser_page, artifacts, tmp_path):
    hh = Household.objects.create(division=aa.comm_a, address="甲社区8号")
    head = ResidentFactory(division=aa.comm_a, name="冯大", household=hh, relation="head", birth_date=dt.date(1970, 1, 1))
    wife = ResidentFactory(division=aa.comm_a, name="冯妻", household=hh, relation="spouse", birth_date=dt.date(1972, 1, 1))
    src = services.create_source(aa.admin, name="应急受灾登记", kind=m.Kind.DISASTER, department="应急",
                                 division=aa.district)
    f = tmp_path / "受灾.csv"
    f.write_bytes(f"姓名,身份证号,灾种,灾损折款\n冯大,{pii.decrypt(head.id_number_enc)},洪涝,42000\n".encode("gbk"))
    page, base = browser_page, live_server.url

    login(page, base, "admin1")
    page.goto(base + "/matching/")
    page.set_input_files(f"[data-testid=file-{src.pk}]", str(f))
    page.click(f"[data-testid=upload-{src.pk}]")
    page.wait_for_selector("[data-testid=mapping]")
    assert "损失金额" in page.locator("body").inner_text()
    page.screenshot(path=str(artifacts / "matching-mapping.png"), full_page=True)
    page.select_option("[data-testid=map-3]", "loss")
    page.click("[data-testid=mapping-save]")
    page.wait_for_url("**/matching/loads/*/")
    assert m.RiskAlert.objects.count() == 1

    cl = services.create_source(aa.admin, name="残联残疾人名册", kind=m.Kind.DISABILITY, department="残联",
                                division=aa.district)
    services.load_file(aa.admin, cl, (f"姓名,身份证号,残疾等级,残疾类别\n冯大,{pii.decrypt(head.id_number_enc)},一级,肢体\n"
                                      f"冯妻,{pii.decrypt(wife.id_number_enc)},二级,视力\n").encode(), "cl.csv")
    page.goto(base + "/matching/screens/")
    page.click("[data-testid=run-all_disabled]")
    page.wait_for_selector("[data-testid=discovery-row]")
    assert "冯妻：视力残疾2级" in page.locator("[data-testid=discoveries]").inner_text()
    logout(page)

    login(page, base, "worker_a")
    page.goto(base + "/")
    page.goto(base + "/matching/risk/")
    row = page.locator("[data-testid=alert-row]")
    assert row.count() == 1 and "因灾" in row.inner_text() and "42000" in row.inner_text()
    page.screenshot(path=str(artifacts / "matching-risk-list.png"), full_page=True)
    row.locator("a").click()
    page.wait_for_selector("[data-testid=alert-reasons]")
    page.fill("[data-testid=visit-notes]", "房屋受损，已投亲靠友，生活暂可维持")
    page.click("[data-testid=record-visit]")
    page.wait_for_selector("[data-testid=alert-status]:has-text('已走访')")
    page.fill("[data-testid=no-need-reason]", "保险已理赔，收入稳定")
    page.click("[data-testid=no-need]")
    page.wait_for_selector("[data-testid=alert-outcome]")
    assert page.locator("[data-testid=alert-status]").inner_text() == "无需帮扶"
    page.screenshot(path=str(artifacts / "matching-alert-closed.png"), full_page=True)

    page.goto(base + "/matching/screens/")
    assert page.locator("[data-testid=run-all_disabled]").count() == 0  # the worker follows up, does not screen
    page.locator("[data-testid=discovery-row] a").first.click()
    page.fill("[data-testid=visit-notes]", "夫妻均重度残疾，无人照料")
    page.click("[data-testid=record-visit]")
    page.wait_for_selector("[data-testid=plan-text]")
    page.fill("[data-testid=plan-text]", "申请特困供养；落实重度残疾人护理补贴；每周探访")
    page.click("[data-testid=save-plan]")
    page.wait_for_selector("[data-testid=step-measure]")
    page.fill("[data-testid=step-measure]", "申请特困供养")
    page.fill("[data-testid=step-owner]", "甲社区网格员")
    page.click("[data-testid=add-step]")
    page.wait_for_selector("[data-testid=plan-step]")
    page.select_option("[data-testid=plan-step] select", "done")
    page.click("[data-testid=step-save]")
    page.wait_for_selector("[data-testid=discovery-status]:has-text('方案已完成')")
    page.screenshot(path=str(artifacts / "matching-discovery-plan.png"), full_page=True)
