"""KPI arithmetic on constructed alarms, the KPI page, the Excel export and scoping."""
import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from carenet.callcenter import kpi, services
from carenet.callcenter.models import OnlineService
from carenet.core.models import AuditLog
from tests.callcenter.conftest import make_alarm

T0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.timezone.utc)


def row(i, ack=None, disp=None, status="resolved", code="", type_="sos", area="甲社区", day=0):
    raised = T0 + dt.timedelta(days=day, minutes=i)
    return kpi.AlarmRow(i, type_, area, raised, raised + dt.timedelta(seconds=ack) if ack is not None else None,
                        raised + dt.timedelta(seconds=disp) if disp is not None else None, status, code)


def test_answer_rates_and_percentiles():
    rows = [row(1, ack=10, disp=100, code="ambulance"), row(2, ack=50, code="false_alarm"), row(3, ack=61, code="elder_fine"),
            row(4, ack=179), row(5, ack=400, disp=500, code="false_alarm"),
            row(6, status="auto_cleared"),                  # cleared by itself: needs no answer
            row(7, status="raised"),                        # waiting since T0+7 min: a miss against both targets
            row(8, ack=30, status="auto_cleared", type_="fall", area="乙社区", day=1)]
    r = kpi.compute(rows, now=T0 + dt.timedelta(hours=1))
    assert r["total"] == 8 and r["needing_answer"] == 7 and r["auto_cleared"] == 2
    assert r["within_60"] == {"hit": 3, "counted": 7, "pct": pytest.approx(300 / 7)}
    assert r["within_180"] == {"hit": 5, "counted": 7, "pct": pytest.approx(500 / 7)}
    assert r["ack_median_s"] == pytest.approx((50 + 61) / 2)
    assert r["ack_p95_s"] == pytest.approx(179 + (400 - 179) * 0.75)  # rank 4.75 of 0..5 in sorted acks
    assert r["dispatch_median_s"] == pytest.approx(300) and r["dispatch_p95_s"] == pytest.approx(100 + 400 * 0.95)
    assert r["closed_by_operator"] == 5 and r["false_alarms"] == 2 and r["false_alarm_pct"] == pytest.approx(40)
    assert dict(r["by_type"]) == {"sos": 7, "fall": 1} and dict(r["by_area"]) == {"甲社区": 7, "乙社区": 1}
    assert r["by_day"] == [(T0.date(), 7), (T0.date() + dt.timedelta(days=1), 1)]


def test_a_young_unanswered_alarm_is_not_yet_counted():
    r = kpi.compute([row(1, status="raised")], now=T0 + dt.timedelta(minutes=1, seconds=90))
    assert r["within_60"]["counted"] == 1 and r["within_180"]["counted"] == 0 and r["within_180"]["pct"] is None
    assert kpi.compute([], now=T0)["ack_median_s"] is None


@pytest.fixture
def handled(area, django_db_blocker):
    """Alarms in both streets with known answer times; one handled end to end."""
    now = timezone.now().replace(microsecond=0)
    a1 = make_alarm(area.elder_a, raised_at=now - dt.timedelta(seconds=600), status="resolved", closing_code="false_alarm",
                    acknowledged_at=now - dt.timedelta(seconds=580), acknowledged_by=area.operator)
    a2 = make_alarm(area.elder_b, "fall", raised_at=now - dt.timedelta(seconds=500), status="dispatched",
                    acknowledged_at=now - dt.timedelta(seconds=400), dispatched_at=now - dt.timedelta(seconds=300),
                    acknowledged_by=area.operator)
    a3 = make_alarm(area.elder_c, "smoke", raised_at=now - dt.timedelta(seconds=1000), status="resolved",
                    closing_code="assistance_given", acknowledged_at=now - dt.timedelta(seconds=800),
                    acknowledged_by=area.operator)
    return a1, a2, a3


@pytest.mark.django_db
def test_kpi_page_counts_the_users_area_only(area, handled, street2_operator, client):
    client.force_login(area.operator)
    page = client.get("/callcenter/kpis/").content.decode()
    assert 'data-testid="kpi-total">3<' in page
    assert 'data-testid="kpi-60">33.3%<' in page and 'data-testid="kpi-180">66.7%<' in page
    client.force_login(street2_operator)
    page = client.get("/callcenter/kpis/").content.decode()
    assert 'data-testid="kpi-total">1<' in page and 'data-testid="kpi-60">0.0%<' in page
    # area filter: street 1 only, chosen by the district operator
    client.force_login(area.operator)
    page = client.get("/callcenter/kpis/", {"area": area.street1.pk}).content.decode()
    assert 'data-testid="kpi-total">2<' in page
    # an area outside the user's own is ignored (falls back to the whole own area)
    client.force_login(street2_operator)
    page = client.get("/callcenter/kpis/", {"area": area.street1.pk}).content.decode()
    assert 'data-testid="kpi-total">1<' in page


@pytest.mark.django_db
def test_period_filter(area, handled, client):
    client.force_login(area.operator)
    # The day before the earliest alarm (not "yesterday": just after midnight the alarms are yesterday's).
    earliest = min(timezone.localtime(a.raised_at).date() for a in handled)
    before = earliest - dt.timedelta(days=1)
    page = client.get("/callcenter/kpis/", {"start": "2020-01-01", "end": before.isoformat()}).content.decode()
    assert 'data-testid="kpi-total">0<' in page


@pytest.mark.django_db
def test_excel_export(area, handled, client):
    OnlineService.objects.create(elder=area.elder_a, division=area.comm_a, kind="comfort", direction="in",
                                 status="done", started_at=timezone.now())
    client.force_login(area.operator)
    resp = client.get("/callcenter/kpis/export.xlsx")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(resp.content))
    summary = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(min_row=4, values_only=True) if r[0]}
    values = list(summary.values())
    assert values[0] == 3                                   # alarms
    assert values[2] == pytest.approx(33.3) and values[3] == pytest.approx(66.7)
    assert values[4] == pytest.approx(100)                  # median of 20, 100, 200 s to acknowledge
    assert values[6] == pytest.approx(200)                  # the one dispatch, 200 s after raising
    assert values[10] == pytest.approx(50)                  # 1 false alarm of 2 closed by an operator
    assert values[11] == 1                                  # online services
    alarms_sheet = wb.worksheets[-1]
    assert alarms_sheet.max_row == 1 + 3
    assert AuditLog.objects.filter(action="export", model="callcenter.kpi", actor=area.operator).count() == 1


@pytest.mark.django_db
def test_online_services_feed_the_counts(area, client):
    area.elder_a.key_elder = True
    area.elder_a.save()
    assert services.schedule_care_calls() == 1
    assert services.schedule_care_calls() == 0             # never planned twice
    svc = OnlineService.objects.get(kind="care_call")
    for _ in range(2):
        services.record_care_call(area.operator, svc.pk, "no_answer")
    svc.refresh_from_db()
    assert svc.status == "planned" and svc.attempts == 2
    services.record_care_call(area.operator, svc.pk, "no_answer")
    svc.refresh_from_db()
    assert svc.status == "missed"
    svc2 = OnlineService.objects.create(elder=area.elder_a, division=area.comm_a, kind="care_call", direction="out",
                                        status="planned", due_date=timezone.localdate())
    services.record_care_call(area.operator, svc2.pk, "well", note="身体不错")
    services.log_inbound(area.operator, "information", caller_name="市民", caller_phone="13800000000", note="高龄津贴怎么申请")
    services.log_inbound(area.operator, "comfort", elder=area.elder_b)
    client.force_login(area.operator)
    page = client.get("/callcenter/kpis/").content.decode()
    assert 'data-testid="kpi-online">3<' in page            # the missed care call is not a service given
    assert 'data-testid="kpi-offline">0<' in page         # no home-care visit checked out yet


@pytest.mark.django_db
def test_care_page_records_a_care_call(area, client):
    area.elder_a.key_elder = True
    area.elder_a.save()
    client.force_login(area.operator)
    client.post("/callcenter/care/", {"form": "schedule"})
    svc = OnlineService.objects.get(kind="care_call")
    page = client.get("/callcenter/care/").content.decode()
    assert "甲老人" in page
    client.post("/callcenter/care/", {"form": "care_call", "service": svc.pk, "outcome": "follow_up", "note": "血压高"})
    svc.refresh_from_db()
    assert svc.status == "done" and svc.outcome == "follow_up" and svc.operator == area.operator
    client.post("/callcenter/care/", {"form": "inbound", "elder": area.elder_b.pk, "kind": "comfort", "outcome": "answered"})
    assert OnlineService.objects.filter(kind="comfort", elder=area.elder_b).count() == 1
