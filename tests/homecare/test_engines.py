"""The pure home-care engines: entitlement arithmetic, over-budget handling, settlement corrections,
recurring orders across Chinese holidays, visit-plan rules, due/overdue, assignment and verification."""
import datetime as dt
from decimal import Decimal as D

import pytest

from carenet.homecare.engine import entitlement as ee
from carenet.homecare.engine import orders as eo
from carenet.homecare.engine import recurring as er
from carenet.homecare.engine import settlement as es
from carenet.homecare.engine import verification as ev
from carenet.homecare.engine import visits as evis

TABLE = {"tekun": D("200"), "dibao": D("150"), "severe_disability": D("300")}


def test_budget_is_the_highest_category_and_explains_itself():
    b = ee.budget_for(["dibao", "severe_disability", "advanced_age"], TABLE, source="340899 2024-01-01")
    assert b.amount == D("300.00") and b.category == "severe_disability"
    assert "300.00" in b.explain() and "150.00" in b.explain() and "340899" in b.explain()
    none = ee.budget_for(["advanced_age"], TABLE)
    assert none.amount == D("0.00") and none.category is None and "0 元" in none.explain()


def test_balance_subtracts_used_and_reserved():
    bal = ee.balance(ee.budget_for(["tekun"], TABLE), used=[D("50"), D("30.5")], reserved=[D("40")])
    assert bal.remaining == D("79.50")
    assert any("剩余 79.50 元 = 200.00 − 80.50 − 40.00" in line for line in bal.explain())
    over = ee.balance(ee.budget_for(["tekun"], TABLE), used=[D("250")])
    assert over.remaining == D("0.00")  # never negative


def test_over_budget_refused_or_self_paid_with_consent():
    assert ee.split(D("45"), D("60"), policy=ee.REFUSE, consent=False) == ee.Split(D("45.00"), D("0.00"), ee.split(D("45"), D("60"), policy=ee.REFUSE, consent=False).explanation)
    with pytest.raises(ee.OverBudget) as exc:
        ee.split(D("45"), D("20"), policy=ee.REFUSE, consent=True)
    assert exc.value.code == "refused"
    with pytest.raises(ee.OverBudget) as exc:
        ee.split(D("45"), D("20"), policy=ee.SELF_PAY, consent=False)
    assert exc.value.code == "consent_needed" and exc.value.remaining == D("20.00")
    s = ee.split(D("45"), D("20"), policy=ee.SELF_PAY, consent=True)
    assert (s.subsidy, s.self_pay) == (D("20.00"), D("25.00")) and "自费 25.00" in s.explanation
    s0 = ee.split(D("45"), D("0"), policy=ee.SELF_PAY, consent=True)
    assert (s0.subsidy, s0.self_pay) == (D("0.00"), D("45.00"))


def test_state_machine_and_reasons():
    s = eo.CREATED
    for action, actor in [("assign", eo.STAFF), ("accept", eo.HELPER), ("depart", eo.HELPER), ("check_in", eo.HELPER),
                          ("check_out", eo.HELPER), ("confirm", eo.CONFIRMER), ("rate", eo.CONFIRMER)]:
        s = eo.next_state(s, action, actor)
    assert s == eo.RATED
    with pytest.raises(eo.TransitionError) as exc:
        eo.next_state(eo.ASSIGNED, "cancel", eo.STAFF)
    assert exc.value.code == "reason_required"
    assert eo.next_state(eo.ASSIGNED, "cancel", eo.STAFF, "老人住院") == eo.CANCELLED
    with pytest.raises(eo.TransitionError) as exc:
        eo.next_state(eo.CHECKED_OUT, "cancel", eo.STAFF, "x")
    assert exc.value.code == "not_allowed"
    with pytest.raises(eo.TransitionError) as exc:
        eo.next_state(eo.ASSIGNED, "accept", eo.STAFF)
    assert exc.value.code == "not_your_step"
    assert eo.actions_from(eo.ACCEPTED, eo.HELPER) == ["decline", "depart", "check_in", "fail"]


def test_one_definition_of_due_and_overdue():
    at = dt.datetime(2026, 3, 3, 9, 0)
    assert eo.timeliness(eo.ASSIGNED, at, at - dt.timedelta(hours=3)) == eo.ON_TIME
    assert eo.timeliness(eo.ASSIGNED, at, at - dt.timedelta(hours=1)) == eo.DUE
    assert eo.timeliness(eo.ACCEPTED, at, at + dt.timedelta(minutes=29)) == eo.DUE
    assert eo.timeliness(eo.ACCEPTED, at, at + dt.timedelta(minutes=31)) == eo.OVERDUE
    ci = at + dt.timedelta(minutes=5)
    assert eo.timeliness(eo.CHECKED_IN, at, ci + dt.timedelta(minutes=100), checked_in_at=ci, max_minutes=90) == eo.DUE
    assert eo.timeliness(eo.CHECKED_IN, at, ci + dt.timedelta(minutes=121), checked_in_at=ci, max_minutes=90) == eo.OVERDUE
    assert eo.timeliness(eo.CONFIRMED, at, at + dt.timedelta(days=9)) == eo.ON_TIME
    cut = eo.overdue_cutoffs(at)
    assert cut["not_started"] == at - eo.START_GRACE and cut["due"] == at + eo.DUE_WINDOW


def test_assignment_by_area_skill_hours_and_load():
    base = dict(provider_id=1, provider_paths=("34/01",), work_start=dt.time(8), work_end=dt.time(18))
    a = eo.Candidate(helper_id=1, skills=frozenset({"bath"}), area_paths=("34/01/A",), load=3, **base)
    b = eo.Candidate(helper_id=2, skills=frozenset({"bath", "clean"}), area_paths=("34/01",), load=1, **base)
    c = eo.Candidate(helper_id=3, skills=frozenset({"clean"}), area_paths=("34/01",), **base)
    d = eo.Candidate(helper_id=4, skills=frozenset({"bath"}), area_paths=("34/02",), **base)
    start = dt.datetime(2026, 3, 3, 9)
    ranked = eo.rank_candidates([a, b, c, d], service="bath", elder_path="34/01/A/g1", start=start, minutes=60)
    assert [(x.helper_id, why) for x, why in ranked][:2] == [(2, []), (1, [])]  # lighter load first
    assert dict((x.helper_id, why) for x, why in ranked)[3] == ["skill"]
    assert "area" in dict((x.helper_id, why) for x, why in ranked)[4]
    busy = eo.Candidate(helper_id=5, skills=frozenset({"bath"}), area_paths=("34/01",),
                        busy=((start + dt.timedelta(minutes=30), start + dt.timedelta(minutes=90)),), **base)
    late = eo.Candidate(helper_id=6, skills=frozenset({"bath"}), area_paths=("34/01",), **{**base, "work_end": dt.time(9, 30)})
    r = dict((x.helper_id, why) for x, why in eo.rank_candidates([busy, late], service="bath", elder_path="34/01/A",
                                                                  start=start, minutes=60))
    assert r == {5: ["busy"], 6: ["hours"]}
    assert eo.best_candidate([busy, late], service="bath", elder_path="34/01/A", start=start, minutes=60) is None


M1, M2 = dt.date(2026, 3, 1), dt.date(2026, 4, 1)


def item(oid, elder=1, price="50", subsidy=None, month=M1, status=es.ACCEPTED, reason="", provider=7):
    return es.Item(oid, elder, provider, month, oid, D(price), D(subsidy or price), status, reason)


def test_settlement_caps_each_elder_at_the_budget_and_keeps_disputes_out():
    lines = es.settle(M1, [item(1), item(2), item(3), item(4, status=es.DISPUTED, reason="待核实"),
                           item(5, status=es.REJECTED, reason="签到超出围栏"), item(6, elder=2, price="80", subsidy="30")],
                      budgets={(1, M1): D("120"), (2, M1): D("200")})
    by = {ln.order_id: ln for ln in lines}
    assert [by[i].subsidy for i in (1, 2, 3)] == [D("50"), D("50"), D("20")]
    assert "可用 20" in by[3].reason
    assert by[4].status == es.DISPUTED and by[4].subsidy == 0 and by[5].status == es.REJECTED and by[5].reason
    assert (by[6].subsidy, by[6].self_pay) == (D("30"), D("50"))  # self-paid with consent at order time
    t = es.totals_by_provider(lines)[7]
    assert (t.accepted, t.disputed, t.rejected, t.subsidy) == (4, 1, 1, D("150"))


def test_corrections_go_to_the_next_month_and_late_orders_use_their_own_months_budget():
    march = es.settle(M1, [item(1), item(2, status=es.DISPUTED, reason="待核实")], budgets={(1, M1): D("80")})
    paid_march = sum(ln.subsidy for ln in march)
    assert paid_march == D("50")
    # April: the dispute was cleared (a correction of +30, what remained of March's budget), and an order of
    # March was confirmed late: it is charged against March's budget, already used up
    corr = es.Correction(1, 2, 1, 7, M1, D("30"), "异常核实排除，补结补贴")
    april = es.settle(M2, [item(3, month=M1, price="40"), item(4, month=M2, price="40")],
                      budgets={(1, M1): D("80"), (1, M2): D("80")}, used={(1, M1): D("80")}, corrections=[corr])
    by = {(ln.kind, ln.order_id): ln for ln in april}
    assert by[(es.ADJUSTMENT, 2)].subsidy == D("30") and by[(es.ADJUSTMENT, 2)].service_month == M1
    assert by[(es.LATE, 3)].subsidy == D("0") and "可用 0" in by[(es.LATE, 3)].reason
    assert by[(es.SERVICE, 4)].subsidy == D("40")
    # March's lines are untouched by April's settlement (the function never returns lines for March)
    assert all(ln.kind != es.SERVICE or ln.service_month == M2 for ln in april)
    with pytest.raises(ValueError):
        es.settle(M1, [], {}, corrections=[corr])  # a correction always lands in a later month
    assert es.correction_for(D("50"), D("0")) == D("-50")


def holidays_2025(d):
    return d in {dt.date(2025, 10, 1), dt.date(2025, 10, 7), dt.date(2025, 10, 8)} or d.weekday() >= 5 and d != dt.date(2025, 9, 28)


def test_recurring_skips_or_moves_chinese_holidays():
    # every Tuesday and Wednesday 9:00 over National Day 2025 (Oct 1-8 holidays), with the real calendar
    occ = er.occurrences([1, 2], dt.time(9), dt.date(2025, 9, 29), dt.date(2025, 10, 15))
    days = [o.at.date() for o in occ]
    assert dt.date(2025, 9, 30) in days and dt.date(2025, 10, 1) not in days and dt.date(2025, 10, 7) not in days
    assert dt.date(2025, 10, 8) not in days and dt.date(2025, 10, 14) in days
    moved = er.occurrences([2], dt.time(9), dt.date(2025, 10, 1), dt.date(2025, 10, 1), holidays=er.NEXT_WORKDAY)
    assert [(o.at, o.moved) for o in moved] == [(dt.datetime(2025, 10, 9, 9), True)]
    # 2025-10-11 is a Saturday make-up working day (调休): a Saturday plan runs then
    sat = er.occurrences([5], dt.time(9), dt.date(2025, 10, 4), dt.date(2025, 10, 11))
    assert [o.at.date() for o in sat] == [dt.date(2025, 10, 11)]
    kept = er.occurrences([2], dt.time(9), dt.date(2025, 10, 1), dt.date(2025, 10, 1), holidays=er.KEEP)
    assert len(kept) == 1 and not kept[0].moved
    unknown = er.occurrences([1], dt.time(9), dt.date(2027, 1, 5), dt.date(2027, 1, 5), is_holiday=lambda d: None)
    assert unknown[0].provisional
    with pytest.raises(ValueError):
        er.occurrences([], dt.time(9), dt.date(2025, 1, 1), dt.date(2025, 1, 2))


def facts(living="with_children", care="intact", cats=(), key=False):
    return evis.ElderFacts(living, care, frozenset(cats), key)


def test_visit_plan_rules():
    assert evis.frequency(facts("alone")).period == "week"
    f = evis.frequency(facts(care="moderate", cats=["dibao"]))
    assert f.period == "week" and f.rules == ("失能/半失能低保",)
    assert evis.frequency(facts(care="moderate")) is None           # disabled but not 低保
    assert evis.frequency(facts(cats=["lost_only_child"])).days == 7
    m = evis.frequency(facts("empty_nest"))
    assert (m.period, m.days) == ("month", 30)
    both = evis.frequency(facts("empty_nest", cats=["lost_only_child"]))
    assert both.period == "week" and set(both.rules) == {"计生特扶", "其他空巢老人"}
    custom = [{"name": "高龄", "period": "month", "categories": ["advanced_age"]}]
    assert evis.frequency(facts("alone"), custom) is None and evis.frequency(facts(cats=["advanced_age"]), custom).days == 30
    with pytest.raises(ValueError):
        evis.validate([{"name": "x", "period": "fortnight"}])
    with pytest.raises(ValueError):
        evis.validate([{"name": "x", "period": "week", "income": 1}])
    due = evis.next_due(dt.date(2026, 3, 2), dt.date(2026, 1, 1), 7)
    assert due == dt.date(2026, 3, 9)
    assert evis.escalation(due, dt.date(2026, 3, 9)) is None
    assert evis.escalation(due, dt.date(2026, 3, 10)) == evis.COMMUNITY
    assert evis.escalation(due, dt.date(2026, 3, 17)) == evis.STREET


def visit(oid=1, elder=1, helper=1, start=dt.datetime(2026, 3, 3, 9), minutes=60, home=(30.0, 117.0),
          check_in=(30.0, 117.0), min_minutes=45):
    return ev.Visit(oid, elder, helper, "bath", start, start + dt.timedelta(minutes=minutes), home, check_in, min_minutes)


def test_verification_rules():
    assert ev.check_visit(visit(), 200) == []
    short = ev.check_visit(visit(minutes=20), 200)
    assert [f.kind for f in short] == [ev.SHORT]
    far = ev.check_visit(visit(check_in=(30.01, 117.0)), 200)  # about 1.1 km north
    assert [f.kind for f in far] == [ev.GEOFENCE] and "1112" in far[0].detail
    assert 1100 < ev.distance_m(30.0, 117.0, 30.01, 117.0) < 1125
    assert [f.kind for f in ev.check_visit(visit(check_in=None), 200)] == [ev.NO_LOCATION]
    other = visit(oid=2, elder=2, start=dt.datetime(2026, 3, 3, 9, 30))
    assert [f.other_order_id for f in ev.overlaps(visit(), [other])] == [2]
    assert ev.overlaps(visit(), [visit(oid=3, elder=2, start=dt.datetime(2026, 3, 3, 10, 0))]) == []  # back to back
    assert ev.overlaps(visit(), [visit(oid=4, elder=2, helper=9, start=dt.datetime(2026, 3, 3, 9, 30))]) == []
    assert [f.other_order_id for f in ev.photo_reuse(1, [0b1011], [(2, 0b1011), (3, (1 << 40) - 1), (1, 0b1011)])] == [2]
    assert ev.photo_reuse(1, [0], [(2, (1 << 6) - 1)]) == []  # 6 bits differ: a different photo
    st = ev.ElderStatus(deceased_on=dt.date(2026, 3, 1))
    assert ev.elder_absent(visit(), st)[0].kind == ev.ELDER_ABSENT
    assert ev.elder_absent(visit(), ev.ElderStatus(hospital=((dt.date(2026, 3, 2), None),)))
    assert ev.elder_absent(visit(), ev.ElderStatus(hospital=((dt.date(2026, 2, 2), dt.date(2026, 3, 2)),))) == []
    alarm = ((dt.datetime(2026, 3, 3, 8), None, "跌倒，已送医"),)
    assert "跌倒" in ev.elder_absent(visit(), ev.ElderStatus(elsewhere_alarms=alarm))[0].detail
    assert ev.too_many(1, 3) == [] and ev.too_many(1, 4)[0].kind == ev.TOO_MANY
    assert ev.evv_missing({"service_type": "助浴", "recipient": "甲", "helper": "乙", "date": "2026-03-03",
                           "location": "30,117", "start": "09:00", "end": None}) == ["end"]


def test_dhash_sees_the_same_photo_through_reencoding():
    from io import BytesIO

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (320, 240), "white")
    ImageDraw.Draw(img).rectangle((40, 40, 200, 180), fill="navy")
    buf = BytesIO()
    img.resize((160, 120)).save(buf, "JPEG", quality=60)
    again = Image.open(BytesIO(buf.getvalue()))
    other = Image.new("RGB", (320, 240), "white")
    ImageDraw.Draw(other).ellipse((120, 20, 300, 220), fill="darkred")
    assert ev.hamming(ev.dhash(img), ev.dhash(again)) <= ev.PHASH_THRESHOLD
    assert ev.hamming(ev.dhash(img), ev.dhash(other)) > ev.PHASH_THRESHOLD


def test_meal_subsidy_by_category_and_capacity():
    from carenet.homecare.engine import meals as em

    table = {"tekun": D("10"), "dibao": D("6")}
    s = em.split(D("15"), ["dibao", "tekun"], table)
    assert (s.subsidy, s.share, s.category) == (D("10.00"), D("5.00"), "tekun") and "自付 5.00" in s.explain()
    assert em.split(D("8"), ["tekun"], table).share == D("0.00")  # never more than the price
    none = em.split(D("15"), ["advanced_age"], table)
    assert (none.subsidy, none.share, none.category) == (D("0.00"), D("15.00"), None)
    assert em.capacity_left(0, 500) is None and em.capacity_left(40, 38) == 2 and em.capacity_left(40, 45) == 0


def test_project_stages_and_pairing_frequency():
    from carenet.homecare.engine import pairing as epair
    from carenet.homecare.engine import projects as ep

    st = "application"
    for _ in range(3):
        st = ep.advance(ep.ADAPTATION, st)
    assert st == "works"
    with pytest.raises(ep.StageError) as exc:
        ep.advance(ep.ADAPTATION, "works")
    assert exc.value.code == "photos_needed"
    with pytest.raises(ep.StageError) as exc:
        ep.advance(ep.CARE_BED, "works", photos=2)
    assert exc.value.code == "devices_needed"
    assert ep.advance(ep.CARE_BED, "works", photos=1, devices=2) == "acceptance"
    with pytest.raises(ep.StageError):
        ep.advance(ep.ADAPTATION, "acceptance", photos=1)
    assert ep.advance(ep.ADAPTATION, "acceptance", subsidy=D("3000")) == "paid"
    today = dt.date(2026, 3, 31)
    assert epair.behind([dt.date(2026, 3, 20), dt.date(2026, 1, 5)], 2, today) == 1
    assert epair.behind([dt.date(2026, 3, 20), dt.date(2026, 3, 2)], 2, today) == 0


def test_elder_elsewhere_rules_name_the_exact_reason():
    from carenet.homecare.engine import verification as ev

    v = ev.Visit(order_id=1, elder_id=1, helper_id=1, service="bath", start=dt.datetime(2026, 3, 3, 9, 0),
                 end=dt.datetime(2026, 3, 3, 10, 0), home=(30.0, 117.0), check_in=(30.0, 117.0), min_minutes=45)
    at = dt.datetime(2026, 3, 3, 8, 30)
    helper_sent = ev.AlarmFact(7, "sos", "一键呼叫", at, None, ("helper",))
    assert ev.elder_absent(v, ev.ElderStatus(alarms=(helper_sent,))) == []   # help went to the home
    ambulance = ev.AlarmFact(8, "fall", "跌倒", at, None, ("helper", "ambulance"))
    d = ev.elder_absent(v, ev.ElderStatus(alarms=(ambulance,)))[0].detail
    assert "告警#8" in d and "跌倒" in d and "120" in d and "09:00–10:00" in d
    closed_before = ev.AlarmFact(9, "geofence_exit", "离开安全区域", at, dt.datetime(2026, 3, 3, 8, 59))
    assert ev.elder_absent(v, ev.ElderStatus(alarms=(closed_before,))) == []
    during = ev.AlarmFact(10, "geofence_exit", "离开安全区域", dt.datetime(2026, 3, 3, 9, 50), None)
    assert "告警#10" in ev.elder_absent(v, ev.ElderStatus(alarms=(during,)))[0].detail
    away = ev.Absence(dt.date(2026, 3, 1), None, "away", "女儿家")
    assert "外出（女儿家）" in ev.elder_absent(v, ev.ElderStatus(absences=(away,)))[0].detail
    back = ev.Absence(dt.date(2026, 3, 1), dt.date(2026, 3, 2), "hospital", "区医院")
    assert ev.elder_absent(v, ev.ElderStatus(absences=(back,))) == []


def test_registered_absence_by_the_hour_names_its_return():
    from carenet.homecare.engine import verification as ev

    v = ev.Visit(order_id=1, elder_id=1, helper_id=1, service="bath", start=dt.datetime(2026, 3, 3, 15, 0),
                 end=dt.datetime(2026, 3, 3, 16, 0), home=(30.0, 117.0), check_in=(30.0, 117.0), min_minutes=45)
    d3 = dt.date(2026, 3, 3)
    back_at_10 = ev.Absence(dt.date(2026, 3, 1), d3, "away", "探亲", dt.datetime(2026, 3, 1, 8, 0),
                            dt.datetime(2026, 3, 3, 10, 0), False)
    assert ev.elder_absent(v, ev.ElderStatus(absences=(back_at_10,))) == []   # same date, back before the visit
    expected_at_18 = ev.Absence(dt.date(2026, 3, 1), d3, "away", "探亲", dt.datetime(2026, 3, 1, 8, 0),
                                dt.datetime(2026, 3, 3, 18, 0), True)
    d = ev.elder_absent(v, ev.ElderStatus(absences=(expected_at_18,)))[0].detail
    assert "外出报备（探亲）" in d and "03-01 08:00 起" in d and "预计 03-03 18:00 返回" in d
    leaves_at_17 = ev.Absence(d3, d3, "hospital", "", dt.datetime(2026, 3, 3, 17, 0), None)
    assert ev.elder_absent(v, ev.ElderStatus(absences=(leaves_at_17,))) == []  # leaves after the visit
