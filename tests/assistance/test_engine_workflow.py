"""Workflow guards: separation of duties, near relatives, reasons, notice period, deadlines."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from carenet.assistance.engine import workflow as wf
from carenet.assistance.engine.rules import ANY_PROGRAM, DIBAO_URBAN, RuleSet, Standard, default_standards
from carenet.assistance.engine.workdays import add_working_days, working_days_between

PATH = ("330000", "330100", "330106", "330106001")
RULES = RuleSet(default_standards("330000"))

intake = wf.Actor("u-intake", frozenset({wf.INTAKE}), "330106001")
surveyor = wf.Actor("u-survey", frozenset({wf.SURVEYOR}), "330106001")
reviewer = wf.Actor("u-review", frozenset({wf.REVIEWER}), "330106001")
approver = wf.Actor("u-approve", frozenset({wf.APPROVER}), "330106")
township_approver = wf.Actor("u-town", frozenset({wf.TOWNSHIP_APPROVER}), "330106001")
both = wf.Actor("u-both", frozenset({wf.REVIEWER, wf.APPROVER}), "330106")
payroll = wf.Actor("u-payroll", frozenset({wf.PAYROLL}), "330106")


def at(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour)


def start(d=date(2025, 9, 22), **kw):
    return wf.new_case("c1", DIBAO_URBAN, PATH, {"p1", "p2"}, intake, at(d), **kw).case


def go(case, action, actor, d, rules=RULES, **kw):
    return wf.transition(case, action, actor, at(d), rules=rules, **kw).case


def to_notice(reviewer_actor=reviewer, d=date(2025, 9, 22)):
    c = go(start(d), "survey", surveyor, d)
    c = go(c, "review", reviewer_actor, d, data={"recommend": True})
    return go(c, "start_notice", reviewer_actor, d)


def to_submitted(reviewer_actor=reviewer):
    c = to_notice(reviewer_actor)
    return go(c, "submit", reviewer_actor, c.notice_ends_on + timedelta(days=1))


def test_happy_path_history_and_states():
    c = to_submitted()
    c = go(c, "approve", approver, date(2025, 10, 20), data={"monthly_amount": Decimal("536")})
    c = go(c, "start_payment", payroll, date(2025, 11, 1))
    assert c.state == wf.PAYING and c.monthly_amount == Decimal("536.00")
    assert [e.action for e in c.history] == ["accept", "survey", "review", "start_notice", "submit", "approve",
                                             "start_payment"]
    assert [e.seq for e in c.history] == list(range(1, 8))
    assert c.history[1].from_state == wf.ACCEPTED and c.history[1].to_state == wf.SURVEYED


def test_same_person_cannot_review_and_approve():
    c = to_submitted(reviewer_actor=both)
    with pytest.raises(wf.SeparationOfDutiesError):
        go(c, "approve", both, date(2025, 10, 20))
    with pytest.raises(wf.SeparationOfDutiesError):
        go(c, "reject", both, date(2025, 10, 20), reason="收入超标")
    assert go(c, "approve", approver, date(2025, 10, 20)).state == wf.APPROVED


def test_approver_cannot_later_do_the_recheck_review_and_reviewer_cannot_stop():
    c = to_submitted()
    c = go(c, "approve", both, date(2025, 10, 20))  # 'both' did not review this case: allowed
    c = go(c, "start_payment", payroll, date(2025, 11, 1))
    c = go(c, "start_recheck", reviewer, date(2026, 4, 1))
    with pytest.raises(wf.SeparationOfDutiesError):
        go(c, "complete_recheck", both, date(2026, 4, 2))
    with pytest.raises(wf.SeparationOfDutiesError):
        go(c, "stop", wf.Actor("u-review", frozenset({wf.APPROVER}), "330106"), date(2026, 4, 2), reason="就业")


def test_near_relative_declared_by_actor_blocks_every_action():
    relative = wf.Actor("u-rel", frozenset({wf.SURVEYOR, wf.REVIEWER, wf.INTAKE}), "330106001",
                        near_relative_person_ids=frozenset({"p2"}))
    with pytest.raises(wf.NearRelativeConflictError):
        wf.new_case("c1", DIBAO_URBAN, PATH, {"p1", "p2"}, relative, at(date(2025, 9, 22)))
    c = start()
    with pytest.raises(wf.NearRelativeConflictError):
        go(c, "survey", relative, date(2025, 9, 22))
    assert go(c, "survey", surveyor, date(2025, 9, 22)).state == wf.SURVEYED


def test_declarations_flag_the_case_for_the_related_staff_only():
    c = start(declarations={"u-approve": {"p1"}, "u-other": {"zzz"}})
    assert c.conflicted_staff == frozenset({"u-approve"}) and "near_relative" in c.flags
    c = go(c, "survey", surveyor, date(2025, 9, 22))
    c = go(c, "review", reviewer, date(2025, 9, 22), data={"recommend": True})
    c = go(c, "start_notice", reviewer, date(2025, 9, 22))
    c = go(c, "submit", reviewer, c.notice_ends_on + timedelta(days=1))
    with pytest.raises(wf.NearRelativeConflictError):
        go(c, "approve", approver, date(2025, 10, 20))
    other_approver = wf.Actor("u-approve-2", frozenset({wf.APPROVER}), "330106")
    assert go(c, "approve", other_approver, date(2025, 10, 20)).state == wf.APPROVED
    assert not start().flags


def test_invalid_transitions():
    c = start()
    with pytest.raises(wf.InvalidTransitionError):
        go(c, "approve", approver, date(2025, 9, 22))
    with pytest.raises(wf.InvalidTransitionError):
        go(c, "fly", approver, date(2025, 9, 22))
    closed = go(c, "withdraw", intake, date(2025, 9, 23), reason="申请人撤回")
    assert closed.state == wf.CLOSED
    for action in wf.ACTIONS:
        with pytest.raises(wf.InvalidTransitionError):
            go(closed, action, both, date(2025, 9, 24), reason="x")


@pytest.mark.parametrize("action, state_builder", [
    ("reject", "submitted"), ("objection", "in_notice"), ("withdraw", "accepted"),
    ("raise", "paying"), ("lower", "paying"), ("stop", "paying"),
])
def test_reasons_required(action, state_builder):
    if state_builder == "accepted":
        c, actor = start(), intake
    elif state_builder == "in_notice":
        c, actor = to_notice(), reviewer
    elif state_builder == "submitted":
        c, actor = to_submitted(), approver
    else:
        c = go(go(to_submitted(), "approve", approver, date(2025, 10, 20), data={"monthly_amount": 500}),
               "start_payment", payroll, date(2025, 11, 1))
        actor = approver
    amount = {"raise": 600, "lower": 400}.get(action)
    data = {"monthly_amount": amount} if amount else {}
    with pytest.raises(wf.MissingReasonError):
        go(c, action, actor, date(2025, 11, 5), reason="   ", data=data)
    after = go(c, action, actor, date(2025, 11, 5), reason="书面理由", data=data)
    assert after.history[-1].reason == "书面理由"


def test_negative_review_needs_reason_and_skips_notice():
    c = go(start(), "survey", surveyor, date(2025, 9, 22))
    with pytest.raises(wf.MissingReasonError):
        go(c, "review", reviewer, date(2025, 9, 23), data={"recommend": False})
    c = go(c, "review", reviewer, date(2025, 9, 23), data={"recommend": False}, reason="存款超过限额")
    assert c.state == wf.SUBMITTED


def test_raise_and_lower_check_direction():
    c = go(go(to_submitted(), "approve", approver, date(2025, 10, 20), data={"monthly_amount": 500}),
           "start_payment", payroll, date(2025, 11, 1))
    with pytest.raises(wf.InvalidTransitionError):
        go(c, "raise", approver, date(2025, 11, 5), reason="r", data={"monthly_amount": 400})
    with pytest.raises(wf.InvalidTransitionError):
        go(c, "lower", approver, date(2025, 11, 5), reason="r")
    c = go(c, "stop", approver, date(2025, 11, 5), reason="家庭收入超过标准")
    assert c.state == wf.CLOSED


def test_notice_must_stay_open_for_configured_working_days_over_national_day():
    posted = date(2025, 9, 30)
    c = to_notice(d=posted)
    days = RULES.value("deadline_notice_days", ANY_PROGRAM, PATH, posted)
    assert c.notice_ends_on == add_working_days(posted, days)
    assert working_days_between(posted, c.notice_ends_on) == days
    assert c.notice_ends_on > date(2025, 10, 8)  # the holiday does not count
    with pytest.raises(wf.NoticeNotElapsedError):
        go(c, "submit", reviewer, c.notice_ends_on)
    assert go(c, "submit", reviewer, c.notice_ends_on + timedelta(days=1)).state == wf.SUBMITTED


def test_objection_sends_back_to_review_and_renotice_uses_shorter_period():
    c = to_notice()
    c = go(c, "objection", reviewer, date(2025, 9, 24), reason="邻居反映有经营收入")
    assert c.state == wf.SURVEYED and c.objections == 1 and c.notice_ends_on is None
    c = go(c, "review", reviewer, date(2025, 9, 25), data={"recommend": True})
    c = go(c, "start_notice", reviewer, date(2025, 9, 25))
    renotice = RULES.value("deadline_renotice_days", ANY_PROGRAM, PATH, date(2025, 9, 25))
    assert c.notice_ends_on == add_working_days(date(2025, 9, 25), renotice)


def test_roles_and_jurisdiction():
    c = go(start(), "survey", surveyor, date(2025, 9, 22))
    with pytest.raises(wf.PermissionDeniedError):
        go(c, "review", surveyor, date(2025, 9, 22))
    elsewhere = wf.Actor("u-far", frozenset({wf.REVIEWER}), "330106999")
    with pytest.raises(wf.PermissionDeniedError):
        go(c, "review", elsewhere, date(2025, 9, 22))


def test_township_approval_only_when_delegated_by_configuration():
    c = to_submitted()
    with pytest.raises(wf.PermissionDeniedError):
        go(c, "approve", township_approver, date(2025, 10, 20))
    delegated = RULES.with_rows(Standard("330106", DIBAO_URBAN, "approval_delegated_to_township", True, date(2025, 1, 1)))
    assert go(c, "approve", township_approver, date(2025, 10, 20), rules=delegated).state == wf.APPROVED
    small = wf.new_case("c2", "temp_aid", PATH, {"p9"}, intake, at(date(2025, 9, 22)), township_may_approve=True).case
    small = go(go(go(small, "survey", surveyor, date(2025, 9, 22)), "review", reviewer, date(2025, 9, 22),
                  data={"recommend": False}, reason="r"), "approve", township_approver, date(2025, 9, 23))
    assert small.state == wf.APPROVED


def test_deadline_status_escalates_and_skips_holidays():
    accepted = date(2025, 9, 22)
    c = start(accepted)
    review_days = RULES.value("deadline_review_days", ANY_PROGRAM, PATH, accepted)
    due = add_working_days(accepted, review_days)
    assert wf.deadline_status(c, accepted, RULES).level == 0
    assert wf.deadline_status(c, due, RULES).level == 1
    assert wf.deadline_status(c, due, RULES).due == due
    late1 = add_working_days(due, 1)
    s = wf.deadline_status(c, late1, RULES)
    assert s.level == 2 and s.overdue and s.remaining_working_days == -1
    esc = RULES.value("deadline_escalation_days", ANY_PROGRAM, PATH, accepted)
    assert wf.deadline_status(c, add_working_days(due, esc), RULES).level == 3
    # National Day: 15 working days from 2025-09-22 lands after the holiday
    assert working_days_between(accepted, due) == review_days and due > date(2025, 10, 8)
    sub = to_submitted()
    st = wf.deadline_status(sub, sub.history[-1].at.date(), RULES)
    assert st.step == "approval"
    assert working_days_between(st.started_on, st.due) == RULES.value("deadline_approval_days", ANY_PROGRAM, PATH, st.started_on)


def test_next_recheck_due_by_category():
    last = date(2025, 8, 31)
    table = dict(RULES.value("recheck_months", DIBAO_URBAN, PATH, last))
    assert wf.next_recheck_due(last, "stable_severe", RULES, PATH, DIBAO_URBAN) == wf.add_months(last, table["stable_severe"])
    assert wf.next_recheck_due(last, "employable_unemployed", RULES, PATH, DIBAO_URBAN) == date(2025, 11, 30)
    with pytest.raises(ValueError):
        wf.next_recheck_due(last, "whenever", RULES, PATH, DIBAO_URBAN)
