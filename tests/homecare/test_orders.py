"""Orders end to end through the services and the phone's JSON endpoint (SQLite and PostgreSQL)."""
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from carenet.core.models import AuditLog
from carenet.homecare import jobs, selectors, services
from carenet.homecare import models as m
from tests.homecare.conftest import HOME, png

pytestmark = pytest.mark.django_db


def order(hc, elder=None, **kw):
    args = dict(elder=elder or hc.area.elder_a, service_type=hc.bath, scheduled_at=hc.soon, channel="call")
    args.update(kw)
    return services.create_order(hc.area.operator, **args)


def act(client, user, o, **body):
    client.force_login(user)
    resp = client.post(f"/homecare/m/{o.pk}/act/", json.dumps(body), content_type="application/json")
    return resp.status_code, resp.json()


def test_order_is_assigned_by_area_and_skill_and_reserves_the_budget(hc):
    o = order(hc)
    assert (o.state, o.helper, o.provider) == ("assigned", hc.helper, hc.provider)
    assert (o.price, o.subsidy, o.self_pay) == (Decimal("60.00"), Decimal("60.00"), Decimal("0.00"))
    bal = services.balance_of(hc.area.elder_a, timezone.localtime(hc.soon).date())
    assert bal.budget.amount == Decimal("200.00") and bal.reserved == Decimal("60.00") and bal.remaining == Decimal("140.00")
    assert any("特困" in line and "200.00" in line for line in bal.explain())
    assert not any("tekun" in line for line in bal.explain())  # categories in words, not codes
    oc = order(hc, elder=hc.area.elder_c)  # street 2: only the second provider covers it
    assert oc.helper == hc.helper2
    assert AuditLog.objects.filter(model="homecare.order", action="create").count() == 2


def test_over_budget_needs_the_elders_consent_then_is_self_paid(hc):
    order(hc, service_type=hc.clean, minutes=180)  # 120 yuan per 3 hours
    order(hc, scheduled_at=hc.soon + dt.timedelta(hours=3), service_type=hc.clean, minutes=60)  # 40 more: 40 left
    with pytest.raises(services.HomecareError, match="自费|consent"):
        order(hc, scheduled_at=hc.soon + dt.timedelta(hours=4))
    o = order(hc, scheduled_at=hc.soon + dt.timedelta(hours=4), self_pay_consent=True)
    assert (o.subsidy, o.self_pay, o.self_pay_consent) == (Decimal("40.00"), Decimal("20.00"), True)
    # a street refuses over-budget orders: its own dated rule overrides the district's
    from carenet.assistance import services as asv
    asv.add_standard(None, division=hc.area.street1, program="*", key="homecare_over_budget", value="refuse",
                     effective_from=dt.date(2024, 6, 1), source="街道文件", allow_past=True)
    with pytest.raises(services.HomecareError, match="不予受理|refuses"):
        order(hc, scheduled_at=hc.soon + dt.timedelta(hours=8), self_pay_consent=True)


def test_no_budget_category_pays_itself_only_with_consent(hc):
    with pytest.raises(services.HomecareError):
        order(hc, elder=hc.area.elder_b)
    o = order(hc, elder=hc.area.elder_b, self_pay_consent=True)
    assert (o.subsidy, o.self_pay) == (Decimal("0.00"), Decimal("60.00"))


def test_helper_phone_flow_offline_time_and_replay(hc, client):
    o = order(hc)
    assert act(client, hc.helper2_user, o, action="accept")[0] == 404  # not their task
    assert act(client, hc.area.helper, o, action="accept")[1]["state"] == "accepted"
    t_in = timezone.now() - dt.timedelta(minutes=50)  # checked in offline 50 minutes ago, sent now
    body = dict(action="check_in", lat=HOME[0] + 0.0003, lon=HOME[1], client_ts=t_in.isoformat(), client_uuid="u-in-1",
                photo=png())
    code, data = act(client, hc.area.helper, o, **body)
    assert code == 200 and data["state"] == "checked_in" and data["distance_m"] < 50
    assert act(client, hc.area.helper, o, **body)[0] == 200  # the phone replays its queue: a no-op
    assert m.OrderEvent.objects.filter(order=o, action="check_in").count() == 1
    assert m.VisitPhoto.objects.filter(order=o).count() == 1
    o.refresh_from_db()
    assert abs((o.checked_in_at - t_in).total_seconds()) < 1 and o.checked_in_received > t_in
    assert m.OrderEvent.objects.get(order=o, action="check_in").offline
    code, data = act(client, hc.area.helper, o, action="check_out", record="", client_uuid="u-out-0")
    assert code == 400 and "服务记录" in data["error"]
    code, data = act(client, hc.area.helper, o, action="check_out", record="洗澡、更衣，老人状态良好",
                     confirmed_by="张三（儿子）", rating=5, client_uuid="u-out-1")
    assert code == 200 and data["state"] == "rated" and data["anomalies"] == []
    o.refresh_from_db()
    assert o.evv["location"] and o.evv["start"] and o.evv["end"] and o.evv["helper"] == "李助老"
    assert selectors.door_to_door_counts(hc.area.operator, t_in - dt.timedelta(hours=1), timezone.now() + dt.timedelta(hours=1))["total"] == 1


def test_phone_refuses_bad_input_with_a_clear_message(hc, client):
    o = order(hc)
    act(client, hc.area.helper, o, action="accept")
    cases = [
        dict(action="check_in", lat=HOME[0], lon=HOME[1]),  # no photo
        dict(action="check_in", lat=HOME[0], lon=HOME[1], photo="data:image/svg+xml;base64,PHN2Zz4="),
        dict(action="check_in", lat=HOME[0], lon=HOME[1], photo=png(), client_ts=(timezone.now() + dt.timedelta(hours=1)).isoformat()),
        dict(action="check_in", lat=HOME[0], lon=HOME[1], photo=png(), client_ts="yesterday"),
        dict(action="fly"),
    ]
    for body in cases:
        code, data = act(client, hc.area.helper, o, **body)
        assert code == 400 and data["ok"] is False and data["error"], body
    client.force_login(hc.area.helper)
    assert client.post(f"/homecare/m/{o.pk}/act/", "{not json", content_type="application/json").status_code == 400
    o.refresh_from_db()
    assert o.state == "accepted"  # nothing was half-written


def test_anomalies_geofence_short_overlap_photo_and_absent(hc, client):
    a = order(hc)
    act(client, hc.area.helper, a, action="accept")
    start = timezone.now() - dt.timedelta(minutes=40)
    act(client, hc.area.helper, a, action="check_in", lat=HOME[0] + 0.01, lon=HOME[1], photo=png(), client_ts=start.isoformat())
    act(client, hc.area.helper, a, action="check_out", record="助浴")
    kinds = set(m.Anomaly.objects.filter(order=a).values_list("kind", flat=True))
    assert kinds == {"outside_geofence", "short_visit"}  # 1.1 km away; 40 min < 45 min
    # same helper, another elder's home at the same time, the same photo again
    from carenet.people.models import ElderCategory
    ElderCategory.objects.create(elder=hc.area.elder_b, code="tekun")
    b = services.create_order(hc.area.operator, elder=hc.area.elder_b, service_type=hc.bath, scheduled_at=hc.soon,
                              channel="call", helper=hc.helper)
    act(client, hc.area.helper, b, action="accept")
    act(client, hc.area.helper, b, action="check_in", lat=None, lon=None, photo=png(), client_ts=(start + dt.timedelta(minutes=5)).isoformat())
    act(client, hc.area.helper, b, action="check_out", record="助浴")
    kinds_b = set(m.Anomaly.objects.filter(order=b).values_list("kind", flat=True))
    assert {"helper_overlap", "photo_reused", "no_location"} <= kinds_b
    # the elder in hospital that day
    m.HospitalStay.objects.create(elder=hc.area.elder_a, start=timezone.localdate() - dt.timedelta(days=1))
    c = order(hc, scheduled_at=hc.soon + dt.timedelta(hours=3))
    act(client, hc.area.helper, c, action="accept")
    act(client, hc.area.helper, c, action="check_in", lat=HOME[0], lon=HOME[1], photo=png("darkred", "ellipse"))
    act(client, hc.area.helper, c, action="check_out", record="x", client_ts=(timezone.now() + dt.timedelta(minutes=1)).isoformat())
    assert m.Anomaly.objects.filter(order=c, kind="elder_absent").exists()
    # the supervisor sees them; a community worker of another community does not
    assert selectors.anomalies_visible_to(hc.area.supervisor).count() == m.Anomaly.objects.count()
    assert selectors.anomalies_visible_to(hc.area.worker_b).filter(order=a).count() == 0
    assert selectors.anomalies_visible_to(hc.area.supervisor, provider=hc.provider2).count() == 0


def test_scoping_helper_provider_and_community(hc, client):
    a, c = order(hc), order(hc, elder=hc.area.elder_c)
    assert list(selectors.orders_visible_to(hc.area.helper)) == [a]
    assert list(selectors.orders_visible_to(hc.helper2_user)) == [c]
    assert list(selectors.orders_visible_to(hc.office2)) == [c]        # provider staff: the provider's orders
    assert list(selectors.orders_visible_to(hc.area.worker_a)) == [a]
    assert list(selectors.orders_visible_to(hc.area.worker_b)) == []
    client.force_login(hc.area.worker_b)
    assert client.get(f"/homecare/orders/{a.pk}/").status_code == 404
    client.force_login(hc.area.helper)
    assert client.get(f"/homecare/orders/{c.pk}/").status_code == 404
    page = client.get("/homecare/m/").content.decode()
    assert "甲老人" in page and "丙老人" not in page
    assert client.post("/homecare/orders/new/", {"elder": hc.area.elder_a.pk}).status_code == 403  # helpers do not order
    client.force_login(hc.area.supervisor)
    assert client.post("/homecare/orders/new/", {"elder": hc.area.elder_a.pk}).status_code == 403  # read-only
    assert client.get("/homecare/anomalies/").status_code == 200


def test_cancel_needs_a_reason_and_releases_the_budget(hc, client):
    o = order(hc)
    with pytest.raises(services.HomecareError):
        services.cancel(hc.area.operator, o, reason=" ")
    services.cancel(hc.area.operator, o, reason="老人住院")
    assert services.balance_of(hc.area.elder_a, timezone.localtime(hc.soon).date()).remaining == Decimal("200.00")


def test_due_and_overdue_lists_use_the_one_definition(hc):
    late = order(hc, scheduled_at=timezone.now() + dt.timedelta(minutes=1))
    m.Order.objects.filter(pk=late.pk).update(scheduled_at=timezone.now() - dt.timedelta(hours=1))
    soon = order(hc, scheduled_at=timezone.now() + dt.timedelta(hours=1))
    later = order(hc, scheduled_at=timezone.now() + dt.timedelta(days=2), self_pay_consent=True)
    qs = selectors.orders_visible_to(hc.area.operator)
    assert set(selectors.filter_timeliness(qs, "overdue")) == {late}
    assert set(selectors.filter_timeliness(qs, "due")) == {soon}
    assert selectors.timeliness_of(later) == "on_time"


def finish(hc, client, o, when=None):
    act(client, hc.area.helper, o, action="accept")
    t = when or timezone.now() - dt.timedelta(minutes=60)
    act(client, hc.area.helper, o, action="check_in", lat=HOME[0], lon=HOME[1], photo=png(), client_ts=t.isoformat())
    return act(client, hc.area.helper, o, action="check_out", record="ok", confirmed_by="本人",
               client_ts=(t + dt.timedelta(minutes=50)).isoformat())


def test_settlement_idempotent_disputes_and_corrections_next_month(hc, client):
    good = order(hc)
    finish(hc, client, good)
    bad = order(hc, scheduled_at=hc.soon + dt.timedelta(hours=2))
    act(client, hc.area.helper, bad, action="accept")
    t = timezone.now() - dt.timedelta(minutes=30)
    act(client, hc.area.helper, bad, action="check_in", lat=HOME[0] + 0.02, lon=HOME[1], photo=png("darkred", "ellipse"), client_ts=t.isoformat())
    act(client, hc.area.helper, bad, action="check_out", record="ok", confirmed_by="本人", client_ts=(t + dt.timedelta(minutes=20)).isoformat())
    unconfirmed = order(hc, scheduled_at=hc.soon + dt.timedelta(hours=5))
    act(client, hc.area.helper, unconfirmed, action="accept")
    month = timezone.localdate().replace(day=1)
    run = jobs.execute(jobs.start(hc.area.admin, month).pk)
    assert run.status == "done" and run.lines == 2 and run.subsidy == Decimal("60.00")
    lines = {ln.order_id: ln for ln in m.SettlementLine.objects.all()}
    assert lines[good.pk].status == "accepted" and lines[bad.pk].status == "disputed"
    assert "超出" in lines[bad.pk].reason or "围栏" in lines[bad.pk].reason
    again = jobs.execute(jobs.start(hc.area.admin, month).pk)  # idempotent: the month is settled once
    assert again.pk == run.pk and m.SettlementLine.objects.count() == 2
    # the supervisor clears the dispute: a correction for the next month; the settled line never changes
    anomaly = m.Anomaly.objects.filter(order=bad).first()
    for a in m.Anomaly.objects.filter(order=bad):
        services.resolve_anomaly(hc.area.admin, a, upheld=False, note="老人确认在小区门口接送")
    corr = m.Correction.objects.get(order=bad)
    assert corr.delta == bad.subsidy
    with pytest.raises(ValueError):
        lines[bad.pk].save()
    nxt = jobs.execute(jobs.start(hc.area.admin, (month + dt.timedelta(days=32)).replace(day=1)).pk)
    adj = m.SettlementLine.objects.get(run=nxt, kind="adjustment")
    assert adj.order_id == bad.pk and adj.subsidy == bad.subsidy and adj.service_month == month
    assert m.SettlementLine.objects.filter(run=run).count() == 2  # March (the settled month) unchanged
    # the statement (Excel) shows the disputed line with its reason
    client.force_login(hc.area.supervisor)
    resp = client.get(f"/homecare/settlement/{run.pk}/statement.xlsx")
    assert resp.status_code == 200
    from openpyxl import load_workbook
    import io
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert any(r[3] == bad.pk and r[2] == "待核实" or (r[3] == bad.pk and r[11]) for r in rows)
    assert anomaly.status == "open"  # the object we held was the pre-decision copy


def test_kpi_page_counts_door_to_door_services(hc, client):
    finish(hc, client, order(hc))
    client.force_login(hc.area.operator)
    page = client.get("/callcenter/kpis/").content.decode()
    assert 'data-testid="kpi-offline">1<' in page and "助浴" in page


def test_staff_pages_answer_and_export(hc, client):
    o = order(hc)
    client.force_login(hc.area.admin)
    for url in ["/homecare/", "/homecare/?when=overdue", f"/homecare/orders/{o.pk}/", "/homecare/inbound/?q=甲老人",
                "/homecare/anomalies/", "/homecare/settlement/", "/homecare/figures/", "/homecare/followups/",
                "/homecare/visits/", "/homecare/plans/", f"/homecare/orders/new/?elder={hc.area.elder_a.pk}"]:
        assert client.get(url).status_code == 200, url
    for url in ["/homecare/orders.xlsx", "/homecare/anomalies.xlsx", "/homecare/figures/?format=xlsx", "/homecare/visits/?format=xlsx"]:
        resp = client.get(url)
        assert resp.status_code == 200 and resp.content[:2] == b"PK", url
    resp = client.post("/homecare/orders/new/", {"elder": hc.area.elder_a.pk, "service_type": hc.bath.pk,
                                                  "scheduled_at": "2000-01-01T09:00"})
    assert resp.status_code == 200 and "时间已过" in resp.content.decode()
    assert m.Order.objects.count() == 1  # nothing created from the bad form


def test_supervision_center_reads_anomalies_and_counts_through_the_selectors(hc, client):
    a = order(hc)
    act(client, hc.area.helper, a, action="accept")
    t = timezone.now() - dt.timedelta(minutes=60)
    act(client, hc.area.helper, a, action="check_in", lat=HOME[0] + 0.01, lon=HOME[1], photo=png(), client_ts=t.isoformat())
    act(client, hc.area.helper, a, action="check_out", record="ok", confirmed_by="本人")
    lines = selectors.anomalies_for_supervision(hc.area.supervisor, provider="安康居家服务社")
    assert len(lines) == 1 and "围栏" in lines[0] and "李助老" in lines[0]
    assert selectors.anomalies_for_supervision(hc.area.supervisor, provider="夕阳红服务中心") == []
    assert selectors.anomalies_for_supervision(hc.area.worker_b, provider="安康居家服务社") == []
    start_today = timezone.now() - dt.timedelta(hours=3)
    counts = selectors.service_counts(hc.area.supervisor, start_today, timezone.localdate().replace(day=1))
    assert counts == {"today": 1, "month": 1}


def _visited(hc, start, minutes=60, elder=None):
    o = order(hc, elder=elder, self_pay_consent=True)
    m.Order.objects.filter(pk=o.pk).update(state="checked_out", checked_in_at=start, check_in_lat=HOME[0],
                                           check_in_lon=HOME[1], checked_out_at=start + dt.timedelta(minutes=minutes))
    return [a for a in services.verify(o) if a.kind == "elder_absent"]


def test_elder_elsewhere_by_an_open_alarm_a_dispatch_or_a_registered_absence(hc):
    from carenet.callcenter.models import Dispatch
    from carenet.homecare import community
    from tests.callcenter.conftest import make_alarm

    now = timezone.now().replace(microsecond=0)
    start = now - dt.timedelta(hours=2)
    # a helper or family dispatched to an open SOS: someone went to the home, the elder is there
    sos = make_alarm(hc.area.elder_a, "sos", raised_at=start - dt.timedelta(minutes=30), status="dispatched",
                     dispatched_at=start - dt.timedelta(minutes=25))
    Dispatch.objects.create(alarm=sos, target="helper", operator=hc.area.operator)
    assert _visited(hc, start) == []
    # an ambulance sent for that alarm, still open during the visit: the elder was taken away
    Dispatch.objects.create(alarm=sos, target="ambulance", operator=hc.area.operator)
    found = _visited(hc, start)
    assert len(found) == 1 and f"告警#{sos.pk}" in found[0].detail and "120" in found[0].detail
    assert "至今未关闭" in found[0].detail
    sos.closed_at, sos.status = start - dt.timedelta(minutes=5), "resolved"
    sos.save()
    assert _visited(hc, start) == []  # closed before the visit began: no longer evidence
    # the wristband shows the elder outside the safe area while the visit is recorded
    gf = make_alarm(hc.area.elder_a, "geofence_exit", raised_at=start + dt.timedelta(minutes=10), severity="high")
    found = _visited(hc, start)
    assert found and f"告警#{gf.pk}" in found[0].detail and "离开安全区域" in found[0].detail
    gf.closed_at, gf.status = start + dt.timedelta(minutes=20), "resolved"
    gf.save()
    assert _visited(hc, start)  # it overlapped the visit, even though it is closed now
    gf.delete()
    # a registered absence: away from home, visiting family
    today = timezone.localdate()
    community.register_absence(hc.area.worker_a, hc.area.elder_a, kind="away", start=today - dt.timedelta(days=1),
                               end=today + dt.timedelta(days=3), where="合肥女儿家")
    found = _visited(hc, start)
    assert found and "外出（合肥女儿家）" in found[0].detail and str(today + dt.timedelta(days=3)) in found[0].detail
    with pytest.raises(services.HomecareError, match="返回日期"):
        community.register_absence(hc.area.worker_a, hc.area.elder_a, kind="away", start=today, end=today - dt.timedelta(days=1))
    from django.core.exceptions import PermissionDenied
    with pytest.raises(PermissionDenied):
        community.register_absence(hc.area.worker_b, hc.area.elder_a, kind="hospital", start=today)


def test_figures_count_by_the_level_below_the_user_and_show_money_in_yuan(hc, client):
    o = order(hc)
    finish(hc, client, o)
    month = f"?month={timezone.localtime(o.scheduled_at):%Y-%m}"
    client.force_login(hc.area.admin)  # the district's staff see streets
    resp = client.get("/homecare/figures/" + month)
    assert resp.context["data"]["by_area"] == [("一街道", 1)]
    page = resp.content.decode()
    assert "按区域" in page and ">60.00<" in page
    client.force_login(hc.area.reviewer)  # a street's staff see its communities
    assert client.get("/homecare/figures/" + month).context["data"]["by_area"] == [("甲社区", 1)]


def test_registered_absence_of_home_monitoring_makes_a_visit_an_anomaly(hc, client):
    """外出报备 is recorded once, in home monitoring (AwayRecord); home care reads it (no second register)."""
    from carenet.monitoring import services as monitoring_services

    now = timezone.now()
    monitoring_services.register_away(hc.area.operator, hc.area.elder_a, starts_at=now - dt.timedelta(hours=2),
                                      expected_return=now + dt.timedelta(days=2), reason="family", reporter="family",
                                      note="女儿家")
    c = order(hc)
    act(client, hc.area.helper, c, action="accept")
    act(client, hc.area.helper, c, action="check_in", lat=HOME[0], lon=HOME[1], photo=png("navy", "ellipse"))
    act(client, hc.area.helper, c, action="check_out", record="x",
        client_ts=(timezone.now() + dt.timedelta(minutes=1)).isoformat())
    a = m.Anomaly.objects.get(order=c, kind="elder_absent")
    assert "外出报备（女儿家）" in a.detail and "预计" in a.detail
    # once the return is recorded, a later visit is normal again
    from carenet.monitoring.models import AwayRecord
    monitoring_services.end_away(hc.area.operator, AwayRecord.objects.get(elder=hc.area.elder_a).pk)
    d = order(hc, scheduled_at=hc.soon + dt.timedelta(hours=3))
    act(client, hc.area.helper, d, action="accept")
    act(client, hc.area.helper, d, action="check_in", lat=HOME[0], lon=HOME[1], photo=png("olive", "rect"),
        client_ts=(timezone.now() + dt.timedelta(minutes=2)).isoformat())
    act(client, hc.area.helper, d, action="check_out", record="x",
        client_ts=(timezone.now() + dt.timedelta(minutes=3)).isoformat())
    assert not m.Anomaly.objects.filter(order=d, kind="elder_absent").exists()
