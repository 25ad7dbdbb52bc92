"""Every write of the facilities app: atomic, permission-checked, audited, events after commit."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.assistance.engine import rules as erules
from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.facilities import models as m
from carenet.facilities.engine import evaluation as eeval
from carenet.facilities.engine import inspection as einsp
from carenet.facilities.engine import status as estatus
from carenet.facilities.engine import subsidy as esub


class FacilityError(ValueError):
    """A refused request with a message for staff (Chinese in the UI)."""


# Fields a proposal may set, and how they are stored in JSON.
EDITABLE = ["name", "type", "division", "address", "lat", "lon", "building_area", "activity_area", "beds",
            "nursing_beds", "meal_capacity", "licence_no", "operator", "operating_model", "parent_center", "phone"]


def _json(v):
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, (Division, m.Facility)):
        return v.pk
    return v


def _clean_data(data: dict) -> dict:
    return {k: _json(v) for k, v in data.items() if k in EDITABLE}


def today() -> dt.date:
    return timezone.localdate()


# ------------------------------------------------------------------ registry changes (maker / checker)

@transaction.atomic
def propose_create(user, data: dict, reason: str = "") -> m.FacilityChange:
    require(user, "facilities.propose")
    division = data["division"]
    require_in_area(user, division)
    change = m.FacilityChange.objects.create(division=division, kind=m.FacilityChange.Kind.CREATE,
                                             data=_clean_data(data), reason=reason, proposed_by=user)
    audit.record(AuditLog.Action.CREATE, change, actor=user, after=change.data, division_path=division.path,
                 note="facilities.propose create")
    return change


@transaction.atomic
def propose_update(user, facility: m.Facility, data: dict, reason: str) -> m.FacilityChange:
    require(user, "facilities.propose")
    require_in_area(user, facility.division)
    if not (reason or "").strip():
        raise FacilityError(_("Give a reason for the change."))
    changed = {k: v for k, v in _clean_data(data).items() if _json(getattr(facility, k + ("_id" if k in ("division", "parent_center") else ""))) != v}
    if not changed:
        raise FacilityError(_("Nothing was changed."))
    if "division" in changed:
        require_in_area(user, Division.objects.get(pk=changed["division"]))
    change = m.FacilityChange.objects.create(facility=facility, division=facility.division,
                                             kind=m.FacilityChange.Kind.UPDATE, data=changed, reason=reason,
                                             proposed_by=user)
    audit.record(AuditLog.Action.CREATE, change, actor=user, after=changed, division_path=facility.division.path,
                 note="facilities.propose update")
    return change


@transaction.atomic
def propose_status(user, facility: m.Facility, target: str, reason: str) -> m.FacilityChange:
    require(user, "facilities.propose")
    require_in_area(user, facility.division)
    _check_status(facility.status, target, reason)
    change = m.FacilityChange.objects.create(facility=facility, division=facility.division,
                                             kind=m.FacilityChange.Kind.STATUS, data={"status": target},
                                             reason=reason, proposed_by=user)
    audit.record(AuditLog.Action.CREATE, change, actor=user, after=change.data, division_path=facility.division.path,
                 note="facilities.propose status")
    return change


STATUS_ERRORS = {
    "not_allowed": lambda: _("This status change is not allowed (planning → operating → suspended → closed)."),
    "same_status": lambda: _("The facility already has this status."),
    "reason_required": lambda: _("A status change needs a reason."),
    "unknown_status": lambda: _("Unknown status."),
}


def _check_status(current, target, reason):
    try:
        estatus.check_transition(current, target, reason)
    except estatus.TransitionError as exc:
        raise FacilityError(STATUS_ERRORS[exc.code]()) from None


def _next_code(division: Division) -> str:
    prefix = "F" + division.code[:9]
    n = m.Facility.objects.filter(code__startswith=prefix).count() + 1
    while m.Facility.objects.filter(code=f"{prefix}{n:04d}").exists():
        n += 1
    return f"{prefix}{n:04d}"


def _assign(facility: m.Facility, data: dict) -> None:
    for k, v in data.items():
        if k == "division":
            facility.division = Division.objects.get(pk=v)
        elif k == "parent_center":
            facility.parent_center = m.Facility.objects.get(pk=v) if v else None
        elif k in ("lat", "lon", "building_area", "activity_area"):
            setattr(facility, k, Decimal(v) if v not in (None, "") else None)
        else:
            setattr(facility, k, v)


@transaction.atomic
def decide(user, change_id: int, approve: bool, note: str = "") -> m.FacilityChange:
    change = m.FacilityChange.objects.select_for_update().get(pk=change_id)
    require(user, "facilities.approve")
    require_in_area(user, change.division)
    if change.state != m.FacilityChange.Decision.PENDING:
        raise FacilityError(_("This proposal has already been decided."))
    if change.proposed_by_id == user.pk:
        raise FacilityError(_("You proposed this change; another person must approve it (maker ≠ checker)."))
    if not approve and not note.strip():
        raise FacilityError(_("Give a reason for rejecting."))
    change.state = m.FacilityChange.Decision.APPROVED if approve else m.FacilityChange.Decision.REJECTED
    change.decided_by, change.decided_at, change.decision_note = user, timezone.now(), note
    if approve:
        _apply(user, change)
    change.save()
    audit.record(AuditLog.Action.UPDATE, change, actor=user, before={"state": "pending"},
                 after={"state": change.state, "note": note}, division_path=change.division.path,
                 note="facilities.decide")
    return change


def _apply(user, change: m.FacilityChange) -> None:
    if change.kind == m.FacilityChange.Kind.CREATE:
        facility = m.Facility(code=_next_code(change.division), status=m.Facility.Status.PLANNING)
        _assign(facility, change.data)
        facility.save()
        before = {}
        change.facility = facility
        after = audit.snapshot(facility)
        audit.record(AuditLog.Action.CREATE, facility, actor=user, after=after, note="facilities.registry")
    else:
        facility = m.Facility.objects.select_for_update().get(pk=change.facility_id)
        before = audit.snapshot(facility)
        if change.kind == m.FacilityChange.Kind.STATUS:
            _check_status(facility.status, change.data["status"], change.reason)
            facility.status = change.data["status"]
        else:
            _assign(facility, change.data)
        facility.save()
        after = audit.snapshot(facility)
        audit.record(AuditLog.Action.UPDATE, facility, actor=user, before=before, after=after,
                     note="facilities.registry")
    b, a = audit.diff(before, after) if before else ({}, after)
    m.FacilityHistory.objects.create(facility=facility, change=change, actor=user, before=b or {}, after=a or {},
                                     note=change.reason)


# ------------------------------------------------------------------ staff and residents

@transaction.atomic
def add_staff(user, facility: m.Facility, **fields) -> m.Staff:
    require(user, "facilities.staff")
    require_in_area(user, facility.division)
    s = m.Staff.objects.create(facility=facility, **fields)
    audit.record(AuditLog.Action.CREATE, s, actor=user, after=audit.snapshot(s), division_path=facility.division.path)
    return s


@transaction.atomic
def admit(user, facility: m.Facility, elder, admitted: dt.date, care_level: str = "", nursing_bed: bool = False,
          room: str = "") -> m.FacilityResident:
    require(user, "facilities.staff")
    require_in_area(user, facility.division)
    if m.FacilityResident.objects.filter(elder=elder, discharged__isnull=True).exists():
        raise FacilityError(_("This elder already lives in a facility; discharge them there first."))
    stay = m.FacilityResident.objects.create(facility=facility, elder=elder, admitted=admitted, care_level=care_level,
                                             nursing_bed=nursing_bed, room=room)
    audit.record(AuditLog.Action.CREATE, stay, actor=user, after=audit.snapshot(stay),
                 division_path=facility.division.path)
    return stay


@transaction.atomic
def discharge(user, stay: m.FacilityResident, on: dt.date) -> m.FacilityResident:
    require(user, "facilities.staff")
    require_in_area(user, stay.facility.division)
    if stay.discharged:
        raise FacilityError(_("Already discharged."))
    if on < stay.admitted:
        raise FacilityError(_("Discharge cannot be before admission."))
    before = audit.snapshot(stay)
    stay.discharged = on
    stay.save()
    audit.record(AuditLog.Action.UPDATE, stay, actor=user, before=before, after=audit.snapshot(stay),
                 division_path=stay.facility.division.path)
    return stay


# ------------------------------------------------------------------ evaluations and subsidies

TYPE_LABELS_ZH = {"center": "养老服务中心", "station": "社区养老服务站", "rural_point": "农村互助养老点",
                  "nursing_home": "敬老院/特困供养机构", "private_home": "民办养老机构", "day_care": "日间照料中心",
                  "meal_point": "助餐点"}


def rules_for(division: Division) -> erules.RuleSet:
    """Subsidy rules on the division's path, as the assistance rules mechanism's RuleSet."""
    codes = division.path.split("/")
    rows = m.SubsidyRule.objects.filter(division__code__in=codes).select_related("division")
    return erules.RuleSet(erules.Standard(r.division.code, r.facility_type, r.key, _decode(r.key, r.value),
                                          r.effective_from, r.source) for r in rows)


def _decode(key, value):
    if key == esub.CAP_KEY:
        return Decimal(str(value))
    if key == esub.BANDS_KEY:
        return tuple((Decimal(str(lo)), Decimal(str(rate))) for lo, rate in value)
    raise ValueError(f"unknown subsidy key {key}")


def add_subsidy_rule(user, division, facility_type, key, value, effective_from, source="") -> m.SubsidyRule:
    """A dated rule row (append-only). `user` None for the seed."""
    if user is not None:
        require(user, "facilities.approve")
        require_in_area(user, division)
    enc = str(value) if key == esub.CAP_KEY else [[str(lo), str(rate)] for lo, rate in value]
    row = m.SubsidyRule(division=division, facility_type=facility_type, key=key, value=enc,
                        effective_from=effective_from, source=source, created_by=user)
    _decode(key, enc)
    row.save()
    audit.record(AuditLog.Action.CREATE, row, actor=user, after=audit.snapshot(row), division_path=division.path,
                 note="facilities.subsidy_rule")
    return row


def compute_subsidy(facility: m.Facility, score: Decimal, on: dt.date) -> esub.Subsidy:
    try:
        return esub.compute(rules_for(facility.division), facility.type, TYPE_LABELS_ZH[facility.type],
                            facility.division.path.split("/"), on, score,
                            operating=facility.status == m.Facility.Status.OPERATING)
    except erules.RuleNotFoundError:
        raise FacilityError(_("No subsidy rule applies to this facility type yet; the district must enter one.")) from None


def template_indicators(template: m.EvaluationTemplate) -> list[eeval.Indicator]:
    return [eeval.Indicator(i.code, i.group, i.weight, i.max_points, i.label) for i in template.indicators.all()]


@transaction.atomic
def evaluate(user, facility: m.Facility, template: m.EvaluationTemplate, scores: dict, evaluated_on: dt.date,
             note: str = "", photos=()) -> m.Evaluation:
    require(user, "facilities.evaluate")
    require_in_area(user, facility.division)
    if evaluated_on > today():
        raise FacilityError(_("The evaluation date cannot be in the future."))
    try:
        result = eeval.score(template_indicators(template), scores)
    except eeval.EvaluationError as exc:
        raise FacilityError(_("The scores are incomplete or out of range: %(detail)s") % {"detail": exc}) from None
    sub = compute_subsidy(facility, result.total, evaluated_on)
    ev = m.Evaluation.objects.create(
        facility=facility, template=template, evaluator=user, evaluated_on=evaluated_on,
        scores={k: str(v) for k, v in scores.items()}, groups={k: str(v) for k, v in result.groups.items()},
        total=result.total, note=note, subsidy=sub.amount, subsidy_steps=sub.steps)
    for f in photos:
        m.Photo.objects.create(evaluation=ev, file=f, content_type=getattr(f, "content_type", "") or "",
                               uploaded_by=user)
    audit.record(AuditLog.Action.CREATE, ev, actor=user, after=audit.snapshot(ev), division_path=facility.division.path,
                 note="facilities.evaluate")
    return ev


# ------------------------------------------------------------------ inspections (closed loop)

@transaction.atomic
def inspect(user, facility: m.Facility, kind: str, inspected_on: dt.date, findings: list[tuple[str, str]],
            note: str = "") -> m.Inspection:
    require(user, "facilities.inspect")
    require_in_area(user, facility.division)
    insp = m.Inspection.objects.create(facility=facility, kind=kind, inspected_on=inspected_on, inspector=user,
                                       note=note)
    for desc, severity in findings:
        if desc.strip():
            f = m.Finding.objects.create(inspection=insp, facility=facility, description=desc.strip(),
                                         severity=severity)
            m.FindingStep.objects.create(finding=f, actor=user, to_status=f.status, note=desc[:300])
    audit.record(AuditLog.Action.CREATE, insp, actor=user, after=audit.snapshot(insp),
                 division_path=facility.division.path, note="facilities.inspect")
    return insp


def _step(user, finding: m.Finding, target: str, note: str) -> None:
    try:
        einsp.check_step(finding.status, target)
    except ValueError:
        raise FacilityError(_("This step is not possible now.")) from None
    m.FindingStep.objects.create(finding=finding, actor=user, from_status=finding.status, to_status=target, note=note)
    before = finding.status
    finding.status = target
    finding.save()
    audit.record(AuditLog.Action.UPDATE, finding, actor=user, before={"status": before},
                 after={"status": target, "note": note}, division_path=finding.facility.division.path)


def _locked_finding(pk) -> m.Finding:
    return m.Finding.objects.select_for_update().select_related("facility__division").get(pk=pk)


@transaction.atomic
def assign(user, finding_id: int, assignee: str, on: dt.date | None = None) -> m.Finding:
    f = _locked_finding(finding_id)
    require(user, "facilities.inspect")
    require_in_area(user, f.facility.division)
    if not assignee.strip():
        raise FacilityError(_("Name who must rectify it."))
    on = on or today()
    f.assignee, f.assigned_on, f.due = assignee.strip(), on, einsp.deadline(on, f.severity)
    _step(user, f, m.Finding.Status.ASSIGNED, _("assigned to %(who)s, due %(due)s") % {"who": f.assignee, "due": f.due})
    return f


@transaction.atomic
def rectify(user, finding_id: int, note: str, photos=()) -> m.Finding:
    f = _locked_finding(finding_id)
    require(user, "facilities.rectify")
    require_in_area(user, f.facility.division)
    if not note.strip():
        raise FacilityError(_("Describe what was rectified."))
    if f.status == m.Finding.Status.ASSIGNED and not photos:
        raise FacilityError(_("Add at least one photo of the rectification."))
    f.rectified_by, f.rectified_at = user, timezone.now()
    _step(user, f, m.Finding.Status.RECTIFIED, note)
    for p in photos:
        m.Photo.objects.create(finding=f, file=p, content_type=getattr(p, "content_type", "") or "", uploaded_by=user)
    return f


@transaction.atomic
def recheck(user, finding_id: int, accepted: bool, note: str = "") -> m.Finding:
    f = _locked_finding(finding_id)
    require(user, "facilities.inspect")
    require_in_area(user, f.facility.division)
    if f.rectified_by_id == user.pk:
        raise FacilityError(_("You reported the rectification; another person must re-check it."))
    if accepted:
        f.closed_by, f.closed_at = user, timezone.now()
        _step(user, f, m.Finding.Status.CLOSED, note or _("accepted and closed"))
    else:
        if not note.strip():
            raise FacilityError(_("Say what is still wrong."))
        f.assigned_on = today()
        f.due = einsp.deadline(f.assigned_on, f.severity)
        _step(user, f, m.Finding.Status.ASSIGNED, note)
    return f


# ------------------------------------------------------------------ smart-room alarms on the facility console

def acknowledge_room_alarm(user, alarm_id: int, note: str = ""):
    from carenet.facilities.rooms import is_room_staff
    from carenet.monitoring import services as monitoring_services

    require(user, "facilities.console")
    return monitoring_services.acknowledge(user, alarm_id, note, allow=is_room_staff)


def resolve_room_alarm(user, alarm_id: int, closing_code: str, note: str = ""):
    from carenet.facilities.rooms import is_room_staff
    from carenet.monitoring import services as monitoring_services

    require(user, "facilities.console")
    return monitoring_services.resolve(user, alarm_id, closing_code, note, allow=is_room_staff)


# ------------------------------------------------------------------ staff records

STAFF_FIELDS = ("name", "role", "certificates", "training_hours", "user", "active")


@transaction.atomic
def update_staff(actor, staff_id: int, **fields) -> m.Staff:
    """Edit a staff record (post, certificates, training hours, login account `user`, in post or left)."""
    user = actor
    s = m.Staff.objects.select_for_update().select_related("facility__division").get(pk=staff_id)
    require(user, "facilities.staff")
    require_in_area(user, s.facility.division)
    unknown = set(fields) - set(STAFF_FIELDS)
    if unknown:
        raise FacilityError(_("Unknown field."))
    if "role" in fields and fields["role"] not in m.Staff.Role.values:
        raise FacilityError(_("Unknown post."))
    if "training_hours" in fields and not 0 <= int(fields["training_hours"]) <= 2000:
        raise FacilityError(_("Enter a name, a post and training hours (0 to 2000)."))
    if "name" in fields and not str(fields["name"]).strip():
        raise FacilityError(_("Enter a name, a post and training hours (0 to 2000)."))
    account = fields.get("user")
    if account is not None:
        if account.division_id is None:
            raise FacilityError(_("This login account has no area."))
        require_in_area(user, account.division)
    before = audit.snapshot(s)
    for k, v in fields.items():
        setattr(s, k, v)
    s.save()
    after = audit.snapshot(s)
    b, a = audit.diff(before, after)
    if a:
        audit.record(AuditLog.Action.UPDATE, s, actor=user, before=b, after=a, division_path=s.facility.division.path,
                     note="facilities.staff")
    return s


# ------------------------------------------------------------------ complaints (intake → routing → answer → closed)

COMPLAINT_ANSWER_DAYS = 15   # working days from routing to the answer
COMPLAINT_LOOP = {"received": {"routed", "closed"}, "routed": {"routed", "replied"}, "replied": {"closed", "routed"},
                  "closed": set()}


def street_of(facility: m.Facility) -> Division:
    """The street / township office that handles a facility's matters by default."""
    codes = facility.division.path.split("/")
    return Division.objects.get(code=codes[1]) if len(codes) > 1 else facility.division


def _complaint_step(user, c: m.Complaint, target: str, note: str) -> None:
    if target not in COMPLAINT_LOOP[c.status]:
        raise FacilityError(_("This step is not possible now."))
    m.ComplaintStep.objects.create(complaint=c, actor=user, from_status=c.status, to_status=target, note=note[:300])
    before = c.status
    c.status = target
    c.save()
    audit.record(AuditLog.Action.UPDATE, c, actor=user, before={"status": before}, after={"status": target, "note": note},
                 division_path=c.facility.division.path, note="facilities.complaint")


def _locked_complaint(pk) -> m.Complaint:
    return m.Complaint.objects.select_for_update(of=("self",)).select_related("facility__division", "routed_to").get(pk=pk)


@transaction.atomic
def take_complaint(user, facility: m.Facility, *, summary: str, category: str = "other", channel: str = "phone",
                   complainant: str = "", phone: str = "", received_on: dt.date | None = None) -> m.Complaint:
    require(user, "facilities.complaints")
    require_in_area(user, facility.division)
    summary = (summary or "").strip()
    if not summary:
        raise FacilityError(_("Describe the complaint."))
    if category not in m.Complaint.Category.values or channel not in m.Complaint.Channel.values:
        raise FacilityError(_("Choose the channel and the category."))
    received_on = received_on or today()
    if received_on > today():
        raise FacilityError(_("The date received cannot be in the future."))
    c = m.Complaint.objects.create(facility=facility, summary=summary[:300], category=category, channel=channel,
                                   complainant=complainant.strip()[:50], phone=phone.strip()[:20],
                                   received_on=received_on, created_by=user)
    m.ComplaintStep.objects.create(complaint=c, actor=user, to_status=c.status, note=summary[:300])
    audit.record(AuditLog.Action.CREATE, c, actor=user, after={"facility": facility.pk, "category": category,
                                                               "channel": channel},
                 division_path=facility.division.path, note="facilities.complaint")
    return c


@transaction.atomic
def route_complaint(user, complaint_id: int, to: Division, handler: str = "", on: dt.date | None = None) -> m.Complaint:
    """Route (or re-route) a complaint to the office that handles it, inside the user's area; the answer is due
    COMPLAINT_ANSWER_DAYS working days later."""
    c = _locked_complaint(complaint_id)
    require(user, "facilities.complaints_handle")
    require_in_area(user, c.facility.division)
    require_in_area(user, to)
    c.routed_to, c.handler = to, handler.strip()[:50]
    c.due = einsp.add_working_days(on or today(), COMPLAINT_ANSWER_DAYS)
    _complaint_step(user, c, m.Complaint.Status.ROUTED,
                    _("routed to %(to)s %(who)s, answer due %(due)s") % {"to": to.name, "who": c.handler, "due": c.due})
    return c


def _handling_area(c: m.Complaint) -> Division:
    return c.routed_to or c.facility.division


@transaction.atomic
def answer_complaint(user, complaint_id: int, reply: str) -> m.Complaint:
    c = _locked_complaint(complaint_id)
    require(user, "facilities.complaints_handle")
    require_in_area(user, _handling_area(c))
    if not (reply or "").strip():
        raise FacilityError(_("Write the answer given to the complainant."))
    c.reply = reply.strip()
    _complaint_step(user, c, m.Complaint.Status.REPLIED, reply)
    return c


@transaction.atomic
def close_complaint(user, complaint_id: int, note: str) -> m.Complaint:
    """Close an answered complaint, or one received that is no complaint (duplicate, out of scope) with a reason."""
    c = _locked_complaint(complaint_id)
    require(user, "facilities.complaints_handle")
    require_in_area(user, _handling_area(c))
    if not (note or "").strip():
        raise FacilityError(_("Give a reason for closing."))
    c.closed_at = timezone.now()
    _complaint_step(user, c, m.Complaint.Status.CLOSED, note)
    return c


def complaint_overdue(c: m.Complaint, on: dt.date | None = None) -> bool:
    return c.status == m.Complaint.Status.ROUTED and c.due is not None and c.due < (on or today())
