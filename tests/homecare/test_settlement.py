"""The monthly settlement job (jobs.execute) on SQLite and PostgreSQL: budget caps, disputes, late orders
against their own month's budget, and the settlement lines' references (checked set-based, not per row)."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from carenet.homecare import jobs, services
from carenet.homecare import models as m

pytestmark = pytest.mark.django_db

M1, M2 = dt.date(2026, 3, 1), dt.date(2026, 4, 1)


def done(hc, day, price, subsidy=None, elder=None, hour=10):
    """A confirmed and rated order checked out on `day` (an order made by the operator, then moved through the
    phone flow's end state directly: the job reads only the state, the check-out time and the split)."""
    o = services.create_order(hc.area.operator, elder=elder or hc.area.elder_a, service_type=hc.bath,
                              scheduled_at=hc.soon, channel="call", self_pay_consent=True)
    out = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    price = Decimal(price)
    subsidy = price if subsidy is None else Decimal(subsidy)
    m.Order.objects.filter(pk=o.pk).update(state="rated", checked_in_at=out - dt.timedelta(hours=1), checked_out_at=out,
                                           price=price, subsidy=subsidy, self_pay=price - subsidy)
    return o.pk


def test_settlement_caps_at_the_budget_keeps_disputes_out_and_charges_late_orders_to_their_month(hc):
    a = [done(hc, dt.date(2026, 3, d), p, hour=10 + d) for d, p in ((2, "60"), (3, "80"), (4, "90"))]
    self_paid = done(hc, dt.date(2026, 3, 5), "50", subsidy="20")   # 30 self-paid with consent; budget gone
    disputed = done(hc, dt.date(2026, 3, 1), "60")
    m.Anomaly.objects.create(order_id=disputed, division=hc.area.district, kind="outside_geofence", detail="签到距住址 900 米")
    other = done(hc, dt.date(2026, 3, 9), "40", elder=hc.area.elder_c)  # 低保: its own budget
    april = done(hc, dt.date(2026, 4, 2), "60")
    run = jobs.execute(jobs.start(hc.area.admin, M1).pk)
    lines = {ln.order_id: ln for ln in m.SettlementLine.objects.filter(run=run)}
    assert set(lines) == {*a, self_paid, disputed, other}  # April's order waits for April
    assert [lines[o].subsidy for o in a] == [Decimal("60.00"), Decimal("80.00"), Decimal("60.00")]
    assert "计划补贴 90.00 元，可用 60.00 元，按 60.00 元结算" in lines[a[2]].reason
    assert (lines[self_paid].subsidy, lines[self_paid].self_pay) == (Decimal("0.00"), Decimal("30.00"))
    assert lines[disputed].status == "disputed" and lines[disputed].subsidy == 0 and "900 米" in lines[disputed].reason
    assert lines[other].subsidy == Decimal("40.00") and lines[other].elder_id == hc.area.elder_c.pk
    assert all(ln.kind == "service" and ln.service_month == M1 and ln.month == M1 for ln in lines.values())
    assert run.lines == 6 and run.subsidy == Decimal("240.00")
    # an order of March confirmed after March was settled: a late line of April, charged to March's budget
    # (used up), while April's own order has April's budget
    late = done(hc, dt.date(2026, 3, 20), "40")
    later = done(hc, dt.date(2026, 3, 21), "30", elder=hc.area.elder_c)  # 低保 has March budget left
    nxt = jobs.execute(jobs.start(hc.area.admin, M2).pk)
    april_lines = {ln.order_id: ln for ln in m.SettlementLine.objects.filter(run=nxt)}
    assert set(april_lines) == {late, later, april}
    assert (april_lines[late].kind, april_lines[late].service_month, april_lines[late].subsidy) == ("late", M1, Decimal("0.00"))
    assert "可用 0.00 元" in april_lines[late].reason
    assert (april_lines[later].kind, april_lines[later].subsidy) == ("late", Decimal("30.00"))
    assert (april_lines[april].kind, april_lines[april].service_month, april_lines[april].subsidy) == ("service", M2, Decimal("60.00"))
    assert nxt.subsidy == Decimal("90.00") and m.SettlementLine.objects.filter(run=run).count() == 6


def test_a_line_refers_to_existing_rows_and_keeps_them(hc):
    o = done(hc, dt.date(2026, 3, 2), "60")
    run = jobs.execute(jobs.start(hc.area.admin, M1).pk)
    order = m.Order.objects.get(pk=o)
    with pytest.raises(ProtectedError):
        order.delete()   # Django's PROTECT, on both databases
    with pytest.raises(ProtectedError):
        hc.provider.delete()
    if connection.vendor != "postgresql":
        return   # the set-based checks below are PostgreSQL triggers (migration 0003)
    line = dict(run=run, month=M1, service_month=M1, kind="service", status="accepted", provider=hc.provider,
                elder=hc.area.elder_a, price=Decimal("1"), subsidy=Decimal("1"), self_pay=Decimal("0"))
    missing = m.Order.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    for bad in ({"order_id": missing}, {"elder_id": 10 ** 9}, {"provider_id": 10 ** 9}, {"run_id": 10 ** 9},
                {"correction_id": 10 ** 9, "kind": "adjustment"}):
        fields = {**line, **bad}
        if "order_id" not in bad:
            fields["order_id"] = done(hc, dt.date(2026, 3, 3), "10")
        with pytest.raises(IntegrityError, match="is not present"), transaction.atomic():
            m.SettlementLine.objects.bulk_create([m.SettlementLine(**fields)])
    with pytest.raises(IntegrityError, match="still referenced"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("DELETE FROM homecare_anomaly WHERE order_id = %s", [o])
            cur.execute("DELETE FROM homecare_order WHERE id = %s", [o])
    with pytest.raises(IntegrityError, match="still referenced"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("DELETE FROM homecare_settlementrun WHERE id = %s", [run.pk])
    with pytest.raises(IntegrityError, match="is not present"), transaction.atomic():
        m.SettlementLine.objects.filter(order_id=o).update(elder_id=10 ** 9)
    # an unreferenced order can still be deleted (the guard looks only at the deleted rows)
    spare = done(hc, dt.date(2026, 5, 3), "10")
    with connection.cursor() as cur:
        cur.execute("DELETE FROM homecare_orderevent WHERE order_id = %s", [spare])
        cur.execute("DELETE FROM homecare_order WHERE id = %s", [spare])
    assert not m.Order.objects.filter(pk=spare).exists()
