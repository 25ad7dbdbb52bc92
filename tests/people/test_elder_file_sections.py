"""The elder file shows the person's alarms, cases, services and visits, each within the viewer's role and area."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from carenet.people.file_sections import sections_for
from tests.factories import AlarmFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(area):
    from carenet.assistance.models import Case
    from carenet.homecare import models as hm

    elder = area.elder_a
    AlarmFactory(elder=elder, type="sos")                                   # open: red
    AlarmFactory(elder=area.elder_b, type="sos")                            # someone else's
    case = Case.objects.create(program="temp_aid", applicant=elder.resident, division=elder.resident.division,
                               created_by=area.worker_a, grant_amount=Decimal("800.00"))
    bath = hm.ServiceType.objects.create(code="bath", name="助浴", unit="visit", price=Decimal("60"),
                                         min_minutes=45, max_minutes=90)
    order = hm.Order.objects.create(elder=elder, division=elder.resident.division, service_type=bath, channel="worker",
                                    scheduled_at=timezone.now(), price=Decimal("60"), subsidy=Decimal("60"))
    hm.VisitPlan.objects.create(elder=elder, division=elder.resident.division, period="week", days=7, rules="独居",
                                start=dt.date(2026, 1, 1), next_due=timezone.localdate() - dt.timedelta(days=3))
    return case, order


def _by_key(user, elder):
    return {s.key: s for s in sections_for(user, elder)}


def test_worker_sees_alarms_cases_services_and_an_overdue_visit(area, records):
    case, order = records
    s = _by_key(area.worker_a, area.elder_a)
    assert set(s) == {"alarms", "cases", "services", "visits"}
    assert s["alarms"].total == 1 and s["alarms"].rows[0].danger
    assert s["alarms"].rows[0].url == ""                      # a worker has no console: no link to the screen pop
    assert s["cases"].rows[0].cells[0] == case.number and s["cases"].rows[0].cells[3] == "800.00"
    assert "临时救助" in s["cases"].profile_note               # not "特殊类别 —" while a case is open
    assert s["services"].rows[0].url.endswith(f"/{order.pk}/")
    assert s["visits"].rows[0].danger and s["visits"].total == 0


def test_operator_gets_a_link_to_the_alarm(area, records):
    s = _by_key(area.operator, area.elder_a)
    assert s["alarms"].rows[0].url.startswith("/callcenter/alarms/")


def test_a_role_without_the_capability_gets_no_section(area, records):
    # The helper role sees home care, not assistance cases or alarms.
    assert "cases" not in _by_key(area.helper, area.elder_a)
    assert "alarms" not in _by_key(area.helper, area.elder_a)


def test_the_elder_page_renders_the_sections(area, records, login):
    page = login(area.worker_a).get(f"/people/elders/{area.elder_a.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    for key in ("alarms", "cases", "services", "visits"):
        assert f'data-testid="file-{key}"' in html
    assert "在办救助" in html and "探访逾期" in html
