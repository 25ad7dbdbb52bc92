"""The registry pages in headless Chromium, at desktop width and on a 390 px phone: the district administrator
adds a provider with its areas and contract, sets its price list, adds a helper with skills and hours, and adds a
service type (a wrong duration range is refused in Chinese first). Screenshots go to the artifacts folder."""
import datetime as dt

import pytest

from carenet.homecare import models as m
from carenet.homecare import services
from tests.browser.conftest import browser_page  # noqa: F401  (the shared Chromium fixture)
from tests.homecare.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page, selector, width):
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (selector, box)


@pytest.mark.parametrize("width", [1366, 390])
def test_admin_manages_providers_helpers_and_service_types(hc, live_server, browser_page, artifacts, width):
    page, base = browser_page, live_server.url
    page.set_viewport_size({"width": width, "height": 900})
    tag = "desktop" if width > 400 else "phone"
    login(page, base, hc.area.admin.username)

    # a provider: registered in the district, covering community A, with a contract period
    page.goto(base + "/homecare/providers/")
    fits(page, "[data-testid=new-provider]", width)
    page.click("[data-testid=new-provider]")
    page.fill("#id_name", f"康乐为老服务社{tag}")
    page.select_option("#id_division", str(hc.area.district.pk))
    page.select_option("#id_areas", [str(hc.area.comm_a.pk)])
    page.fill("#id_contract_start", "2026-01-01")
    page.fill("#id_contract_end", "2027-12-31")
    fits(page, "[data-testid=save]", width)
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=price-form]")
    p = m.Provider.objects.get(name=f"康乐为老服务社{tag}")
    assert list(p.areas.all()) == [hc.area.comm_a] and p.contract_end == dt.date(2027, 12, 31)
    # its price list: 助浴 at a contracted 55 yuan
    page.fill(f"[data-testid=price-{hc.bath.code}]", "55")
    page.click("[data-testid=save-prices]")
    page.wait_for_selector(".alert-success")
    assert services.price_of(p, hc.bath) == 55
    page.screenshot(path=str(artifacts / f"homecare-manage-provider-{tag}.png"), full_page=True)

    # a helper of that provider, with a skill, certificates, area and hours
    page.goto(f"{base}/homecare/helpers/new/?provider={p.pk}")
    page.fill("#id_name", f"赵助老{tag}")
    page.fill("#id_phone", "13900000001")
    page.check(f"input[name=skills][value='{hc.bath.pk}']")
    page.fill("#id_certificates", "养老护理员（四级）")
    page.select_option("#id_division", str(hc.area.comm_a.pk))
    page.fill("#id_work_start", "08:00")
    page.fill("#id_work_end", "17:30")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=helper-table]")
    h = m.Helper.objects.get(name=f"赵助老{tag}")
    assert h.provider == p and list(h.skills.all()) == [hc.bath] and h.work_end == dt.time(17, 30)
    assert f"赵助老{tag}" in page.inner_text("[data-testid=helper-table]")
    page.screenshot(path=str(artifacts / f"homecare-manage-helpers-{tag}.png"), full_page=True)

    # a service type: the duration range the wrong way round is refused in Chinese, then saved
    page.goto(base + "/homecare/service-types/")
    page.click("[data-testid=new-service-type]")
    page.fill("#id_code", f"walk-{tag}")
    page.fill("#id_name", "助行")
    page.select_option("#id_unit", "hour")
    page.fill("#id_price", "30")
    page.fill("#id_min_minutes", "90")
    page.fill("#id_max_minutes", "60")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=field-error]")
    assert "最长时长低于最短时长" in page.inner_text("[data-testid=manage-form]")
    page.screenshot(path=str(artifacts / f"homecare-manage-service-type-error-{tag}.png"), full_page=True)
    page.fill("#id_min_minutes", "30")
    page.fill("#id_max_minutes", "120")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=service-type-table]")
    assert m.ServiceType.objects.get(code=f"walk-{tag}").max_minutes == 120
    assert "30–120 分钟" in page.inner_text("[data-testid=service-type-table]")
    page.screenshot(path=str(artifacts / f"homecare-manage-service-types-{tag}.png"), full_page=True)
