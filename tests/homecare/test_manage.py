"""The registry pages: service types (unit, price, duration range), providers (areas, contract period, price
list) and helpers (skills, certificates, area, hours, one provider): forms, refusals in Chinese, scope, audit."""
import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from carenet.core import roles
from carenet.core.models import AuditLog
from carenet.homecare import models as m
from carenet.homecare import services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_service_type_create_edit_and_refusals(hc, client):
    client.force_login(hc.area.admin)
    r = client.post("/homecare/service-types/new/", {"code": "walk", "name": "助行", "unit": "hour", "price": "30",
                                                     "min_minutes": "30", "max_minutes": "120", "active": "on"})
    assert r.status_code == 302
    st = m.ServiceType.objects.get(code="walk")
    assert (st.unit, st.price, st.min_minutes, st.max_minutes) == ("hour", Decimal("30.00"), 30, 120)
    assert AuditLog.objects.filter(model="homecare.servicetype", object_id=str(st.pk), action="create").exists()
    # duration range the wrong way round, and a code already used: specific Chinese messages, no 500
    r = client.post(f"/homecare/service-types/{st.pk}/", {"code": "walk", "name": "助行", "unit": "hour", "price": "30",
                                                           "min_minutes": "90", "max_minutes": "60"})
    assert r.status_code == 200 and "最长时长低于最短时长" in r.content.decode()
    r = client.post(f"/homecare/service-types/{st.pk}/", {"code": "bath", "name": "助行", "unit": "hour", "price": "30",
                                                           "min_minutes": "30", "max_minutes": "60"})
    assert "已被其他服务项目使用" in r.content.decode()
    r = client.post(f"/homecare/service-types/{st.pk}/", {"code": "walk", "name": "助行", "unit": "hour", "price": "35.5",
                                                           "min_minutes": "30", "max_minutes": "120"})
    st.refresh_from_db()
    assert st.price == Decimal("35.50") and not st.active  # unchecked: no longer offered
    assert AuditLog.objects.filter(model="homecare.servicetype", object_id=str(st.pk), action="update").exists()
    page = client.get("/homecare/service-types/").content.decode()
    assert "助行" in page and "30–120" in page
    assert "<th>名称</th>" in page and "<th>姓名</th>" not in page  # a service has a name, not a person's name
    rows = list(load_workbook(BytesIO(client.get("/homecare/service-types/?format=xlsx").content)).active.iter_rows(values_only=True))
    assert any(r[0] == "walk" and r[2] == "按小时" for r in rows)
    # a worker reads the catalogue but cannot change it
    client.force_login(hc.area.worker_a)
    assert client.get("/homecare/service-types/").status_code == 200
    assert client.get(f"/homecare/service-types/{st.pk}/").status_code == 403


def test_provider_areas_contract_and_price_list(hc, client):
    client.force_login(hc.area.admin)
    r = client.post("/homecare/providers/new/", {
        "name": "康乐为老服务社", "division": hc.area.district.pk, "areas": [hc.area.comm_a.pk, hc.area.comm_b.pk],
        "contract_start": "2026-01-01", "contract_end": "2025-12-31", "phone": "0556-1"})
    assert "合同结束日期早于开始日期" in r.content.decode()
    r = client.post("/homecare/providers/new/", {
        "name": "康乐为老服务社", "division": hc.area.district.pk, "areas": [hc.area.comm_a.pk, hc.area.comm_b.pk],
        "contract_start": "2026-01-01", "contract_end": "2027-12-31", "phone": "0556-1", "active": "on"})
    p = m.Provider.objects.get(name="康乐为老服务社")
    assert r.status_code == 302 and set(p.areas.values_list("pk", flat=True)) == {hc.area.comm_a.pk, hc.area.comm_b.pk}
    assert p.contract_end == dt.date(2027, 12, 31)
    # the price list: a contracted price for 助浴; the catalogue price for 助洁; a bad price is refused in Chinese
    r = client.post(f"/homecare/providers/{p.pk}/", {"form": "prices", f"price_{hc.bath.pk}": "55", f"price_{hc.clean.pk}": ""})
    assert services.price_of(p, hc.bath) == Decimal("55.00") and services.price_of(p, hc.clean) == Decimal("40.00")
    r = client.post(f"/homecare/providers/{p.pk}/", {"form": "prices", f"price_{hc.bath.pk}": "五十"}, follow=True)
    assert "不是有效的价格" in r.content.decode() and services.price_of(p, hc.bath) == Decimal("55.00")
    client.post(f"/homecare/providers/{p.pk}/", {"form": "prices", f"price_{hc.bath.pk}": ""})
    assert services.price_of(p, hc.bath) == Decimal("60.00")
    assert AuditLog.objects.filter(model="homecare.provider", object_id=str(p.pk), note="homecare.price_list").count() == 2
    page = client.get("/homecare/providers/").content.decode()
    assert "康乐为老服务社" in page and "2027-12-31" in page and "甲社区" in page
    rows = list(load_workbook(BytesIO(client.get("/homecare/providers/?format=xlsx").content)).active.iter_rows(values_only=True))
    assert any(r[0] == "康乐为老服务社" and "甲社区" in r[2] for r in rows)
    assert AuditLog.objects.filter(action="export", model="homecare.provider").exists()


def test_helper_one_provider_area_inside_coverage_and_hours(hc, client):
    client.force_login(hc.area.admin)
    base = {"provider": hc.provider.pk, "name": "赵助老", "phone": "13900000001", "skills": [hc.bath.pk],
            "certificates": "养老护理员（四级）", "division": hc.area.comm_c.pk, "work_start": "08:00", "work_end": "17:00",
            "active": "on"}
    r = client.post("/homecare/helpers/new/", base)  # provider 1 covers street 1 only
    assert "不覆盖丙社区" in r.content.decode()
    r = client.post("/homecare/helpers/new/", {**base, "division": hc.area.comm_a.pk, "work_end": "07:00"})
    assert "工作结束时间早于开始时间" in r.content.decode()
    r = client.post("/homecare/helpers/new/", {**base, "division": hc.area.comm_a.pk, "user": hc.area.helper.pk})
    assert "已属于另一名助老员" in r.content.decode()  # helper1 is already 李助老's login
    r = client.post("/homecare/helpers/new/", {**base, "division": hc.area.comm_a.pk})
    h = m.Helper.objects.get(name="赵助老")
    assert r.status_code == 302 and h.provider == hc.provider and list(h.skills.all()) == [hc.bath]
    # the assignment engine uses the new helper's skills and hours at once
    ranked = services.candidates(hc.area.elder_a, hc.bath, hc.soon.replace(hour=9), 60)
    assert h.pk in [x.pk for x, why in ranked if not why]
    client.post(f"/homecare/helpers/{h.pk}/", {**base, "division": hc.area.comm_a.pk, "skills": [hc.clean.pk]})
    h.refresh_from_db()
    assert list(h.skills.all()) == [hc.clean]
    log = AuditLog.objects.filter(model="homecare.helper", object_id=str(h.pk), action="update").first()
    assert log is not None and "skills" in (log.after or {})
    page = client.get(f"/homecare/helpers/?provider={hc.provider.pk}").content.decode()
    assert "赵助老" in page and "王助老" not in page


def test_managers_are_scoped_to_their_area(hc, client, monkeypatch):
    monkeypatch.setitem(roles.CAPABILITIES, "street_manager", {"homecare.view", "homecare.manage"})
    user = UserFactory(username="street_mgr", role="street_manager", division=hc.area.street1)
    client.force_login(user)
    foreign = m.Provider.objects.create(name="二街道服务社", division=hc.area.street2, contract_start=dt.date(2024, 1, 1),
                                        contract_end=dt.date(2030, 1, 1))
    assert client.get(f"/homecare/providers/{foreign.pk}/").status_code == 404
    assert client.post(f"/homecare/providers/{foreign.pk}/", {"form": "prices", f"price_{hc.bath.pk}": "1"}).status_code == 404
    assert client.get(f"/homecare/helpers/{hc.helper2.pk}/").status_code == 404  # serves street 2
    assert client.get(f"/homecare/helpers/{hc.helper.pk}/").status_code == 200
    # a provider registered in street 1 may not claim street 2's area
    r = client.post("/homecare/providers/new/", {"name": "越界服务社", "division": hc.area.street1.pk,
                                                 "areas": [hc.area.comm_c.pk], "contract_start": "2026-01-01",
                                                 "contract_end": "2026-12-31"})
    assert r.status_code == 200 and not m.Provider.objects.filter(name="越界服务社").exists()
    # the office user of a provider lists only its own helpers; a helper only themself
    client.force_login(hc.office2)
    page = client.get("/homecare/helpers/").content.decode()
    assert "王助老" in page and "李助老" not in page


def test_every_home_care_list_exports_to_excel(hc, client):
    """Issue #11 §13: an Excel export of every list (formula-safe through core.exports, audited)."""
    client.force_login(hc.area.admin)
    lists = ["/homecare/orders.xlsx", "/homecare/anomalies.xlsx", "/homecare/visits/?format=xlsx",
             "/homecare/meals/?format=xlsx", "/homecare/figures/?format=xlsx", "/homecare/followups/?format=xlsx",
             "/homecare/plans/?format=xlsx", "/homecare/pairing/?format=xlsx", "/homecare/projects/?format=xlsx",
             "/homecare/absences/?format=xlsx", "/homecare/providers/?format=xlsx", "/homecare/helpers/?format=xlsx",
             "/homecare/service-types/?format=xlsx"]
    before = AuditLog.objects.filter(action="export").count()
    for url in lists:
        r = client.get(url)
        assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats"), url
        load_workbook(BytesIO(r.content))
    assert AuditLog.objects.filter(action="export").count() - before == len(lists)
