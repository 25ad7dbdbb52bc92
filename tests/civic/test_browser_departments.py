"""Browser, desktop and a 390 px phone: a department login sees only its department's requests and completes one;
the resident opens their private link and confirms the community request is done (no staff login)."""
import re

import pytest

from carenet.civic import departments, services
from carenet.civic import models as m
from carenet.core.roles import Role
from tests.browser.conftest import browser_page, login  # noqa: F401 (fixture)
from tests.civic.test_departments_confirm import walk_to_completed
from tests.civic.test_django_community import new_request
from tests.civic.test_django_service_requests import answers_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 390])
def test_department_login_and_resident_confirmation(area, catalogue, live_server, browser_page, artifacts, width):
    page, url = browser_page, live_server.url
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
    med = {d.name: d for d in departments.ensure_departments(area.district)}["区医疗保障局"]
    user = UserFactory(username="dept_med", role=Role.DEPARTMENT, division=area.district)
    departments.add_department_member(area.admin, med, user)
    item = m.ServiceItem.objects.filter(unit=med).first()
    other = m.ServiceItem.objects.filter(department="乡镇（街道）民政办").first()
    mine = services.submit_request(item=item, answers=answers_for(item), applicant=area.elder_a.resident)
    theirs = services.submit_request(item=other, answers=answers_for(other), applicant=area.elder_a.resident)
    services.act_on_request(mine, "route", user=area.reviewer)
    services.act_on_request(theirs, "route", user=area.reviewer, data={"to": "一街道民政办"})

    login(page, url, "dept_med")
    page.goto(url + "/civic/?queue=open")
    body = page.locator("main").inner_text()
    assert item.name in body and other.name not in body
    page.goto(f"{url}/civic/requests/{mine.pk}/")
    page.fill("[data-testid=act-complete] [name=note]", "医保缴费已到账")
    page.click("[data-testid=btn-complete]")
    page.wait_for_selector("[data-testid=outcome]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / f"civic-department-{width}.png"), full_page=True)

    req = walk_to_completed(area, new_request(area, reporter=area.elder_a.resident))
    login(page, url, "worker_a")
    page.goto(f"{url}/civic/community/{req.pk}/")
    link = re.search(r"(/civic/confirm/[^/\s<]+/)", page.content()).group(1)
    page.context.clear_cookies()
    page.goto(url + link)
    assert "两盏路灯已更换" in page.locator("[data-testid=confirm-result]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.click("[data-testid=confirm-yes]")
    page.wait_for_selector("[data-testid=confirm-state]")
    page.screenshot(path=str(artifacts / f"civic-resident-confirm-{width}.png"), full_page=True)
    req.refresh_from_db()
    assert req.state == "closed" and req.events.last().data == {"by": "resident", "via": "link"}
