"""Between assistance rows and the pure engine: rules, actors, case snapshots, households, assessments and
entitlements as the engine's plain data. Reads only; nothing here writes.

``now()`` and ``today()`` are the service clock of every assistance module (tests move it here).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.assistance import models as m
from carenet.assistance.engine import eligibility as elig
from carenet.assistance.engine import household as ehh
from carenet.assistance.engine import payroll as epay
from carenet.assistance.engine import rules as erules
from carenet.assistance.engine import workflow as ewf
from carenet.assistance.engine.workdays import WorkCalendar
from carenet.core.models import Division
from carenet.core.roles import Role
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


class AssistanceError(Exception):
    """A refusal with a message for the user (not from the workflow engine)."""

    code = "assistance.error"


def now() -> dt.datetime:
    """The service clock (tests may move it forward to let a notice period pass)."""
    return timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


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


def household_persons(applicant: Resident) -> list[Resident]:
    if applicant.household_id:
        members = list(Resident.objects.filter(household_id=applicant.household_id, deceased_on__isnull=True))
        if applicant not in members:
            members.append(applicant)
        return members
    return [applicant]


def declarations(person_ids) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for staff_id, res_id in m.NearRelativeDeclaration.objects.filter(resident_id__in=[int(p) for p in person_ids]) \
            .values_list("staff_id", "resident_id"):
        out.setdefault(str(staff_id), set()).add(str(res_id))
    return out


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
    for r in household_persons(applicant):
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


def store_outcome(case: m.Case, outcome: elig.Outcome, on_date: dt.date) -> None:
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


def township_of(division: Division) -> Division:
    for d in reversed(division.ancestors()):
        if d.level == Division.Level.STREET:
            return d
    return division


def load_engine_entitlements(qs) -> tuple[list[epay.Entitlement], dict[int, str]]:
    """Engine entitlements for a queryset, with their changes, in two queries."""
    changes: dict[int, list[epay.AmountChange]] = defaultdict(list)
    for eid, month, amount, persons, reason in m.EntitlementChange.objects.filter(entitlement__in=qs.values("pk")) \
            .values_list("entitlement_id", "effective_month", "monthly_amount", "persons", "reason"):
        changes[eid].append(epay.AmountChange(month, amount, persons, reason))
    township_codes: dict[int, str] = {}
    out = []
    for pk, ben, prog, tid, tcode, amount, persons, start, stop in qs.values_list(
            "pk", "beneficiary_id", "program", "township_id", "township__code", "monthly_amount", "persons",
            "start_month", "stop_month").order_by("pk"):
        township_codes[tid] = tcode
        out.append(epay.Entitlement(str(pk), ben, prog, str(tid), amount, persons, start, stop,
                                    tuple(changes.get(pk, ()))))
    return out, township_codes
