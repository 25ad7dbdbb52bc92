"""Payroll: normal lines, idempotent re-runs, back pay, recovery, future-dated changes, summaries."""

from datetime import date
from decimal import Decimal

import pytest

from carenet.assistance.engine.eligibility import assess_dibao
from carenet.assistance.engine.household import Household, IncomeItem, Member
from carenet.assistance.engine.payroll import (
    BACK_PAY, NORMAL, RECOVERY, AmountChange, Entitlement, add_months, compute_month, dynamic_adjustments,
    effective_month_for, payment_start_month, restate, summarize,
)
from carenet.assistance.engine.rules import DIBAO_URBAN, RuleSet, Standard, default_standards

M = lambda y, m: date(y, m, 1)  # noqa: E731
PATH = ("330000", "330100", "330106", "330106001")


def ent(eid="e1", amount="500", persons=2, start=M(2025, 7), stop=None, changes=(), township="330106001",
        program=DIBAO_URBAN, ben=None):
    return Entitlement(eid, ben or f"h-{eid}", program, township, Decimal(amount), persons, start, stop, tuple(changes))


def run_months(entitlements, first, last, ledger=None):
    ledger = list(ledger or [])
    m = first
    while m <= last:
        ledger += compute_month(entitlements, ledger, m).lines
        m = add_months(m, 1)
    return ledger


def test_first_payment_is_the_month_after_approval():
    rules = RuleSet(default_standards("330000"))
    assert payment_start_month(date(2025, 6, 20), rules, PATH, DIBAO_URBAN) == M(2025, 7)
    same_month = rules.with_rows(Standard("330106", DIBAO_URBAN, "payment_start_offset_months", 0, date(2025, 1, 1)))
    assert payment_start_month(date(2025, 6, 20), same_month, PATH, DIBAO_URBAN) == M(2025, 6)
    e = ent(start=M(2025, 7))
    assert compute_month([e], [], M(2025, 6)).lines == ()
    lines = compute_month([e], [], M(2025, 7)).lines
    assert [(l.kind, l.period, l.amount) for l in lines] == [(NORMAL, M(2025, 7), Decimal("500.00"))]


def test_rerunning_a_month_is_idempotent():
    e = ent()
    ledger = list(compute_month([e], [], M(2025, 7)).lines)
    assert compute_month([e], ledger, M(2025, 7)).lines == ()
    ledger = run_months([e], M(2025, 8), M(2025, 10), ledger)
    assert len(ledger) == 4 and {l.kind for l in ledger} == {NORMAL}
    for m in (M(2025, 7), M(2025, 9), M(2025, 10)):
        assert compute_month([e], ledger, m).lines == ()


def test_retroactive_raise_produces_back_pay_for_past_months_only():
    e = ent(amount="500")
    ledger = run_months([e], M(2025, 7), M(2025, 10))
    raised = e.with_change(AmountChange(M(2025, 9), Decimal("560"), reason="增发: 家庭成员患重病"))
    lines = compute_month([raised], ledger, M(2025, 11)).lines
    got = sorted((l.period, l.kind, l.amount) for l in lines)
    assert got == [(M(2025, 9), BACK_PAY, Decimal("60.00")), (M(2025, 10), BACK_PAY, Decimal("60.00")),
                   (M(2025, 11), NORMAL, Decimal("560.00"))]
    # paid lines are never edited
    assert all(l.amount == Decimal("500.00") for l in ledger)
    ledger += lines
    assert compute_month([raised], ledger, M(2025, 11)).lines == ()


def test_retroactive_lower_and_stop_produce_recovery_lines():
    e = ent(amount="500", persons=3)
    ledger = run_months([e], M(2025, 7), M(2025, 10))
    lowered = e.with_change(AmountChange(M(2025, 10), Decimal("450"), persons=2))
    lines = compute_month([lowered], ledger, M(2025, 11)).lines
    rec = [l for l in lines if l.kind == RECOVERY]
    assert [(l.period, l.amount) for l in rec] == [(M(2025, 10), Decimal("-50.00"))]
    stopped = ent(amount="500", persons=3, stop=M(2025, 9))
    lines = compute_month([stopped], ledger, M(2025, 11)).lines
    assert sorted((l.period, l.kind, l.amount) for l in lines) == [
        (M(2025, 9), RECOVERY, Decimal("-500.00")), (M(2025, 10), RECOVERY, Decimal("-500.00"))]
    ledger += lines
    assert compute_month([stopped], ledger, M(2025, 11)).lines == ()
    assert compute_month([stopped], ledger, M(2025, 12)).lines == ()


def test_missed_month_is_back_paid():
    e = ent()
    ledger = run_months([e], M(2025, 7), M(2025, 7))
    # August payroll never ran for this entitlement; September catches up
    lines = compute_month([e], ledger, M(2025, 9)).lines
    assert sorted((l.period, l.kind) for l in lines) == [(M(2025, 8), BACK_PAY), (M(2025, 9), NORMAL)]


def test_future_dated_change_never_changes_earlier_months():
    e = ent(amount="500")
    future = e.with_change(AmountChange(M(2026, 1), Decimal("600")))
    ledger = run_months([e], M(2025, 7), M(2025, 11))
    assert compute_month([future], ledger, M(2025, 11)).lines == ()
    dec = compute_month([future], ledger, M(2025, 12)).lines
    assert [(l.kind, l.amount) for l in dec] == [(NORMAL, Decimal("500.00"))]
    ledger += dec
    jan = compute_month([future], ledger, M(2026, 1)).lines
    assert [(l.kind, l.amount) for l in jan] == [(NORMAL, Decimal("600.00"))]


def test_standard_change_restates_from_its_date_via_rules():
    rules = RuleSet(default_standards("330000")).with_rows(
        Standard("330106", DIBAO_URBAN, "dibao_monthly", Decimal("780"), date(2024, 1, 1)),
        Standard("330106", DIBAO_URBAN, "dibao_monthly", Decimal("820"), date(2026, 1, 1)))
    h = Household("h1", PATH, "urban", (Member("p1", "张三", "applicant", date(1970, 1, 1)),
                                        Member("p2", "李四", "spouse", date(1972, 1, 1))),
                  (IncomeItem("p1", "wage", Decimal("1024")),))

    def amount_on(d):
        o = assess_dibao(h, rules, d)
        return o.monthly_amount, o.persons

    approved = assess_dibao(h, rules, date(2025, 6, 20))
    e = Entitlement("e1", "h1", DIBAO_URBAN, "330106001", approved.monthly_amount, approved.persons,
                    payment_start_month(date(2025, 6, 20), rules, PATH, DIBAO_URBAN))
    changes = rules.change_dates("dibao_monthly", DIBAO_URBAN, PATH, date(2025, 6, 20), date(2026, 12, 31))
    assert changes == [date(2026, 1, 1)]
    e2 = restate(e, changes, amount_on)
    assert e2.due_for(M(2025, 12))[0] == approved.monthly_amount
    assert e2.due_for(M(2026, 1))[0] == (Decimal("820") - Decimal("512")) * 2
    # a mid-month change applies from the next month
    assert effective_month_for(date(2026, 1, 15)) == M(2026, 2)
    ledger = run_months([e], M(2025, 7), M(2025, 11))
    assert compute_month([e2], ledger, M(2025, 11)).lines == ()


def test_summary_and_report_sentence():
    es = [ent("a", "500", 2, township="T1"), ent("b", "300", 1, township="T1"),
          ent("c", "700", 3, township="T2", program="dibao_rural")]
    lines = compute_month(es, [], M(2025, 7)).lines
    by_town = {(s.program, s.township_code): s for s in summarize(lines)}
    assert by_town[("dibao", "T1")].households == 2 and by_town[("dibao", "T1")].persons == 3
    assert by_town[("dibao", "T1")].amount == Decimal("800.00")
    total = summarize(lines, by_township=False)
    assert len(total) == 1
    s = total[0]
    assert (s.households, s.persons, s.amount) == (3, 6, Decimal("1500.00"))
    assert s.zh() == "城乡低保3户6人, 累计发放资金0.15万"
    separate = summarize(lines, by_township=False, program_groups=None)
    assert {x.program for x in separate} == {"dibao_urban", "dibao_rural"}


def test_summary_net_of_recoveries_counts_only_paid_households():
    e = ent("a", "500", 2, stop=M(2025, 8))
    ledger = run_months([ent("a", "500", 2)], M(2025, 7), M(2025, 8))
    rec = compute_month([e], ledger, M(2025, 9)).lines
    s = summarize(ledger + list(rec), by_township=False)[0]
    assert s.amount == Decimal("500.00") and s.households == 1
    only_rec = summarize(rec, by_township=False)[0]
    assert only_rec.households == 0 and only_rec.amount == Decimal("-500.00")


def test_dynamic_adjustment_counts():
    es = [ent("a", persons=2, start=M(2025, 9)), ent("b", persons=3, start=M(2025, 9)),
          ent("c", persons=4, start=M(2025, 1), stop=M(2025, 9)),
          ent("d", persons=1, start=M(2025, 1), stop=M(2025, 10))]
    (adj,) = dynamic_adjustments(es, M(2025, 9), by_township=False)
    assert (adj.added_households, adj.added_persons, adj.stopped_households, adj.stopped_persons) == (2, 5, 1, 4)
    assert adj.zh() == "城乡低保新增2户5人，停保1户4人"


def test_change_before_start_replaces_base_and_persons_carry_over():
    e = ent(amount="500", persons=2, changes=[AmountChange(M(2025, 1), Decimal("450")),
                                              AmountChange(M(2025, 9), Decimal("400"))])
    assert e.due_for(M(2025, 7)) == (Decimal("450.00"), 2)
    assert e.due_for(M(2025, 9)) == (Decimal("400.00"), 2)
    assert e.due_for(M(2025, 6)) == (Decimal("0.00"), 0)


def test_restate_refuses_to_silently_end_an_entitlement():
    from carenet.assistance.engine.payroll import NoLongerEligibleError
    with pytest.raises(NoLongerEligibleError):
        restate(ent(), [date(2026, 1, 1)], lambda d: (None, 0))


def test_person_based_programs_report_persons_only():
    lines = compute_month([ent("a", "300", 1, program="elderly_allowance"),
                           ent("b", "300", 1, program="elderly_allowance")], [], M(2025, 7)).lines
    (s,) = summarize(lines, by_township=False)
    assert s.zh() == "高龄津贴2人, 累计发放资金0.06万"
