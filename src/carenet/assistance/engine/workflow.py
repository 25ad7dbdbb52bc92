"""Pure state machine for an assistance case.

States (Chinese step in brackets):

    accepted   受理        application received (window, community worker, grid worker report)
    surveyed   入户调查    home visit recorded; waiting for the township review
    reviewed   审核        township initial opinion recorded (recommend approval)
    in_notice  公示        public notice open in the village / community
    submitted  报批        notice over (or negative opinion): waiting for the district decision
    approved   审批通过
    rejected   不予批准    (written reason required)
    paying     发放中
    recheck    复核中
    closed     终止/办结

Actions and transitions (``ACTIONS`` below is the single source of truth):

    accept          (create)                 -> accepted      intake
    survey          accepted                 -> surveyed      surveyor
    review          surveyed                 -> reviewed      reviewer   (recommend=True)
                    surveyed                 -> submitted     reviewer   (recommend=False, reason required)
    start_notice    reviewed                 -> in_notice     reviewer
    objection       in_notice                -> surveyed      reviewer   (reason required; re-investigate, re-notice)
    submit          in_notice                -> submitted     reviewer   (NoticeNotElapsedError before the notice ends)
    approve         submitted                -> approved      approver (or township_approver when delegated)
    reject          submitted                -> rejected      approver ...  (reason required)
    start_payment   approved                 -> paying        payroll
    start_recheck   paying                   -> recheck       reviewer
    complete_recheck recheck                 -> paying        reviewer   (no change)
    raise / lower   paying, recheck          -> paying        approver   (reason required; new monthly_amount)
    stop            paying, recheck          -> closed        approver   (reason required)
    withdraw        accepted..submitted      -> closed        intake/reviewer (reason required)
    close           rejected                 -> closed        reviewer/approver

Guards, each with its own exception:

* ``InvalidTransitionError``   action not allowed from the current state;
* ``PermissionDeniedError``    actor lacks the role, or the case is outside the actor's division;
* ``SeparationOfDutiesError``  the same person may not both review and approve (审核与审批分离):
                               deciders (approve/reject/raise/lower/stop, and paying first aid
                               先行救助) may not have done a
                               review action on the case, and vice versa;
* ``NearRelativeConflictError`` the actor declared a near relative among the case's persons, or
                               the case was flagged for that staff member (近亲属备案);
* ``MissingReasonError``       reject, objection, negative review, raise, lower, stop, withdraw;
* ``NoticeNotElapsedError``    submit before the public notice has run its configured days.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Mapping

from .money import yuan
from .rules import RuleSet, as_mapping
from .workdays import DEFAULT_CALENDAR, WorkCalendar, deadline

ACCEPTED, SURVEYED, REVIEWED, IN_NOTICE, SUBMITTED = "accepted", "surveyed", "reviewed", "in_notice", "submitted"
APPROVED, REJECTED, PAYING, RECHECK, CLOSED = "approved", "rejected", "paying", "recheck", "closed"
STATES = (ACCEPTED, SURVEYED, REVIEWED, IN_NOTICE, SUBMITTED, APPROVED, REJECTED, PAYING, RECHECK, CLOSED)
STATE_LABELS_ZH = {
    ACCEPTED: "受理", SURVEYED: "入户调查", REVIEWED: "审核", IN_NOTICE: "公示", SUBMITTED: "报批",
    APPROVED: "审批通过", REJECTED: "不予批准", PAYING: "发放中", RECHECK: "复核", CLOSED: "终止",
}

# roles
INTAKE, SURVEYOR, REVIEWER, APPROVER, TOWNSHIP_APPROVER, PAYROLL = (
    "intake", "surveyor", "reviewer", "approver", "township_approver", "payroll")

DECISION = "decision"  # role placeholder resolved per case: approver, or township_approver when delegated


@dataclass(frozen=True)
class ActionSpec:
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    reason_required: bool = False
    label_zh: str = ""


ACTIONS: dict[str, ActionSpec] = {
    "survey": ActionSpec((ACCEPTED,), SURVEYED, (SURVEYOR, REVIEWER), False, "入户调查"),
    "review": ActionSpec((SURVEYED,), REVIEWED, (REVIEWER,), False, "街道（乡镇）审核"),
    "start_notice": ActionSpec((REVIEWED,), IN_NOTICE, (REVIEWER,), False, "公示"),
    "objection": ActionSpec((IN_NOTICE,), SURVEYED, (REVIEWER,), True, "公示异议，重新调查"),
    "submit": ActionSpec((IN_NOTICE,), SUBMITTED, (REVIEWER,), False, "公示期满报批"),
    "approve": ActionSpec((SUBMITTED,), APPROVED, (DECISION,), False, "审批通过"),
    "reject": ActionSpec((SUBMITTED,), REJECTED, (DECISION,), True, "不予批准"),
    "start_payment": ActionSpec((APPROVED,), PAYING, (PAYROLL, APPROVER), False, "开始发放"),
    "start_recheck": ActionSpec((PAYING,), RECHECK, (REVIEWER,), False, "启动复核"),
    # a confirmed integrity finding (民生监察) reopens the case; the stop decision follows in re-check
    "finding_recheck": ActionSpec((PAYING,), RECHECK, (APPROVER, REVIEWER), True, "民生监察复核"),
    "complete_recheck": ActionSpec((RECHECK,), PAYING, (REVIEWER,), False, "复核无变化"),
    "raise": ActionSpec((PAYING, RECHECK), PAYING, (DECISION,), True, "增发"),
    "lower": ActionSpec((PAYING, RECHECK), PAYING, (DECISION,), True, "减发"),
    "stop": ActionSpec((PAYING, RECHECK), CLOSED, (DECISION,), True, "停发"),
    "withdraw": ActionSpec((ACCEPTED, SURVEYED, REVIEWED, IN_NOTICE, SUBMITTED), CLOSED, (INTAKE, REVIEWER), True, "撤回申请"),
    "close": ActionSpec((REJECTED,), CLOSED, (REVIEWER, APPROVER, TOWNSHIP_APPROVER), False, "办结归档"),
}
REVIEW_ACTIONS = frozenset({"review", "complete_recheck"})
# Paying first aid (先行救助) is a decision too: it creates an entitlement and pays money before the review, so
# whoever pays it may not also review the case (and a reviewer may not pay it), like approve vs review.
DECISION_ACTIONS = frozenset({"approve", "reject", "raise", "lower", "stop", "first_aid"})


class WorkflowError(Exception):
    code = "workflow.error"


class InvalidTransitionError(WorkflowError):
    code = "workflow.invalid_transition"


class PermissionDeniedError(WorkflowError):
    code = "workflow.permission_denied"


class SeparationOfDutiesError(WorkflowError):
    code = "workflow.separation_of_duties"


class NearRelativeConflictError(WorkflowError):
    code = "workflow.near_relative_conflict"


class MissingReasonError(WorkflowError):
    code = "workflow.missing_reason"


class NoticeNotElapsedError(WorkflowError):
    code = "workflow.notice_not_elapsed"


@dataclass(frozen=True)
class Actor:
    user_id: str
    roles: frozenset[str]
    division_code: str  # the actor's jurisdiction (a street, township or the district)
    near_relative_person_ids: frozenset[str] = frozenset()  # 近亲属备案


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    action: str
    from_state: str | None
    to_state: str
    actor_id: str
    at: datetime
    reason: str = ""
    data: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class CaseSnapshot:
    case_id: str
    program: str
    division_path: tuple[str, ...]  # root first; the last element is the case's community/street
    person_ids: frozenset[str]  # applicant and every household member
    state: str = ACCEPTED
    history: tuple[HistoryEntry, ...] = ()
    notice_started_on: date | None = None
    notice_ends_on: date | None = None  # last day of the notice; submit allowed from the next day
    objections: int = 0
    township_may_approve: bool = False  # e.g. small temporary aid (浙江 Art.40)
    monthly_amount: Decimal | None = None
    conflicted_staff: frozenset[str] = frozenset()  # staff flagged by near-relative declarations
    channel: str = "window"  # window | community | grid (主动发现)

    @property
    def flags(self) -> frozenset[str]:
        return frozenset({"near_relative"}) if self.conflicted_staff else frozenset()


@dataclass(frozen=True)
class TransitionResult:
    case: CaseSnapshot
    entry: HistoryEntry


def near_relative_staff(person_ids: Iterable[str], declarations: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """Staff ids whose declared near relatives (staff_id -> person ids) include a case person."""
    persons = set(person_ids)
    return frozenset(staff for staff, rel in declarations.items() if persons & set(rel))


def _check_actor(case: CaseSnapshot, action: str, spec: ActionSpec, actor: Actor, rules: RuleSet | None,
                 on_date: date) -> None:
    # near relatives first: a conflicted staff member may do nothing at all on the case
    if actor.user_id in case.conflicted_staff or (actor.near_relative_person_ids & case.person_ids):
        raise NearRelativeConflictError(
            f"{actor.user_id} declared a near relative in case {case.case_id}; another staff member must handle it")
    roles = set(spec.roles)
    if DECISION in roles:
        roles.discard(DECISION)
        roles.add(APPROVER)
        delegated = case.township_may_approve or bool(
            rules is not None and rules.value("approval_delegated_to_township", case.program, case.division_path,
                                              on_date, default=False))
        if delegated:
            roles.add(TOWNSHIP_APPROVER)
    if not roles & set(actor.roles):
        raise PermissionDeniedError(f"{actor.user_id} needs one of {sorted(roles)} to {action}")
    if actor.division_code not in case.division_path:
        raise PermissionDeniedError(f"case {case.case_id} is outside {actor.user_id}'s division {actor.division_code}")
    check_separation(case, action, actor)


def check_separation(case: CaseSnapshot, action: str, actor: Actor) -> None:
    """审核与审批分离: nobody both reviews and decides a case (deciding includes paying first aid)."""
    if action in DECISION_ACTIONS:
        reviewers = {e.actor_id for e in case.history if e.action in REVIEW_ACTIONS}
        if actor.user_id in reviewers:
            raise SeparationOfDutiesError(f"{actor.user_id} reviewed case {case.case_id} and cannot also decide it")
    if action in REVIEW_ACTIONS:
        deciders = {e.actor_id for e in case.history if e.action in DECISION_ACTIONS}
        if actor.user_id in deciders:
            raise SeparationOfDutiesError(f"{actor.user_id} decided case {case.case_id} and cannot also review it")


def new_case(case_id: str, program: str, division_path: Iterable[str], person_ids: Iterable[str], actor: Actor,
             now: datetime, *, channel: str = "window", declarations: Mapping[str, Iterable[str]] | None = None,
             township_may_approve: bool = False, data: Mapping | None = None) -> TransitionResult:
    """受理: create a case in state ``accepted``. ``declarations`` (staff -> near-relative person ids)
    flag the case for every related staff member; a related actor cannot accept it."""
    persons = frozenset(person_ids)
    case = CaseSnapshot(case_id=case_id, program=program, division_path=tuple(division_path), person_ids=persons,
                        state=ACCEPTED, township_may_approve=township_may_approve, channel=channel,
                        conflicted_staff=near_relative_staff(persons, declarations or {}))
    spec = ActionSpec((), ACCEPTED, (INTAKE, SURVEYOR, REVIEWER))
    _check_actor(case, "accept", spec, actor, None, now.date())
    entry = HistoryEntry(1, "accept", None, ACCEPTED, actor.user_id, now, "", dict(data or {}, channel=channel))
    return TransitionResult(replace(case, history=(entry,)), entry)


def transition(case: CaseSnapshot, action: str, actor: Actor, now: datetime, *, rules: RuleSet,
               calendar: WorkCalendar = DEFAULT_CALENDAR, reason: str = "", data: Mapping | None = None
               ) -> TransitionResult:
    """Validate the guards and return the new snapshot plus the history entry to persist.

    ``data`` carries action details: ``recommend`` (bool) for review,
    ``monthly_amount`` for approve / raise / lower, anything else is stored as is.
    """
    data = dict(data or {})
    spec = ACTIONS.get(action)
    if spec is None:
        raise InvalidTransitionError(f"unknown action {action!r}")
    if case.state not in spec.sources:
        raise InvalidTransitionError(f"cannot {action} a case in state {case.state!r}")
    today = now.date()
    _check_actor(case, action, spec, actor, rules, today)

    target = spec.target
    reason = (reason or "").strip()
    needs_reason = spec.reason_required or (action == "review" and data.get("recommend") is False)
    if needs_reason and not reason:
        raise MissingReasonError(f"{action} requires a written reason")

    changes: dict = {}
    if action == "review" and data.get("recommend") is False:
        target = SUBMITTED  # nothing to publicise: the district decides on the negative opinion
    if action == "start_notice":
        step = "renotice" if case.objections else "notice"
        changes.update(notice_started_on=today,
                       notice_ends_on=deadline(step, today, rules, case.division_path, case.program, calendar))
        data.setdefault("notice_ends_on", changes["notice_ends_on"].isoformat())
    if action == "objection":
        changes.update(objections=case.objections + 1, notice_started_on=None, notice_ends_on=None)
    if action == "submit":
        if case.notice_ends_on is None or today <= case.notice_ends_on:
            raise NoticeNotElapsedError(
                f"public notice of case {case.case_id} runs until {case.notice_ends_on}; submit from the next day")
    if action in ("approve", "raise", "lower"):
        if "monthly_amount" in data and data["monthly_amount"] is not None:
            amount = yuan(data["monthly_amount"])
            if action == "raise" and case.monthly_amount is not None and amount <= case.monthly_amount:
                raise InvalidTransitionError("raise needs an amount above the current one")
            if action == "lower" and case.monthly_amount is not None and amount >= case.monthly_amount:
                raise InvalidTransitionError("lower needs an amount below the current one")
            changes["monthly_amount"] = amount
            data["monthly_amount"] = str(amount)
        elif action in ("raise", "lower"):
            raise InvalidTransitionError(f"{action} needs data['monthly_amount']")

    entry = HistoryEntry(len(case.history) + 1, action, case.state, target, actor.user_id, now, reason, data)
    new = replace(case, state=target, history=case.history + (entry,), **changes)
    return TransitionResult(new, entry)


def allowed_actions(case: CaseSnapshot) -> list[str]:
    """Actions possible from the case's state (ignoring actor guards); for building buttons."""
    return [a for a, s in ACTIONS.items() if case.state in s.sources]


# ------------------------------------------------------------------ deadlines and escalation

@dataclass(frozen=True)
class DeadlineStatus:
    step: str
    started_on: date
    due: date
    remaining_working_days: int  # negative when overdue
    level: int  # 0 on time, 1 due soon, 2 overdue, 3 overdue and escalated to the district

    @property
    def overdue(self) -> bool:
        return self.level >= 2


ESCALATION_LEVELS = {0: "on_time", 1: "due_soon", 2: "overdue", 3: "escalated"}


def _last(case: CaseSnapshot, *actions: str) -> HistoryEntry | None:
    for e in reversed(case.history):
        if e.action in actions:
            return e
    return None


def current_deadline(case: CaseSnapshot, rules: RuleSet, calendar: WorkCalendar = DEFAULT_CALENDAR
                     ) -> tuple[str, date, date] | None:
    """(step, started_on, due) for the step the case is waiting on, or None."""
    path, prog = case.division_path, case.program
    if case.state in (ACCEPTED, SURVEYED, REVIEWED):
        start = _last(case, "objection", "accept")
        if start is None:
            return None
        s = start.at.date()
        return "review", s, deadline("review", s, rules, path, prog, calendar)
    if case.state == IN_NOTICE and case.notice_ends_on:
        s = case.notice_ends_on
        return "submit", s, deadline("submit", s, rules, path, prog, calendar)
    if case.state == SUBMITTED:
        s = case.history[-1].at.date()
        return "approval", s, deadline("approval", s, rules, path, prog, calendar)
    if case.state == RECHECK:
        s = case.history[-1].at.date()
        return "recheck", s, deadline("recheck", s, rules, path, prog, calendar)
    return None


def deadline_status(case: CaseSnapshot, today: date, rules: RuleSet,
                    calendar: WorkCalendar = DEFAULT_CALENDAR) -> DeadlineStatus | None:
    """Overdue detection with an escalation level (keys deadline_warning_days, deadline_escalation_days)."""
    cur = current_deadline(case, rules, calendar)
    if cur is None:
        return None
    step, started, due = cur
    remaining = calendar.working_days_between(today, due)
    warn = int(rules.value("deadline_warning_days", case.program, case.division_path, started, default=2))
    esc = int(rules.value("deadline_escalation_days", case.program, case.division_path, started, default=3))
    if today > due:
        level = 3 if -remaining >= esc else 2
    elif remaining <= warn:
        level = 1
    else:
        level = 0
    return DeadlineStatus(step, started, due, remaining, level)


# ------------------------------------------------------------------ re-checks

def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, _calendar.monthrange(year, month)[1]))


def next_recheck_due(last_check: date, category: str, rules: RuleSet, division_path: Iterable[str],
                     program: str) -> date:
    """Date of the next periodic 复核 for a category ("stable_severe" yearly,
    "stable" half-yearly, "employable_unemployed" quarterly by default)."""
    table = as_mapping(rules.value("recheck_months", program, tuple(division_path), last_check))
    if category not in table:
        raise ValueError(f"unknown recheck category {category!r}; one of {sorted(table)}")
    return add_months(last_check, int(table[category]))


__all__ = [
    "STATES", "STATE_LABELS_ZH", "ACTIONS", "ActionSpec", "Actor", "HistoryEntry", "CaseSnapshot", "TransitionResult",
    "WorkflowError", "InvalidTransitionError", "PermissionDeniedError", "SeparationOfDutiesError", "check_separation",
    "NearRelativeConflictError", "MissingReasonError", "NoticeNotElapsedError", "new_case", "transition",
    "allowed_actions", "near_relative_staff", "DeadlineStatus", "current_deadline", "deadline_status",
    "next_recheck_due", "add_months",
]
