"""The case workflow: every step of a case (survey, review, notice, decision, payments, re-checks) as one
engine transition, persisted with its history entry and audit row.

Workflow rules (who may do what, separation of review and approval, near-relative conflicts, notice period) are
decided by the pure engine (``engine.workflow.transition``); this module locks the case, loads its snapshot,
calls the engine and persists the result.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carenet.assistance import adapter
from carenet.assistance import models as m
from carenet.assistance.adapter import (CALENDAR, AssistanceError, actor_for, assess, path_codes, rules_for,
                                        snapshot_of, store_outcome)
from carenet.assistance.engine import payroll as epay
from carenet.assistance.engine import rules as erules
from carenet.assistance.engine import workflow as ewf
from carenet.assistance.engine.workdays import CalendarOutOfRangeError
from carenet.assistance.payments import create_entitlement
from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.permissions import require, require_in_area

# Approve, reject, pay first aid, change payments: approvers, or township reviewers when approval is delegated
# (the workflow engine decides which applies to the case).
DECIDE = "assistance.decide"


# Engine error code -> what the user reads.
ERROR_MESSAGES = {
    ewf.SeparationOfDutiesError.code: gettext_lazy(
        "Review and approval must be done by different people (审核与审批分离): you reviewed this case, so "
        "another approver must decide it."),
    ewf.NearRelativeConflictError.code: gettext_lazy(
        "You declared a near relative in this case (近亲属备案). Another staff member must handle it."),
    ewf.NoticeNotElapsedError.code: gettext_lazy(
        "The public notice has not ended yet; the case can be submitted from the day after the notice ends."),
    ewf.MissingReasonError.code: gettext_lazy("A written reason is required for this action."),
    ewf.InvalidTransitionError.code: gettext_lazy("This action is not possible in the case's current state."),
    ewf.PermissionDeniedError.code: gettext_lazy("Your role or area does not allow this action on this case."),
}


def error_message(exc: Exception) -> str:
    code = getattr(exc, "code", "")
    msg = ERROR_MESSAGES.get(code)
    if msg is not None:
        return f"{msg} [{code}]"
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


def _refresh_due(case: m.Case, snap: ewf.CaseSnapshot, rules: erules.RuleSet) -> None:
    try:
        cur = ewf.current_deadline(snap, rules, CALENDAR)
    except (erules.RuleNotFoundError, CalendarOutOfRangeError):
        cur = None
    if cur is None:
        case.due_step, case.due_on, case.due_provisional = "", None, False
    else:
        case.due_step, case.due_on = cur[0], cur[2]
        case.due_provisional = CALENDAR.provisional(cur[2])


def due_date(case: m.Case) -> tuple[str, dt.date] | None:
    """(step, due date) of the step the case is waiting on, counted in working days."""
    snap = snapshot_of(case)
    cur = ewf.current_deadline(snap, rules_for(case.division), CALENDAR)
    return (cur[0], cur[2]) if cur else None


def persist(user, case: m.Case, result: ewf.TransitionResult, rules: erules.RuleSet, before: dict,
             note: str = "") -> m.Case:
    snap, entry = result.case, result.entry
    case.state = snap.state
    case.notice_started_on = snap.notice_started_on
    case.notice_ends_on = snap.notice_ends_on
    case.objections = snap.objections
    case.conflicted_staff = sorted(snap.conflicted_staff)
    if "monthly_amount" in entry.data and snap.monthly_amount is not None and case.program not in m.ONE_OFF_PROGRAMS:
        case.monthly_amount = snap.monthly_amount
    _refresh_due(case, snap, rules)
    case.save()
    m.CaseHistory.objects.create(case=case, seq=entry.seq, action=entry.action, from_state=entry.from_state or "",
                                 to_state=entry.to_state, actor=user, at=entry.at, reason=entry.reason,
                                 data=_jsonable(entry.data))
    action = AuditLog.Action.CREATE if entry.action == "accept" else AuditLog.Action.UPDATE
    audit.record(action, case, actor=user, before=before or None, after=audit.snapshot(case),
                 note=f"assistance.{entry.action}" + (f": {entry.reason}" if entry.reason else "") + note)
    return case


def _jsonable(data):
    if isinstance(data, dict):
        return {str(k): _jsonable(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_jsonable(v) for v in data]
    if isinstance(data, (Decimal, dt.date, dt.datetime)):
        return str(data) if isinstance(data, Decimal) else data.isoformat()
    return data


def _transition(user, case: m.Case, action: str, *, reason: str = "", data: dict | None = None,
                capability: str | None = None, on_result=None, prepare=None) -> m.Case:
    """Lock the case, let the engine decide, persist. Engine errors propagate (views show error_message).

    ``prepare(case, rules) -> dict`` computes extra action data after the engine's guards passed (a dry run
    first, so that e.g. a separation-of-duties refusal is reported before anything else)."""
    if capability:
        require(user, capability)
    require_in_area(user, case.division)
    with transaction.atomic():
        case = m.Case.objects.select_for_update().select_related("division", "applicant").get(pk=case.pk)
        before = audit.snapshot(case)
        rules = rules_for(case.division)
        snap, actor, t = snapshot_of(case), actor_for(user), adapter.now()
        data = dict(data or {})
        if prepare is not None:
            ewf.transition(snap, action, actor, t, rules=rules, calendar=CALENDAR, reason=reason, data=data)
            data.update(prepare(case, rules))
        result = ewf.transition(snap, action, actor, t, rules=rules, calendar=CALENDAR, reason=reason, data=data)
        if on_result is not None:
            on_result(case, result, rules)
        return persist(user, case, result, rules, before)


PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/gif"}


def add_photo(user, case: m.Case | None, upload, survey: m.SurveyRecord | None = None,
              report: m.GridReport | None = None) -> m.Photo:
    from django.core.exceptions import ValidationError

    from carenet.core.uploads import check_image

    try:  # size cap, and Pillow must read a real image; its format, not the browser's claim, gives the type
        ct = check_image(upload)
    except ValidationError as exc:
        raise AssistanceError(exc.messages[0]) from None
    if ct not in PHOTO_TYPES:  # no SVG or HTML: the file is served back to staff browsers
        raise AssistanceError(_("Only photos can be attached."))
    photo = m.Photo.objects.create(case=case, survey=survey, report=report, file=upload, content_type=ct,
                                   uploaded_by=user)
    division = (case or report).division
    audit.record(AuditLog.Action.CREATE, photo, actor=user, division_path=division.path,
                 after={"case": case.pk if case else None, "report": report.pk if report else None,
                        "file": photo.file.name})
    return photo


def record_survey(user, case: m.Case, *, visited_on: dt.date, visitors: str, notes: str, facts: dict | None = None,
                  photos=()) -> m.Case:
    """入户调查: store the visit, merge the household facts, re-run the engine, move to 'surveyed'."""
    holder = {}

    def on_result(locked, result, rules):
        survey = m.SurveyRecord.objects.create(case=locked, visited_on=visited_on, visitors=visitors, notes=notes,
                                               facts=facts or {}, created_by=user)
        holder["survey"] = survey
        merged = dict(locked.facts or {})
        merged.update(facts or {})
        locked.facts = merged
        store_outcome(locked, assess(locked, adapter.today(), rules), adapter.today())
        audit.record(AuditLog.Action.CREATE, survey, actor=user, division_path=locked.division.path,
                     after=audit.snapshot(survey), note="assistance.survey record")
        for f in photos:
            add_photo(user, locked, f, survey)

    return _transition(user, case, "survey", data={"visited_on": visited_on.isoformat()},
                       capability="assistance.survey", on_result=on_result)


def review(user, case: m.Case, *, recommend: bool, opinion: str = "") -> m.Case:
    return _transition(user, case, "review", reason=opinion, data={"recommend": recommend},
                       capability="assistance.review")


def start_notice(user, case: m.Case) -> m.Case:
    return _transition(user, case, "start_notice", capability="assistance.review")


def record_objection(user, case: m.Case, *, content: str, raised_by: str = "") -> m.Case:
    def on_result(locked, result, rules):
        obj = m.NoticeObjection.objects.create(case=locked, raised_by=raised_by, content=content, recorded_by=user)
        audit.record(AuditLog.Action.CREATE, obj, actor=user, division_path=locked.division.path,
                     after={"case": locked.pk, "content": content}, note="assistance.objection")

    return _transition(user, case, "objection", reason=content, capability="assistance.review", on_result=on_result)


def submit(user, case: m.Case) -> m.Case:
    return _transition(user, case, "submit", capability="assistance.review")


def approve(user, case: m.Case, *, opinion: str = "") -> m.Case:
    """审批: the engine re-assesses on the approval date; the entitlement starts the month after
    (payment_start_offset_months)."""

    def prepare(locked, rules):
        outcome = assess(locked, adapter.today(), rules)
        if not outcome.eligible:
            raise AssistanceError(_("The engine finds the case not eligible (%(code)s); reject it with a written "
                                    "reason instead.") % {"code": outcome.code})
        store_outcome(locked, outcome, adapter.today())
        if locked.program in m.ONE_OFF_PROGRAMS:
            return {"grant_amount": str(locked.grant_amount)}
        return {"monthly_amount": locked.monthly_amount} if locked.monthly_amount is not None else {}

    paid_first = {}

    def on_result(locked, result, rules):
        paid_first["yes"] = m.LedgerLine.objects.filter(entitlement__case=locked).exists()
        create_entitlement(user, locked, rules)

    case = _transition(user, case, "approve", reason=opinion, capability=DECIDE, prepare=prepare,
                       on_result=on_result)
    if paid_first.get("yes"):  # 先行救助 already paid: the case is in payment from now on
        try:
            case = _transition(user, case, "start_payment")
        except ewf.WorkflowError:
            pass  # a township approver has no payroll role: the case stays approved (already paid)
    return case


def reject(user, case: m.Case, *, reason: str) -> m.Case:
    return _transition(user, case, "reject", reason=reason, capability=DECIDE)


def withdraw(user, case: m.Case, *, reason: str) -> m.Case:
    return _transition(user, case, "withdraw", reason=reason, capability="assistance.intake")


def close(user, case: m.Case) -> m.Case:
    return _transition(user, case, "close", capability="assistance.view")


def start_recheck(user, case: m.Case) -> m.Case:
    return _transition(user, case, "start_recheck", capability="assistance.review")


def complete_recheck(user, case: m.Case, *, notes: str = "") -> m.Case:
    def on_result(locked, result, rules):
        outcome = assess(locked, adapter.today(), rules)
        locked.explanation = [s.as_dict() | {"en": s.en} for s in outcome.steps]
        locked.assessed_on = adapter.today()
        try:
            locked.next_recheck_on = ewf.next_recheck_due(adapter.today(), locked.recheck_category, rules,
                                                          path_codes(locked.division), locked.program)
        except ValueError:
            pass
        _release_holds(user, locked, "复核完成，继续发放，解除暂停")

    return _transition(user, case, "complete_recheck", reason=notes, capability="assistance.review",
                       on_result=on_result)


FIRST_AID_STATES = (ewf.ACCEPTED, ewf.SURVEYED, ewf.REVIEWED, ewf.IN_NOTICE, ewf.SUBMITTED)


def first_aid_possible(case: m.Case) -> bool:
    """先行救助 is offered for a temporary-aid case the engine found within ``first_aid_cap`` and not yet paid."""
    return (case.program == erules.TEMP_AID and case.state in FIRST_AID_STATES and bool(case.eligible)
            and any(s.get("code") == "temp.first_aid" for s in case.explanation)
            and not m.Entitlement.objects.filter(case=case).exists())


def pay_first_aid(user, case: m.Case, *, opinion: str = "") -> m.Case:
    """先行救助 (社会救助暂行办法 Art. 48): pay a small temporary-aid grant at once, in this month's payroll;
    the survey, review, notice and approval follow ("paperwork after"). Township reviewers and district
    approvers may do it; near relatives may not (the engine's conflict rule)."""
    require(user, DECIDE)
    require_in_area(user, case.division)
    with transaction.atomic():
        case = m.Case.objects.select_for_update().select_related("division", "applicant").get(pk=case.pk)
        before = audit.snapshot(case)
        rules = rules_for(case.division)
        actor = actor_for(user)
        if actor.user_id in case.conflicted_staff or (actor.near_relative_person_ids & set(case.person_ids)):
            raise ewf.NearRelativeConflictError(f"{actor.user_id} declared a near relative in case {case.pk}")
        if not actor.roles & {ewf.REVIEWER, ewf.TOWNSHIP_APPROVER, ewf.APPROVER}:
            raise ewf.PermissionDeniedError(f"{actor.user_id} may not pay first aid")
        ewf.check_separation(snapshot_of(case), "first_aid", actor)  # the payer decides: may not review too
        store_outcome(case, assess(case, adapter.today(), rules), adapter.today())
        if not first_aid_possible(case):
            raise AssistanceError(_("First aid (先行救助) is only for eligible temporary aid within the first-aid "
                                    "limit, before approval and not yet paid."))
        ent = create_entitlement(user, case, rules, first_aid=True)
        case.save()
        seq = case.history.count() + 1
        m.CaseHistory.objects.create(case=case, seq=seq, action="first_aid", from_state=case.state,
                                     to_state=case.state, actor=user, at=adapter.now(), reason=opinion,
                                     data={"grant_amount": str(case.grant_amount),
                                           "month": ent.start_month.isoformat()})
        audit.record(AuditLog.Action.UPDATE, case, actor=user, before=before, after=audit.snapshot(case),
                     note="assistance.first_aid" + (f": {opinion}" if opinion else ""))
        return case


def change_payment(user, case: m.Case, *, action: str, monthly_amount, effective_month: dt.date,
                   reason: str) -> m.Case:
    """增发 / 减发 from ``effective_month`` (may be in the past: the next payroll pays 补发 or recovers 追回)."""
    if action not in ("raise", "lower"):
        raise AssistanceError("action must be raise or lower")
    amount = epay.yuan(Decimal(str(monthly_amount)))
    month = epay.month_of(effective_month)

    def on_result(locked, result, rules):
        ent = m.Entitlement.objects.select_for_update().filter(case=locked).first()
        if ent is None:
            raise AssistanceError(_("This case has no entitlement to change."))
        if month < ent.start_month:
            raise AssistanceError(_("The change cannot take effect before the first month paid."))
        ch = m.EntitlementChange.objects.create(entitlement=ent, effective_month=month, monthly_amount=amount,
                                                reason=reason, created_by=user)
        audit.record(AuditLog.Action.CREATE, ch, actor=user, division_path=locked.division.path,
                     after=audit.snapshot(ch), note=f"assistance.payment {action}")

    return _transition(user, case, action, reason=reason,
                       data={"monthly_amount": amount, "effective_month": month.isoformat()},
                       capability=DECIDE, on_result=on_result)


def stop_payment(user, case: m.Case, *, effective_month: dt.date, reason: str) -> m.Case:
    """停发 from ``effective_month``: the entitlement stops; months already paid after it are recovered (追回)."""
    month = epay.month_of(effective_month)

    def on_result(locked, result, rules):
        ent = m.Entitlement.objects.select_for_update().filter(case=locked).first()
        if ent is None:
            return
        before = audit.snapshot(ent)
        ent.stop_month = max(month, ent.start_month)
        ent.save(update_fields=["stop_month"])
        audit.record(AuditLog.Action.UPDATE, ent, actor=user, before=before, after=audit.snapshot(ent),
                     note=f"assistance.payment stop: {reason}")
        _release_holds(user, locked, "已作出停发决定，暂停发放随之解除")

    return _transition(user, case, "stop", reason=reason, data={"effective_month": month.isoformat()},
                       capability=DECIDE, on_result=on_result)


def _release_holds(user, case: m.Case, reason: str, source: str | None = None) -> int:
    """A decision on the payment (stop, or continue after re-check) ends any hold (暂停发放) waiting for it."""
    now, n = adapter.now(), 0
    qs = m.PaymentHold.objects.select_for_update().filter(entitlement__case=case, released_at__isnull=True)
    for hold in (qs.filter(source=source) if source is not None else qs):
        n += 1
        hold.released_by, hold.released_at, hold.release_reason = user, now, reason[:300]
        hold.save(update_fields=["released_by", "released_at", "release_reason"])
        audit.record(AuditLog.Action.UPDATE, hold, actor=user, division_path=case.division.path,
                     after={"released": True, "reason": hold.release_reason}, note="assistance.payment release")
    return n


def mark_paying(user, case: m.Case) -> m.Case:
    """approved -> paying, done by the payroll job for the run that first pays the case."""
    return _transition(user, case, "start_payment", capability="assistance.payroll")


def open_recheck_on_finding(user, case: m.Case, *, reason: str) -> m.Case:
    """A confirmed integrity finding puts a paying case into re-check, where a stop decision is asked for."""
    if case.state != m.State.PAYING:
        return case
    return _transition(user, case, "finding_recheck", reason=reason, capability="assistance.integrity")
