"""Meal points (facilities of the one registry), pairing contact logs and adaptation / care-bed projects."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from carenet.assistance import services as asv
from carenet.homecare import community, services
from tests.homecare.conftest import png

pytestmark = pytest.mark.django_db


@pytest.fixture
def point(hc):
    from carenet.facilities.models import Facility, FacilityType

    asv.add_standard(None, division=hc.area.district, program="*", key="homecare_meal_subsidy",
                     value=(("tekun", Decimal("10")), ("dibao", Decimal("6"))), effective_from=dt.date(2024, 1, 1),
                     source="示例", allow_past=True)
    return Facility.objects.create(code="MP1", name="甲社区助餐点", type=FacilityType.MEAL_POINT, division=hc.area.comm_a,
                                   meal_capacity=2)


def test_meals_subsidy_capacity_and_statement(hc, point, client):
    from tests.factories import ElderFactory, ResidentFactory

    today = timezone.localdate()
    meal = community.record_meal(hc.area.worker_a, facility=point, elder=hc.area.elder_a, date=today, kind="dine_in")
    assert (meal.price, meal.subsidy, meal.share, meal.category) == (Decimal("15.00"), Decimal("10.00"), Decimal("5.00"), "tekun")
    with pytest.raises(services.HomecareError, match="已记录"):
        community.record_meal(hc.area.worker_a, facility=point, elder=hc.area.elder_a, date=today, kind="dine_in")
    other = ElderFactory(resident=ResidentFactory(division=hc.area.comm_a, name="丁老人"))
    m2 = community.record_meal(hc.area.worker_a, facility=point, elder=other, date=today, kind="delivered")
    assert (m2.subsidy, m2.share) == (Decimal("0.00"), Decimal("15.00"))  # no category: pays the meal
    third = ElderFactory(resident=ResidentFactory(division=hc.area.comm_a, name="戊老人"))
    with pytest.raises(services.HomecareError, match="2"):
        community.record_meal(hc.area.worker_a, facility=point, elder=third, date=today, kind="dine_in")  # capacity 2
    with pytest.raises(PermissionDenied):
        community.record_meal(hc.area.worker_b, facility=point, elder=third, date=today, kind="dine_in")  # other area
    client.force_login(hc.area.worker_a)
    page = client.get("/homecare/meals/").content.decode()
    assert "甲社区助餐点" in page
    resp = client.get(f"/homecare/meals/?month={today:%Y-%m}&format=xlsx")
    from io import BytesIO

    from openpyxl import load_workbook
    rows = list(load_workbook(BytesIO(resp.content)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("甲社区助餐点", 2, 1) and Decimal(str(rows[1][3])) == Decimal("10")
    resp = client.post("/homecare/meals/", {"facility": point.pk, "elder": "没有这个人", "kind": "dine_in"}, follow=True)
    assert "没有匹配" in resp.content.decode()


def test_pairing_contacts_and_minimum(hc, client):
    p = community.create_pairing(hc.area.worker_a, elder=hc.area.elder_a, helper_name="张书记", min_per_month=2)
    community.log_pairing_contact(hc.area.worker_a, p, kind="visit", date=timezone.localdate())
    with pytest.raises(services.HomecareError):
        community.log_pairing_contact(hc.area.worker_a, p, kind="visit", date=timezone.localdate() + dt.timedelta(days=1))
    client.force_login(hc.area.worker_a)
    page = client.get("/homecare/pairing/").content.decode()
    assert "张书记" in page and "table-warning" in page  # one contact of two this month
    community.log_pairing_contact(hc.area.worker_a, p, kind="call", date=timezone.localdate())
    assert "table-warning" not in client.get("/homecare/pairing/").content.decode()
    client.force_login(hc.area.worker_b)
    assert "张书记" not in client.get("/homecare/pairing/").content.decode()


def test_care_bed_project_needs_devices_and_photos(hc):
    from carenet.devices.models import Device

    p = community.create_project(hc.area.worker_a, elder=hc.area.elder_a, kind="care_bed", description="床位改造+呼叫器")
    for _ in range(3):
        p = community.advance_project(hc.area.worker_a, p)
    assert p.stage == "works"
    with pytest.raises(services.HomecareError, match="设备"):
        community.advance_project(hc.area.worker_a, p, photo=png())
    Device.objects.create(device_id="OTHER-1", type="pir", elder=hc.area.elder_a)  # not this bed's: does not count
    with pytest.raises(services.HomecareError, match="设备"):
        community.advance_project(hc.area.worker_a, p, photo=png())
    with pytest.raises(PermissionDenied):  # registering devices needs devices.manage, as in home monitoring
        community.register_bed_device(hc.area.worker_a, p, device_id="BED-1", type="mattress", room="卧室")
    with pytest.raises(services.HomecareError, match="已登记"):
        community.register_bed_device(hc.area.admin, p, device_id="OTHER-1", type="mattress")
    device, token = community.register_bed_device(hc.area.admin, p, device_id="BED-1", type="mattress", room="卧室")
    assert token and device.elder == hc.area.elder_a and list(p.devices.all()) == [device]
    assert Device.objects.get(device_id="BED-1").token_hash  # registered in monitoring, with its own token
    p = community.advance_project(hc.area.worker_a, p, photo=png(), note="验收")
    assert p.stage == "acceptance"
    with pytest.raises(services.HomecareError):
        community.advance_project(hc.area.worker_a, p)
    p = community.advance_project(hc.area.worker_a, p, subsidy="3000")
    assert (p.stage, p.subsidy) == ("paid", Decimal("3000.00"))
    # (the second "works" step is the device registration)
    assert list(p.steps.values_list("stage", flat=True)) == ["application", "assessment", "plan", "works", "works", "acceptance", "paid"]


def test_meal_settlement_is_a_locked_run_per_month(hc, point, client):
    from carenet.homecare import models as m
    from tests.factories import ElderFactory, ResidentFactory

    first = timezone.localdate().replace(day=1)
    last = (first - dt.timedelta(days=1)).replace(day=1)
    before = (last - dt.timedelta(days=1)).replace(day=1)
    w = hc.area.worker_a
    other = ElderFactory(resident=ResidentFactory(division=hc.area.comm_a, name="丁老人"))
    community.record_meal(w, facility=point, elder=hc.area.elder_a, date=before + dt.timedelta(days=2), kind="dine_in")
    community.record_meal(w, facility=point, elder=other, date=before + dt.timedelta(days=3), kind="delivered")
    with pytest.raises(PermissionDenied):
        community.settle_meals(w, before)  # a worker records meals; the district settles
    with pytest.raises(services.HomecareError, match="尚未结束"):
        community.settle_meals(hc.area.admin, first)
    run1 = community.settle_meals(hc.area.admin, before)
    assert (run1.meals, run1.subsidy, run1.share) == (2, Decimal("10.00"), Decimal("20.00"))
    with pytest.raises(services.HomecareError, match="已结算"):
        community.settle_meals(hc.area.admin, before)  # never twice
    # a meal of the settled month recorded late, and one of the next month
    community.record_meal(w, facility=point, elder=hc.area.elder_a, date=before + dt.timedelta(days=5), kind="dine_in")
    community.record_meal(w, facility=point, elder=other, date=last + dt.timedelta(days=1), kind="dine_in")
    run2 = community.settle_meals(hc.area.admin, last)
    lines = {(ln.kind, ln.service_month): ln for ln in run2.line_set.all()}
    assert set(lines) == {("service", last), ("late", before)}
    assert (lines[("late", before)].meals, lines[("late", before)].subsidy) == (1, Decimal("10.00"))
    run1.refresh_from_db()
    assert run1.meals == 2 and [ln.meals for ln in run1.line_set.all()] == [2]  # the first run never changed
    assert not m.Meal.objects.filter(settled_in__isnull=True).exists()
    ln = run1.line_set.first()
    ln.meals = 99
    with pytest.raises(ValueError):
        ln.save()
    client.force_login(hc.area.admin)
    r = client.post("/homecare/meals/", {"form": "settle", "month": f"{last:%Y-%m}"}, follow=True)
    assert "已结算" in r.content.decode()
    page = client.get(f"/homecare/meals/settlement/{run2.pk}/").content.decode()
    assert "甲社区助餐点" in page and "结算后补录" in page
    client.force_login(hc.area.worker_b)  # community B: the run exists, its lines are community A's
    page = client.get(f"/homecare/meals/settlement/{run2.pk}/").content.decode()
    assert "甲社区助餐点" not in page


def test_care_bed_devices_from_the_project_page(hc, client):
    p = community.create_project(hc.area.worker_a, elder=hc.area.elder_a, kind="care_bed", description="护理床+呼叫器")
    for _ in range(3):
        p = community.advance_project(hc.area.worker_a, p)
    client.force_login(hc.area.worker_a)
    assert 'data-testid="device-form"' not in client.get("/homecare/projects/").content.decode()
    client.force_login(hc.area.admin)
    page = client.get("/homecare/projects/").content.decode()
    assert 'data-testid="device-form"' in page
    r = client.post("/homecare/projects/", {"form": "device", "project": p.pk, "device_id": "BED-9", "type": "sos_button"})
    body = r.content.decode()
    assert r.status_code == 200 and "BED-9" in body and 'data-testid="device-token"' in body
    r = client.post("/homecare/projects/", {"form": "device", "project": p.pk, "device_id": "BED-9", "type": "sos_button"},
                    follow=True)
    assert "已登记" in r.content.decode()
