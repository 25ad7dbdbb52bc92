"""The only place that writes social-assistance data.

Every write runs in ``transaction.atomic`` and leaves an audit row. Workflow
rules (who may do what, separation of review and approval, near-relative
conflicts, notice period) are decided by the pure engine
(``engine.workflow.transition``); this module loads the case snapshot, calls
the engine, and persists the snapshot, the history entry and the audit row.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carenet.assistance import models as m
from carenet.assistance.engine import eligibility as elig
from carenet.assistance.engine import household as ehh
from carenet.assistance.engine import payroll as epay
from carenet.assistance.engine import rules as erules
from carenet.assistance.engine import workflow as ewf
from carenet.assistance.engine.workdays import CalendarOutOfRangeError, WorkCalendar
from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.core.roles import Role
from carenet.core.scoping import subtree_q
from carenet.people.models import Resident

# Beyond the years the holiday package knows, count Monday-Friday and mark the date provisional
# (docs/assistance-rules.md §6). A bureau can enter the State Council schedule as overrides here.
CALENDAR = WorkCalendar(fallback="weekends")

# CareNet roles -> the engine's workflow roles.
ENGINE_ROLES = {
    Role.WORKER: frozenset({ewf.INTAKE, ewf.SURVEYOR}),
    Role.REVIEWER: frozenset({ewf.INTAKE, ewf.SURVEYOR, ewf.REVIEWER, ewf.TOWNSHIP_APPROVER}),
    Role.APPROVER: frozenset({ewf.APPROVER, ewf.PAYROLL}),
    Role.DISTRICT_ADMIN: frozenset({ewf.PAYROLL}),
}

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


class AssistanceError(Exception):
    """A refusal with a message for the user (not from the workflow engine)."""

    code = "assistance.error"


def now() -> dt.datetime:
    """The service clock (tests may move it forward to let a notice period pass)."""
    return timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


# ------------------------------------------------------------------ rules

def path_codes(division: Division) -> tuple[str, ...]:
    return tuple(division.path.split("/"))


def rules_for(division: Division) -> erules.RuleSet:
    """The RuleSet of every standard row on the division's path (they are few; built per request)."""
    rows = list(m.Standard.objects.filter(division__code__in=path_codes(division)).select_related("division"))
    if not rows:
        raise AssistanceError(_("No assistance standards apply to %(area)s yet: an approver must enter them "
                                "(`manage.py seed_assistance` loads the defaults).") % {"area": division.name})
    return erules.RuleSet(r.to_engine() for r in rows)


def all_rules() -> erules.RuleSet:
    return erules.RuleSet(r.to_engine() for r in m.Standard.objects.select_related("division"))


# Approve, reject, pay first aid, change payments: approvers, or township reviewers when approval is delegated
# (the workflow engine decides which applies to the case).
DECIDE = "assistance.decide"


@transaction.atomic
def add_standard(user, *, division: Division, program: str, key: str, value, effective_from: dt.date,
                 source: str = "", allow_past: bool = False) -> m.Standard:
    """Add a dated rule row. Rows are append-only and a new row never changes the past: its date must be
    today or later (``allow_past`` is for loading a bureau's historical standards)."""
    if user is not None:
        require(user, "assistance.approve")
        require_in_area(user, division)
    if key not in erules.KEY_TYPES:
        raise AssistanceError(_("Unknown standard key %(key)s.") % {"key": key})
    if not allow_past and effective_from < today():
        raise AssistanceError(_("A new standard cannot take effect in the past; choose today or a later date."))
    row = m.Standard(division=division, program=program, key=key, value=erules.encode_value(key, value),
                     effective_from=effective_from, source=source, created_by=user)
    row.to_engine()  # validates the value
    row.save()
    audit.record(AuditLog.Action.CREATE, row, actor=user, after=audit.snapshot(row),
                 division_path=division.path, note=f"assistance.standard {key}")
    if user is not None:
        row.restated, row.needs_decision = restate_for_standard(user, row)
    return row


def restate_for_standard(user, row: m.Standard) -> tuple[int, list[int]]:
    """After a new standard row: add 标准调整 changes to the entitlements of paying cases in the row's
    division from the row's date on (never earlier), using the engine's ``restate``. Cases that would no
    longer be eligible are not changed automatically: they need a stop decision with written reasons
    (returned, and noted in the audit log)."""
    cases = m.Case.objects.filter(state__in=[ewf.APPROVED, ewf.PAYING, ewf.RECHECK], entitlement__isnull=False) \
        .filter(subtree_q(row.division.path)) \
        .exclude(program__in=m.ONE_OFF_PROGRAMS).select_related("division", "applicant", "household", "entitlement")
    if row.program != erules.ANY_PROGRAM:
        cases = cases.filter(program=row.program) if row.program not in (erules.DIBAO_URBAN, erules.DIBAO_RURAL) \
            else cases.filter(program__in=[row.program, erules.TEKUN])  # 特困 income test uses the 低保 standard
    restated, needs_decision = 0, []
    rules_cache: dict[int, erules.RuleSet] = {}
    for case in cases:
        rules = rules_cache.get(case.division_id) or rules_cache.setdefault(case.division_id, rules_for(case.division))

        def amount_on(d, case=case, rules=rules):
            outcome = assess(case, d, rules)
            return (outcome.monthly_amount if outcome.eligible else None), max(outcome.persons, 1)

        try:
            restated += restate_entitlement(
                user, case.entitlement, [row.effective_from], amount_on, note="assistance.payment restate",
                reason=f"标准调整 {row.key} {row.effective_from:%Y-%m-%d} {row.source}".strip())
        except epay.NoLongerEligibleError:
            needs_decision.append(case.pk)
            audit.record(AuditLog.Action.UPDATE, case, actor=user, note=f"assistance.standard {row.key}: "
                         "not eligible under the new standard; a stop decision with written reasons is needed")
    return restated, needs_decision


def restate_entitlement(user, ent: m.Entitlement, dates: list[dt.date], amount_on, *, reason: str, note: str) -> int:
    """The one restate loop: the engine's ``restate`` of ``ent`` from each of ``dates`` (amount_on(date) ->
    (monthly amount or None, persons)), and an audited EntitlementChange row for each new change. Raises
    ``epay.NoLongerEligibleError`` (writing nothing) when the beneficiary would no longer qualify."""
    from carenet.assistance.jobs import load_engine_entitlements

    [eng], _ = load_engine_entitlements(m.Entitlement.objects.filter(pk=ent.pk))
    new = epay.restate(eng, dates, amount_on, reason=reason)
    added = 0
    for ch in new.changes[len(eng.changes):]:
        obj = m.EntitlementChange.objects.create(entitlement=ent, effective_month=ch.effective_month,
                                                 monthly_amount=ch.monthly_amount, persons=ch.persons,
                                                 reason=ch.reason, created_by=user)
        audit.record(AuditLog.Action.CREATE, obj, actor=user, division_path=ent.division.path,
                     after=audit.snapshot(obj), note=note)
        added += 1
    return added


def seed_default_standards(division: Division, effective_from: dt.date = dt.date(2020, 11, 1)) -> int:
    """Load the engine's full default key set for a division (usually the district) if it has none."""
    if m.Standard.objects.filter(division=division).exists():
        return 0
    rows = [m.Standard(division=division, program=s.program, key=s.key, value=erules.encode_value(s.key, s.value),
                       effective_from=s.effective_from, source=s.source)
            for s in erules.default_standards(division.code, effective_from)]
    m.Standard.objects.bulk_create(rows)
    audit.record(AuditLog.Action.IMPORT, model="assistance.standard", object_id=division.code,
                 object_repr=f"默认救助标准 {len(rows)} 条", division_path=division.path,
                 note="assistance.seed_default_standards")
    return len(rows)


# ------------------------------------------------------------------ actors and snapshots

def actor_for(user) -> ewf.Actor:
    if user.is_superuser:
        roles = frozenset().union(*ENGINE_ROLES.values())
    else:
        roles = ENGINE_ROLES.get(user.role, frozenset())
    division = user.division or Division.objects.filter(level=Division.Level.DISTRICT).first()
    relatives = frozenset(str(r) for r in m.NearRelativeDeclaration.objects.filter(staff=user)
                          .values_list("resident_id", flat=True))
    return ewf.Actor(str(user.pk), roles, division.code if division else "", relatives)


def snapshot_of(case: m.Case) -> ewf.CaseSnapshot:
    amount = case.monthly_amount if case.monthly_amount is not None else case.grant_amount
    return ewf.CaseSnapshot(
        case_id=str(case.pk), program=case.program, division_path=path_codes(case.division),
        person_ids=frozenset(case.person_ids), state=case.state,
        history=tuple(h.to_engine() for h in case.history.order_by("seq")),
        notice_started_on=case.notice_started_on, notice_ends_on=case.notice_ends_on, objections=case.objections,
        township_may_approve=case.township_may_approve, monthly_amount=amount,
        conflicted_staff=frozenset(case.conflicted_staff), channel=case.channel)


def _household_persons(applicant: Resident) -> list[Resident]:
    if applicant.household_id:
        members = list(Resident.objects.filter(household_id=applicant.household_id, deceased_on__isnull=True))
        if applicant not in members:
            members.append(applicant)
        return members
    return [applicant]


def _declarations(person_ids) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for staff_id, res_id in m.NearRelativeDeclaration.objects.filter(resident_id__in=[int(p) for p in person_ids]) \
            .values_list("staff_id", "resident_id"):
        out.setdefault(str(staff_id), set()).add(str(res_id))
    return out


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


def _persist(user, case: m.Case, result: ewf.TransitionResult, rules: erules.RuleSet, before: dict,
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
        snap, actor, t = snapshot_of(case), actor_for(user), now()
        data = dict(data or {})
        if prepare is not None:
            ewf.transition(snap, action, actor, t, rules=rules, calendar=CALENDAR, reason=reason, data=data)
            data.update(prepare(case, rules))
        result = ewf.transition(snap, action, actor, t, rules=rules, calendar=CALENDAR, reason=reason, data=data)
        if on_result is not None:
            on_result(case, result, rules)
        return _persist(user, case, result, rules, before)


# ------------------------------------------------------------------ engine inputs

HEAD_RELATION_MAP = {  # Resident.relation (to the head) -> engine relation, when the applicant is the head
    "head": "applicant", "spouse": "spouse", "child": "child", "parent": "parent", "grandchild": "grandchild",
    "sibling": "sibling", "child_in_law": "other", "other": "other",
}
SUPPORT_DUTY = {"parent": True, "spouse": True, "child": True, "grandchild": True, "grandparent": True}


def _relation_to_applicant(applicant: Resident, r: Resident) -> str:
    if r.pk == applicant.pk:
        return "applicant"
    if applicant.relation == "head":
        return HEAD_RELATION_MAP.get(r.relation, "other")
    if r.relation == "head":
        return {"spouse": "spouse", "child": "parent", "parent": "child", "grandchild": "grandparent",
                "sibling": "sibling"}.get(applicant.relation, "other")
    if applicant.relation == "spouse" and r.relation == "child":
        return "child"
    if applicant.relation == "child" and r.relation in ("spouse",):
        return "parent"
    if applicant.relation == "child" and r.relation == "child":
        return "sibling"
    return "other"


def engine_household(case: m.Case, facts: dict) -> ehh.Household:
    applicant = case.applicant
    overrides = facts.get("members", {})
    members = []
    for r in _household_persons(applicant):
        rel = _relation_to_applicant(applicant, r)
        o = overrides.get(str(r.pk), {})
        members.append(ehh.Member(
            person_id=str(r.pk), name=r.name, relation=rel, birth_date=r.birth_date, cohabiting=o.get("cohabiting", True),
            statutory_support_duty=o.get("statutory_support_duty", SUPPORT_DUTY.get(rel, False)),
            cannot_live_independently=o.get("cannot_live_independently", False),
            full_time_student=o.get("full_time_student", False), exclusion=o.get("exclusion") or None,
            employable=o.get("employable", False)))
    incomes = tuple(ehh.IncomeItem(str(i.get("person_id") or applicant.pk), i.get("type", "wage"),
                                   Decimal(str(i.get("amount", "0"))))
                    for i in facts.get("incomes", []) if Decimal(str(i.get("amount", "0"))) != 0)
    a = facts.get("assets", {})
    assets = ehh.Assets(deposits=Decimal(str(a.get("deposits", "0"))), housing_units=int(a.get("housing_units", 0)),
                        vehicles=int(a.get("vehicles", 0)), exempt_vehicles=int(a.get("exempt_vehicles", 0)))
    expenses = tuple(ehh.RigidExpense(e["type"], Decimal(str(e["amount"]))) for e in facts.get("expenses", [])
                     if Decimal(str(e.get("amount", "0"))) != 0)
    if case.program == erules.DIBAO_URBAN:
        area = "urban"
    elif case.program == erules.DIBAO_RURAL:
        area = "rural"
    else:
        area = case.household.hukou if case.household_id else "urban"
    return ehh.Household(str(case.household_id or applicant.pk), path_codes(case.division), area, tuple(members),
                         incomes, assets, expenses, bool(facts.get("receiving_dibao", False)))


def assess(case: m.Case, on_date: dt.date | None = None, rules: erules.RuleSet | None = None) -> elig.Outcome:
    """Run the engine for the case's program with the facts gathered so far."""
    on_date = on_date or today()
    rules = rules or rules_for(case.division)
    f = case.facts or {}
    path = path_codes(case.division)
    p = case.program
    if p in (erules.DIBAO_URBAN, erules.DIBAO_RURAL):
        return elig.assess_dibao(engine_household(case, f), rules, on_date)
    if p == erules.MARGINAL:
        return elig.assess_marginal(engine_household(case, f), rules, on_date)
    if p == erules.TEKUN:
        a = case.applicant
        t = f.get("tekun", {})
        grade = t.get("disability_grade")
        return elig.assess_tekun(elig.TekunApplicant(
            person_id=str(a.pk), name=a.name, birth_date=a.birth_date, division_path=path,
            area=case.household.hukou if case.household_id else "urban",
            support_mode=t.get("support_mode", "dispersed"), care_level=t.get("care_level", "self_care"),
            disability_grade=int(grade) if grade else None, disability_kind=t.get("disability_kind") or None,
            monthly_income=Decimal(str(t.get("monthly_income", "0"))), deposits=Decimal(str(t.get("deposits", "0"))),
            supporters=tuple(elig.Supporter(s.get("name", ""), s.get("relation", ""), bool(s.get("able")))
                             for s in t.get("supporters", []))), rules, on_date)
    if p == erules.TEMP_AID:
        t = f.get("temp_aid", {})
        return elig.assess_temp_aid(engine_household(case, f), rules, on_date, aid_type=t.get("aid_type", "emergency"),
                                    requested=case.requested_amount or Decimal("0"),
                                    household_status=t.get("household_status", "none"), special=bool(t.get("special")))
    if p == erules.ELDERLY:
        return elig.assess_elderly_allowance(str(case.applicant_id), case.applicant.birth_date, path, rules, on_date)
    if p == erules.WARM_FUND:
        previous = [h.at.date() for h in m.CaseHistory.objects.filter(
            case__applicant=case.applicant, case__program=erules.WARM_FUND, action="approve").exclude(case=case)]
        return elig.assess_warm_fund(case.requested_amount or Decimal("0"), path, rules, on_date, previous)
    raise AssistanceError(f"unknown program {p}")


def _store_outcome(case: m.Case, outcome: elig.Outcome, on_date: dt.date) -> None:
    case.eligible = outcome.eligible
    case.outcome_code = outcome.code
    case.explanation = [s.as_dict() | {"en": s.en} for s in outcome.steps]
    case.provenance = list(outcome.provenance)
    case.assessed_on = on_date
    case.persons = max(outcome.persons, 1)
    if case.program in m.ONE_OFF_PROGRAMS:
        case.grant_amount = outcome.grant_amount
        case.township_may_approve = bool(outcome.details.get("township_may_approve"))
    else:
        case.monthly_amount = outcome.monthly_amount


# ------------------------------------------------------------------ intake

@transaction.atomic
def intake(user, *, program: str, applicant: Resident, channel: str = m.Channel.WINDOW, reason: str = "",
           facts: dict | None = None, requested_amount=None, lat=None, lon=None, photos=()) -> m.Case:
    """受理: the same case whichever way it came in (window, community worker, grid report)."""
    require(user, "assistance.intake")
    require_in_area(user, applicant.division)
    if program not in m.Program.values:
        raise AssistanceError(_("Unknown program."))
    if channel not in m.Channel.values:
        raise AssistanceError(_("Unknown channel."))
    persons = [str(r.pk) for r in _household_persons(applicant)]
    rules = rules_for(applicant.division)
    t = now()
    result = ewf.new_case("new", program, path_codes(applicant.division), persons, actor_for(user), t,
                          channel=channel, declarations=_declarations(persons), data={"reason": reason[:200]})
    case = m.Case(program=program, applicant=applicant, household_id=applicant.household_id,
                  division=applicant.division, channel=channel, state=ewf.ACCEPTED, person_ids=persons,
                  conflicted_staff=sorted(result.case.conflicted_staff), reason=reason, facts=facts or {},
                  requested_amount=Decimal(str(requested_amount)) if requested_amount not in (None, "") else None,
                  location_lat=lat, location_lon=lon, created_by=user)
    case.save()
    try:
        _store_outcome(case, assess(case, today(), rules), today())
    except (erules.RuleNotFoundError, ValueError) as exc:  # incomplete facts: assessed again at the survey
        case.outcome_code = "not_assessed"
        case.explanation = [{"code": "not_assessed", "params": {}, "zh": str(exc)}]
    _persist(user, case, result, rules, {})
    for f in photos:
        add_photo(user, case, f)
    return case


PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/gif"}


def add_photo(user, case: m.Case | None, upload, survey: m.SurveyRecord | None = None,
              report: m.GridReport | None = None) -> m.Photo:
    ct = (getattr(upload, "content_type", "") or "").lower()
    if ct not in PHOTO_TYPES:  # no SVG or HTML: the file is served back to staff browsers
        raise AssistanceError(_("Only photos can be attached."))
    photo = m.Photo.objects.create(case=case, survey=survey, report=report, file=upload, content_type=ct,
                                   uploaded_by=user)
    division = (case or report).division
    audit.record(AuditLog.Action.CREATE, photo, actor=user, division_path=division.path,
                 after={"case": case.pk if case else None, "report": report.pk if report else None,
                        "file": photo.file.name})
    return photo


@transaction.atomic
def grid_report(user, *, applicant: Resident, route: str, description: str, lat=None, lon=None, photos=(),
                requested_amount=None) -> m.GridReport:
    """掌上救助: a grid worker reports someone they found, classified on the phone. ``route`` is a program
    code (the report waits for a community worker or reviewer to accept it, 受理) or a department code
    (a tracked referral is opened at once)."""
    require(user, "assistance.intake")
    require_in_area(user, applicant.division)
    if route not in m.Program.values and route not in m.Referral.Department.values:
        raise AssistanceError(_("Choose where the report should go."))
    report = m.GridReport.objects.create(
        reporter=user, resident=applicant, division=applicant.division, route=route, description=description,
        requested_amount=Decimal(str(requested_amount)) if requested_amount not in (None, "") else None,
        lat=lat, lon=lon)
    audit.record(AuditLog.Action.CREATE, report, actor=user, after=audit.snapshot(report),
                 note=f"assistance.grid_report {route}")
    for f in photos:
        add_photo(user, None, f, report=report)
    if route in m.Referral.Department.values:
        report.referral = refer(user, resident=applicant, department=route, need=description)
        report.status = m.GridReport.Status.REFERRED
        report.handled_by, report.handled_at = user, now()
        report.save()
    return report


@transaction.atomic
def accept_report(user, report: m.GridReport, *, program: str | None = None, facts: dict | None = None) -> m.Case:
    """受理 a grid report as an application (channel 'grid'); its photos and location move to the case."""
    report = m.GridReport.objects.select_for_update().get(pk=report.pk)
    if report.status != m.GridReport.Status.NEW:
        raise AssistanceError(_("This report has already been handled."))
    program = program or report.route
    if program == erules.TEMP_AID and not facts:
        facts = {"temp_aid": {"aid_type": "emergency", "household_status": "none", "special": False}}
    case = intake(user, program=program, applicant=report.resident, channel=m.Channel.GRID,
                  reason=report.description, facts=facts, requested_amount=report.requested_amount,
                  lat=report.lat, lon=report.lon)
    report.photos.update(case=case)
    before = audit.snapshot(report)
    report.case, report.status = case, m.GridReport.Status.ACCEPTED
    report.handled_by, report.handled_at = user, now()
    report.save()
    audit.record(AuditLog.Action.UPDATE, report, actor=user, before=before, after=audit.snapshot(report),
                 note="assistance.grid_report accepted")
    return case


@transaction.atomic
def dismiss_report(user, report: m.GridReport, *, reason: str) -> m.GridReport:
    require(user, "assistance.intake")
    require_in_area(user, report.division)
    if not (reason or "").strip():
        raise AssistanceError(_("A written reason is required for this action."))
    report = m.GridReport.objects.select_for_update().get(pk=report.pk)
    if report.status != m.GridReport.Status.NEW:
        raise AssistanceError(_("This report has already been handled."))
    before = audit.snapshot(report)
    report.status, report.note = m.GridReport.Status.DISMISSED, reason.strip()
    report.handled_by, report.handled_at = user, now()
    report.save()
    audit.record(AuditLog.Action.UPDATE, report, actor=user, before=before, after=audit.snapshot(report),
                 note=f"assistance.grid_report dismissed: {reason.strip()}")
    return report


@transaction.atomic
def refer(user, *, resident: Resident, department: str, need: str, case: m.Case | None = None) -> m.Referral:
    require(user, "assistance.intake")
    require_in_area(user, resident.division)
    ref = m.Referral.objects.create(case=case, resident=resident, division=resident.division, department=department,
                                    need=need, created_by=user, due_on=CALENDAR.add_working_days(today(), 5))
    audit.record(AuditLog.Action.CREATE, ref, actor=user, after=audit.snapshot(ref), note="assistance.refer")
    return ref


@transaction.atomic
def update_referral(user, referral: m.Referral, *, status: str, response: str = "") -> m.Referral:
    require(user, "assistance.intake")
    require_in_area(user, referral.division)
    before = audit.snapshot(referral)
    referral.status = status
    if response:
        referral.response = response
    referral.save()
    audit.record(AuditLog.Action.UPDATE, referral, actor=user, before=before, after=audit.snapshot(referral),
                 note=f"assistance.referral {status}")
    return referral


@transaction.atomic
def declare_near_relative(user, *, resident: Resident, relation: str) -> m.NearRelativeDeclaration:
    """近亲属备案: a staff member declares a relative; open cases involving that person are flagged."""
    decl, created = m.NearRelativeDeclaration.objects.get_or_create(staff=user, resident=resident,
                                                                    defaults={"relation": relation})
    if created:
        audit.record(AuditLog.Action.CREATE, decl, actor=user, division_path=resident.division.path,
                     after={"staff": user.pk, "resident": resident.pk, "relation": relation},
                     note="assistance.near_relative")
        open_cases = m.Case.objects.select_for_update().exclude(state__in=[ewf.CLOSED, ewf.REJECTED])
        if resident.household_id:
            open_cases = open_cases.filter(Q(household_id=resident.household_id) | Q(applicant=resident))
        else:
            open_cases = open_cases.filter(applicant=resident)
        for case in (c for c in open_cases if str(resident.pk) in c.person_ids):
            before = audit.snapshot(case)
            case.conflicted_staff = sorted(set(case.conflicted_staff) | {str(user.pk)})
            case.save(update_fields=["conflicted_staff", "updated"])
            audit.record(AuditLog.Action.UPDATE, case, actor=user, before=before, after=audit.snapshot(case),
                         note="assistance.near_relative flagged")
    return decl


# ------------------------------------------------------------------ workflow steps

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
        _store_outcome(locked, assess(locked, today(), rules), today())
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
        outcome = assess(locked, today(), rules)
        if not outcome.eligible:
            raise AssistanceError(_("The engine finds the case not eligible (%(code)s); reject it with a written "
                                    "reason instead.") % {"code": outcome.code})
        _store_outcome(locked, outcome, today())
        if locked.program in m.ONE_OFF_PROGRAMS:
            return {"grant_amount": str(locked.grant_amount)}
        return {"monthly_amount": locked.monthly_amount} if locked.monthly_amount is not None else {}

    paid_first = {}

    def on_result(locked, result, rules):
        paid_first["yes"] = m.LedgerLine.objects.filter(entitlement__case=locked).exists()
        _create_entitlement(user, locked, rules)

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
        outcome = assess(locked, today(), rules)
        locked.explanation = [s.as_dict() | {"en": s.en} for s in outcome.steps]
        locked.assessed_on = today()
        try:
            locked.next_recheck_on = ewf.next_recheck_due(today(), locked.recheck_category, rules,
                                                          path_codes(locked.division), locked.program)
        except ValueError:
            pass

    return _transition(user, case, "complete_recheck", reason=notes, capability="assistance.review",
                       on_result=on_result)


def _beneficiary(case: m.Case) -> str:
    if case.program in m.PERSON_PROGRAMS or not case.household_id:
        return f"r{case.applicant_id}"
    return f"h{case.household_id}"


def township_of(division: Division) -> Division:
    for d in reversed(division.ancestors()):
        if d.level == Division.Level.STREET:
            return d
    return division


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
        _store_outcome(case, assess(case, today(), rules), today())
        if not first_aid_possible(case):
            raise AssistanceError(_("First aid (先行救助) is only for eligible temporary aid within the first-aid "
                                    "limit, before approval and not yet paid."))
        ent = _create_entitlement(user, case, rules, first_aid=True)
        case.save()
        seq = case.history.count() + 1
        m.CaseHistory.objects.create(case=case, seq=seq, action="first_aid", from_state=case.state,
                                     to_state=case.state, actor=user, at=now(), reason=opinion,
                                     data={"grant_amount": str(case.grant_amount),
                                           "month": ent.start_month.isoformat()})
        audit.record(AuditLog.Action.UPDATE, case, actor=user, before=before, after=audit.snapshot(case),
                     note="assistance.first_aid" + (f": {opinion}" if opinion else ""))
        return case


def _create_entitlement(user, case: m.Case, rules: erules.RuleSet, first_aid: bool = False) -> m.Entitlement | None:
    if case.program in m.STATUS_ONLY_PROGRAMS:
        return None
    if m.Entitlement.objects.filter(case=case).exists():
        return None  # paid first (先行救助): the approval completes the paperwork
    approved_on = today()
    start = epay.payment_start_month(approved_on, rules, path_codes(case.division), case.program)
    if case.program in m.ONE_OFF_PROGRAMS:
        amount = case.grant_amount
        if first_aid:  # 先行救助: paid in this month's payroll
            start = epay.month_of(approved_on)
        stop = epay.add_months(start, 1)
    else:
        amount, stop = case.monthly_amount, None
    if not amount:
        return None
    ent = m.Entitlement(case=case, program=case.program, beneficiary_id=_beneficiary(case), payee=case.applicant,
                        payee_name=case.applicant.name, township=township_of(case.division), division=case.division,
                        monthly_amount=amount, persons=case.persons, start_month=start, stop_month=stop)
    account = (case.facts or {}).get("bank_account", "")
    if account:
        ent.set_bank_account(account)
    ent.save()
    case.next_recheck_on = ewf.next_recheck_due(approved_on, case.recheck_category, rules, path_codes(case.division),
                                                case.program) if case.program not in m.ONE_OFF_PROGRAMS else None
    audit.record(AuditLog.Action.CREATE, ent, actor=user, after=audit.snapshot(ent), note="assistance.entitlement")
    return ent


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

    return _transition(user, case, "stop", reason=reason, data={"effective_month": month.isoformat()},
                       capability=DECIDE, on_result=on_result)


def mark_paying(user, case: m.Case) -> m.Case:
    """approved -> paying, done by the payroll job for the run that first pays the case."""
    return _transition(user, case, "start_payment", capability="assistance.payroll")


# ------------------------------------------------------------------ payroll (the job body is in jobs.py)

@transaction.atomic
def start_payroll(user, *, run_month: dt.date, program: str, area: Division) -> m.PayrollRun:
    require(user, "assistance.payroll")
    require_in_area(user, area)
    run_month = epay.month_of(run_month)
    busy = m.PayrollRun.objects.select_for_update().filter(
        run_month=run_month, status__in=[m.PayrollRun.Status.QUEUED, m.PayrollRun.Status.RUNNING])
    for other in busy:
        overlap = other.area.contains(area) or area.contains(other.area)
        if overlap and (other.program in ("*", program) or program == "*"):
            raise AssistanceError(_("A payroll for this month and area is already running (run #%(id)s).")
                                  % {"id": other.pk})
    run = m.PayrollRun.objects.create(run_month=run_month, program=program, area=area, started_by=user)
    audit.record(AuditLog.Action.CREATE, run, actor=user, division_path=area.path, after=audit.snapshot(run),
                 note="assistance.payroll start")
    return run
