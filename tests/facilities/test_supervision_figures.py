"""The supervision center and the big screen read home care's figures (door-to-door counts, anomalies, visit
plans): these tests pin each figure to records whose right answer is known, in and out of the user's area."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from carenet.homecare import models as hm
from carenet.supervision import selectors as sel
from tests.facilities.helpers import make_facility

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(area):
    tz = timezone.get_current_timezone()
    now = timezone.now()
    today = timezone.localdate()
    w = type("W", (), {})()
    w.start_today = dt.datetime.combine(today, dt.time.min, tz)
    w.month_start = dt.datetime.combine(today.replace(day=1), dt.time.min, tz)
    w.bath = hm.ServiceType.objects.create(code="bath", name="助浴", unit="visit", price=Decimal("60"), min_minutes=45,
                                           max_minutes=90)
    span = {"contract_start": dt.date(2024, 1, 1), "contract_end": dt.date(2030, 12, 31)}
    w.prov = hm.Provider.objects.create(name="安康居家服务社", division=area.district, **span)
    w.other = hm.Provider.objects.create(name="邻里帮服务站", division=area.district, **span)

    def order(elder, provider, state, out=None):
        return hm.Order.objects.create(elder=elder, division=elder.resident.division, service_type=w.bath,
                                       provider=provider, state=state, channel="call", scheduled_at=out or now,
                                       price=Decimal("60"), subsidy=Decimal("60"), checked_out_at=out)

    w.today_done = order(area.elder_a, w.prov, "rated", w.start_today + (now - w.start_today) / 2)
    w.month_done = order(area.elder_b, w.prov, "confirmed", w.month_start + dt.timedelta(minutes=1))
    order(area.elder_a, w.prov, "checked_out", w.start_today + (now - w.start_today) / 3)     # awaiting confirmation
    order(area.elder_a, w.prov, "rated", w.month_start - dt.timedelta(minutes=1))           # last month
    order(area.elder_a, w.prov, "checked_in")                                               # not out yet
    order(area.elder_a, w.prov, "cancelled", w.start_today + (now - w.start_today) / 2)     # never counted
    order(area.elder_c, w.other, "rated", w.start_today + (now - w.start_today) / 2)        # street 2
    w.first_of_month = today.day == 1
    hm.Anomaly.objects.create(order=w.today_done, division=w.today_done.division, kind="short", detail="服务时长12分钟")
    hm.Anomaly.objects.create(order=w.month_done, division=w.month_done.division, kind="geofence", detail="已核销",
                              status="cleared")
    other_order = hm.Order.objects.filter(provider=w.other).first()
    hm.Anomaly.objects.create(order=other_order, division=other_order.division, kind="overlap", detail="同时在两户")
    return w


def test_door_to_door_counts_on_the_big_screen(area, world):
    d = sel.bigscreen_data(area.admin)["services"]
    # today: the rated one, the checked-out one and street 2's; this month adds the one of the 1st
    assert d["door_today"] == 3 + (1 if world.first_of_month else 0)
    assert d["door_month"] == 4
    street = sel.bigscreen_data(area.reviewer)["services"]                 # street 1 only
    assert street["door_today"] == 2 + (1 if world.first_of_month else 0)
    assert street["door_month"] == 3


def test_home_care_anomalies_on_facility_and_provider_pages(area, world, client):
    fac = make_facility(area, operator="安康居家服务社", name="安康日间照料中心")
    panel = sel.facility_panel(area.supervisor, fac)
    assert len(panel["homecare"]) == 1 and "服务时长12分钟" in panel["homecare"][0]   # open only, this provider only
    other = make_facility(area, operator="另一家公司", name="无居家服务的站")
    assert sel.facility_panel(area.supervisor, other)["homecare"] == []
    counts = {p["name"]: p for p in sel.providers(area.supervisor)}
    assert counts["安康居家服务社"]["anomalies"] == 1 and counts["安康居家服务社"]["facilities"] == 1
    assert counts["邻里帮服务站"]["anomalies"] == 1 and counts["邻里帮服务站"]["facilities"] == 0
    assert counts["另一家公司"]["anomalies"] is None
    client.force_login(area.supervisor)
    page = client.get(f"/supervision/facilities/{fac.pk}/").content.decode()
    assert "服务时长12分钟" in page and "同时在两户" not in page and "已核销" not in page
    page = client.get("/supervision/provider/", {"name": "邻里帮服务站"}).content.decode()
    assert "同时在两户" in page and "服务时长12分钟" not in page
    # a street reviewer does not see street 2's anomaly
    assert sel.homecare_anomaly_counts(area.reviewer)["邻里帮服务站"] == 0


def test_visits_due_and_overdue_from_the_visit_plans(area):
    from tests.factories import ElderFactory, ResidentFactory

    today = timezone.localdate()
    month_end = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)

    def plan(period, due, escalated="", division=None):
        e = ElderFactory(resident=ResidentFactory(division=division or area.comm_a))
        hm.VisitPlan.objects.create(elder=e, division=e.resident.division, period=period,
                                    days=7 if period == "week" else 30, rules="测试", start=today - dt.timedelta(days=60),
                                    next_due=due, escalated_to=escalated)

    plan("week", today)                                    # due today
    plan("week", today + dt.timedelta(days=6))             # due within the week
    plan("week", today + dt.timedelta(days=7))             # next week: not yet
    plan("month", month_end)                               # due this month
    plan("month", month_end + dt.timedelta(days=1))        # next month
    plan("week", today - dt.timedelta(days=1), "community")
    plan("month", today - dt.timedelta(days=20), "street")
    plan("week", today - dt.timedelta(days=3), "community", division=area.comm_c)   # street 2
    v = sel.bigscreen_data(area.admin)["visits"]
    assert v == {"weekly_due": 2, "monthly_due": 1, "overdue": 3, "escalated": 1, "source": "plans"}
    v = sel.bigscreen_data(area.reviewer)["visits"]
    assert (v["overdue"], v["escalated"]) == (2, 1)


def test_visits_fall_back_to_the_registry_without_plans(area):
    v = sel.bigscreen_data(area.admin)["visits"]
    assert v["source"] == "registry" and v["overdue"] is None
