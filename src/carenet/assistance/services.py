"""The only place that writes social-assistance data, and the app's public API.

Every write runs in ``transaction.atomic`` and leaves an audit row. The work is split along the data path:
``adapter`` (rows <-> engine data), ``workflow`` (case steps), ``payments`` (entitlements, restating, bank file)
and ``jobs`` (the payroll job); this module holds intake, grid reports, referrals, standards and the payroll
start, and re-exports the case steps so callers need only ``services``.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.assistance import adapter, jobs
from carenet.assistance import models as m
from carenet.assistance.adapter import (CALENDAR, AssistanceError, actor_for, assess, declarations,
                                        household_persons, path_codes, rules_for, store_outcome, today)
from carenet.assistance.engine import payroll as epay
from carenet.assistance.engine import rules as erules
from carenet.assistance.engine import workflow as ewf
from carenet.assistance.payments import restate_for_standard
from carenet.assistance.workflow import _release_holds  # noqa: F401 (shared with stop and re-check)
from carenet.assistance.workflow import (DECIDE, PHOTO_TYPES, add_photo, approve, change_payment, close,
                                         complete_recheck, due_date, error_message, first_aid_possible, mark_paying,
                                         open_recheck_on_finding, pay_first_aid, persist, record_objection, record_survey, reject, review,
                                         start_notice, start_recheck, stop_payment, submit, withdraw)
from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.people.models import Resident
from carenet.people.selectors import resident_by_id_number_districtwide

__all__ = [  # the case steps and helpers callers use through services
    "CALENDAR", "DECIDE", "PHOTO_TYPES", "AssistanceError", "actor_for", "approve", "change_payment", "close",
    "complete_recheck", "due_date", "error_message", "open_recheck_on_finding", "first_aid_possible", "mark_paying", "pay_first_aid", "path_codes",
    "record_objection", "record_survey", "reject", "review", "rules_for", "start_notice", "start_recheck",
    "stop_payment", "submit", "today", "withdraw",
]

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
    if not allow_past and effective_from < adapter.today():
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
    open_case = m.Case.objects.filter(applicant=applicant, program=program, state__in=open_states(program)).first()
    if open_case is not None:
        raise AssistanceError(_("%(name)s already has an open %(program)s application (%(number)s); continue "
                                "that case instead of opening a second one.") % {
            "name": applicant.name, "program": open_case.get_program_display(), "number": open_case.number})
    persons = [str(r.pk) for r in household_persons(applicant)]
    rules = rules_for(applicant.division)
    t = adapter.now()
    result = ewf.new_case("new", program, path_codes(applicant.division), persons, actor_for(user), t,
                          channel=channel, declarations=declarations(persons), data={"reason": reason[:200]})
    case = m.Case(program=program, applicant=applicant, household_id=applicant.household_id,
                  division=applicant.division, channel=channel, state=ewf.ACCEPTED, person_ids=persons,
                  conflicted_staff=sorted(result.case.conflicted_staff), reason=reason, facts=facts or {},
                  requested_amount=Decimal(str(requested_amount)) if requested_amount not in (None, "") else None,
                  location_lat=lat, location_lon=lon, created_by=user)
    case.save()
    try:
        store_outcome(case, assess(case, adapter.today(), rules), adapter.today())
    except (erules.RuleNotFoundError, ValueError) as exc:  # incomplete facts: assessed again at the survey
        case.outcome_code = "not_assessed"
        case.explanation = [{"code": "not_assessed", "params": {}, "zh": str(exc)}]
    persist(user, case, result, rules, {})
    for f in photos:
        add_photo(user, case, f)
    return case


UNDECIDED_STATES = (m.State.ACCEPTED, m.State.SURVEYED, m.State.REVIEWED, m.State.IN_NOTICE, m.State.SUBMITTED)


def open_states(program: str) -> tuple:
    """States in which a case blocks a second application for the same person and program: any undecided
    case, and for monthly programs also a case being paid (a change goes through 复核/增发/减发 instead)."""
    if program in m.ONE_OFF_PROGRAMS:
        return UNDECIDED_STATES
    return UNDECIDED_STATES + (m.State.APPROVED, m.State.PAYING, m.State.RECHECK)


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
        report.handled_by, report.handled_at = user, adapter.now()
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
    report.handled_by, report.handled_at = user, adapter.now()
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
    report.handled_by, report.handled_at = user, adapter.now()
    report.save()
    audit.record(AuditLog.Action.UPDATE, report, actor=user, before=before, after=audit.snapshot(report),
                 note=f"assistance.grid_report dismissed: {reason.strip()}")
    return report


@transaction.atomic
def refer(user, *, resident: Resident, department: str, need: str, case: m.Case | None = None) -> m.Referral:
    require(user, "assistance.intake")
    require_in_area(user, resident.division)
    # the record's own date and its answer deadline come from the same clock: the deadline is never before it
    created = adapter.now()
    ref = m.Referral.objects.create(case=case, resident=resident, division=resident.division, department=department,
                                    need=need, created_by=user, created=created,
                                    due_on=CALENDAR.add_working_days(timezone.localdate(created), 5))
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
def declare_near_relative_by_number(user, *, number: str, relation: str) -> m.NearRelativeDeclaration | None:
    """The declaration form's lookup by full ID number, across the district (a relative may live anywhere).
    Nothing about the person goes back to the caller; every lookup leaves an audit row (none holds the number)."""
    require(user, "assistance.declare")
    resident = resident_by_id_number_districtwide(user, number, why="near-relative declaration")  # audited
    if resident is None:
        return None
    return declare_near_relative(user, resident=resident, relation=relation)


@transaction.atomic
def declare_near_relative(user, *, resident: Resident, relation: str) -> m.NearRelativeDeclaration:
    """近亲属备案: a staff member declares a relative; open cases involving that person are flagged."""
    require(user, "assistance.declare")
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


@transaction.atomic
def start_payroll(user, *, run_month: dt.date, program: str, area: Division, launch: bool = True) -> m.PayrollRun:
    """Queue the payroll of a month and area, and schedule the job to start once this transaction commits
    (``launch=False``: the caller runs ``jobs.execute`` itself, as the demo seeding does)."""
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
    if launch:
        jobs.launch(run)  # the job starts once this transaction has committed
    return run


@transaction.atomic
def resume_payroll(user, run: m.PayrollRun) -> m.PayrollRun:
    """Run again a payroll that failed, or that a dead worker left queued or running (no lines were written:
    a run writes its lines in one transaction at the end)."""
    require(user, "assistance.payroll")
    require_in_area(user, run.area)
    if not jobs.resumable(run):
        return run
    m.PayrollRun.objects.filter(pk=run.pk).update(status=m.PayrollRun.Status.QUEUED, progress=0,
                                                  log=run.log + "\n" + _("Requeued by %(name)s") % {
                                                      "name": user.display_name})
    audit.record(AuditLog.Action.UPDATE, run, actor=user, division_path=run.area.path,
                 note="assistance.payroll requeued")
    run.refresh_from_db()
    jobs.launch(run)
    return run


# ------------------------------------------------------------------ integrity findings (called by matching)

@transaction.atomic
def record_recovery(user, case: m.Case, *, periods: list[tuple[dt.date, Decimal]], note: str) -> list[m.LedgerLine]:
    """Recovery (追回) lines in the ledger for months paid but not owed, found outside a payroll (e.g. an
    integrity finding). They go into a payroll run of their own, marked done, so the ledger stays the one
    record of money out and back; a later payroll sees those periods as already recovered."""
    require(user, "assistance.integrity")
    ent = m.Entitlement.objects.select_for_update().filter(case=case).first()
    if ent is None:
        raise AssistanceError(_("This case has no entitlement to change."))
    month = epay.month_of(adapter.today())
    run = m.PayrollRun.objects.create(run_month=month, program=ent.program, area=ent.township,
                                      status=m.PayrollRun.Status.DONE, progress=100, started_by=user,
                                      log=f"追回：{note}"[:500], started=adapter.now(), finished=adapter.now())
    lines = []
    for period, amount in periods:
        line = m.LedgerLine.objects.create(entitlement=ent, payroll_run=run, program=ent.program,
                                           beneficiary_id=ent.beneficiary_id, township=ent.township,
                                           period=epay.month_of(period), run_month=month,
                                           kind=m.LedgerLine.Kind.RECOVERY, amount=-abs(Decimal(amount)),
                                           persons=0, note=note[:100])
        lines.append(line)
    run.lines, run.entitlements = len(lines), 1
    run.total = sum((ln.amount for ln in lines), Decimal("0"))
    run.save(update_fields=["lines", "entitlements", "total"])
    audit.record(AuditLog.Action.CREATE, run, actor=user, division_path=case.division.path,
                 after={"recovery_lines": len(lines), "total": str(run.total)}, note=f"assistance.recovery {note}"[:300])
    return lines


@transaction.atomic
def hold_payment(user, case: m.Case, *, reason: str, source: str = "") -> m.PaymentHold | None:
    """Hold (暂停发放) the case's payment until a decision: the next payroll skips it and logs the reason.
    One active hold per source; None when the case has no running entitlement."""
    require(user, "assistance.integrity")
    require_in_area(user, case.division)
    ent = m.Entitlement.objects.select_for_update().filter(case=case).first()
    if ent is None or (ent.stop_month and ent.stop_month <= epay.month_of(adapter.today())):
        return None
    held = ent.holds.filter(released_at__isnull=True, source=source).first()
    if held:
        return held
    hold = m.PaymentHold.objects.create(entitlement=ent, reason=reason[:300], source=source[:60], held_by=user)
    audit.record(AuditLog.Action.CREATE, hold, actor=user, division_path=case.division.path,
                 after={"entitlement": ent.pk, "reason": hold.reason, "source": hold.source},
                 note="assistance.payment hold")
    return hold


def release_holds(user, case: m.Case, *, reason: str, source: str | None = None) -> int:
    """Release the active holds on the case's payment (those of ``source`` only, when given). Months skipped
    while held are paid by the next payroll as arrears unless a stop covers them."""
    require(user, "assistance.integrity")
    require_in_area(user, case.division)
    with transaction.atomic():
        return _release_holds(user, case, reason, source)


def active_holds(case: m.Case) -> list[m.PaymentHold]:
    return list(m.PaymentHold.objects.filter(entitlement__case=case, released_at__isnull=True))
