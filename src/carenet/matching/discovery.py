"""Targeted discovery (精准识别): run a saved screen (engine/screens.py) over the households of an area, using the
disability registry (残联, with grade) and deaths loads joined to households, and the assistance entitlements.

Each run gives a list; each household on it is a visit task (Discovery) for the worker of its community, then a
per-household plan (一户一策 / 一人一议) with its measures (PlanStep), each followed up to done. Audited, scoped.
"""
from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.assistance import models as am
from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.matching import models as m
from carenet.matching.engine import screens as es
from carenet.matching.errors import MatchingError
from carenet.people.models import ElderProfile, Resident

VISIT_DAYS = 15
OPEN = (m.Discovery.Status.TO_VISIT, m.Discovery.Status.VISITED, m.Discovery.Status.PLANNED)
_GRADES = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def today() -> dt.date:
    return timezone.localdate()


def parse_grade(text: str) -> int | None:
    """一级 / 1级 / 1 / 二級 → 1..4; anything else None."""
    found = re.search(r"[一二三四1-4]", text or "")
    return _GRADES[found.group(0)] if found else None


def clean_params(code: str, raw: dict) -> dict:
    screen = es.SCREENS.get(code)
    if screen is None:
        raise MatchingError(_("Unknown screen."))
    out = {}
    for k, default in screen.defaults.items():
        v = raw.get(k, default)
        if isinstance(default, bool):
            out[k] = v in (True, "1", "on", "true", "yes")
            continue
        try:
            out[k] = int(v) if v not in ("", None) else default
        except (TypeError, ValueError):
            raise MatchingError(_("The parameter %(name)s must be a whole number.") % {"name": k}) from None
    if code == "earner_died_children" and not out["year"]:
        out["year"] = today().year
    if "max_grade" in out and not 1 <= out["max_grade"] <= 4:
        raise MatchingError(_("The disability grade is from 1 to 4."))
    return out


def _households(code: str, division: Division, params: dict) -> tuple[list[es.HouseholdData], dict[str, list[Resident]]]:
    """Households of the area that the screen can concern (those with a registry row), as engine data."""
    kind = m.Kind.DEATHS if code == "earner_died_children" else m.Kind.DISABILITY
    recs = m.DeptRecord.objects.filter(kind=kind, resident__division__path__startswith=division.path,
                                       resident__isnull=False).order_by("load_id")
    data_of: dict[int, dict] = {}
    for rid, data in recs.values_list("resident_id", "data"):
        data_of[rid] = data  # the latest load wins
    seeds = Resident.objects.filter(pk__in=list(data_of))
    hh_ids = {r.household_id for r in seeds if r.household_id}
    people = list(Resident.objects.filter(Q(household_id__in=hh_ids) | Q(pk__in=list(data_of), household__isnull=True))
                  .select_related("division"))
    grade_of: dict[int, tuple[int | None, str]] = {}
    died_of: dict[int, dt.date] = {}
    for rid, data in m.DeptRecord.objects.filter(resident_id__in=[p.pk for p in people],
                                                 kind__in=[m.Kind.DISABILITY, m.Kind.DEATHS]) \
            .order_by("load_id").values_list("resident_id", "data"):
        if "grade" in data:
            grade_of[rid] = (parse_grade(data.get("grade", "")), data.get("category", ""))
        if data.get("death_date"):
            died_of[rid] = dt.date.fromisoformat(data["death_date"][:10])
    running = am.Entitlement.objects.filter(Q(stop_month__isnull=True) | Q(stop_month__gt=today().replace(day=1)))
    assisted_people = set(running.filter(payee__in=people).values_list("payee_id", flat=True))
    assisted_households = set(running.filter(case__household_id__in=hh_ids).values_list("case__household_id", flat=True))
    alone = set(ElderProfile.objects.filter(resident__in=people, living=ElderProfile.Living.ALONE)
                .values_list("resident_id", flat=True))
    groups: dict[str, list[Resident]] = {}
    for p in people:
        groups.setdefault(f"h{p.household_id}" if p.household_id else f"r{p.pk}", []).append(p)
    out = []
    day = today()
    for key, members in groups.items():
        hh = members[0].household_id
        out.append(es.HouseholdData(
            key=key,
            members=[es.Member(p.name, p.age_on(day), grade_of.get(p.pk, (None, ""))[0], grade_of.get(p.pk, (None, ""))[1],
                               died_of.get(p.pk) or p.deceased_on, p.relation == Resident.Relation.HEAD) for p in members],
            assisted=bool((hh and hh in assisted_households) or any(p.pk in assisted_people for p in members)),
            living_alone_elder=any(p.pk in alone for p in members)))
    return out, groups


def run_screen(user, *, code: str, params: dict, division: Division) -> m.ScreenRun:
    """Run a screen over the area; households not already on an open list of this screen become visit tasks."""
    require(user, "matching.screen")
    require_in_area(user, division)
    params = clean_params(code, params)
    households, groups = _households(code, division, params)
    found = es.run(code, households, params)
    with transaction.atomic():
        run = m.ScreenRun.objects.create(screen=code, params=params, division=division, found=len(found), run_by=user)
        open_keys = set()
        for hh, rid in m.Discovery.objects.filter(screen=code, status__in=OPEN).values_list("household_id", "resident_id"):
            open_keys.add(f"h{hh}" if hh else f"r{rid}")
        new = []
        for key, evidence in found.items():
            if key in open_keys:
                continue
            members = groups[key]
            living = [p for p in members if p.deceased_on is None]
            subject = next((p for p in living if p.relation == Resident.Relation.HEAD), (living or members)[0])
            new.append(m.Discovery(run=run, screen=code, resident=subject, household_id=subject.household_id,
                                   division=subject.division, evidence=evidence,
                                   deadline=today() + dt.timedelta(days=VISIT_DAYS)))
        m.Discovery.objects.bulk_create(new)
        run.new = len(new)
        run.save(update_fields=["new"])
        audit.record(AuditLog.Action.CREATE, run, actor=user, division_path=division.path,
                     after={"screen": code, "params": params, "found": run.found, "new": run.new},
                     note="matching.screen run")
    return run


def _locked(user, item: m.Discovery) -> m.Discovery:
    require(user, "matching.monitor")
    require_in_area(user, item.division)
    locked = m.Discovery.objects.select_for_update().get(pk=item.pk)
    if locked.status not in OPEN:
        raise MatchingError(_("This household's follow-up is closed."))
    return locked


def _save(user, d: m.Discovery, before: dict, note: str) -> m.Discovery:
    d.save()
    audit.record(AuditLog.Action.UPDATE, d, actor=user, before=before, after=audit.snapshot(d), note=note)
    return d


def record_visit(user, item: m.Discovery, *, visited_on: dt.date, notes: str, no_need: bool = False) -> m.Discovery:
    if not notes.strip():
        raise MatchingError(_("Write what the visit found."))
    if visited_on > today():
        raise MatchingError(_("The visit date cannot be in the future."))
    with transaction.atomic():
        d = _locked(user, item)
        before = audit.snapshot(d)
        d.visited_on, d.visit_notes = visited_on, notes.strip()
        d.status = m.Discovery.Status.NO_NEED if no_need else m.Discovery.Status.VISITED
        return _save(user, d, before, "matching.discovery visit")


def set_plan(user, item: m.Discovery, *, plan: str) -> m.Discovery:
    """The plan agreed with the household (一户一策): the measures in words; each is then a step to follow up."""
    if not plan.strip():
        raise MatchingError(_("Write the plan agreed with the household."))
    with transaction.atomic():
        d = _locked(user, item)
        if d.visited_on is None:
            raise MatchingError(_("Record the visit before the plan."))
        before = audit.snapshot(d)
        d.plan, d.status = plan.strip(), m.Discovery.Status.PLANNED
        return _save(user, d, before, "matching.discovery plan")


def add_step(user, item: m.Discovery, *, measure: str, owner: str, due: dt.date) -> m.PlanStep:
    if not measure.strip() or not owner.strip():
        raise MatchingError(_("Give the measure and who is responsible."))
    with transaction.atomic():
        d = _locked(user, item)
        if d.status != m.Discovery.Status.PLANNED:
            raise MatchingError(_("Agree the plan before adding its measures."))
        step = m.PlanStep.objects.create(item=d, measure=measure.strip()[:200], owner=owner.strip()[:50], due=due,
                                         updated_by=user)
        audit.record(AuditLog.Action.CREATE, step, actor=user, division_path=d.division.path,
                     after=audit.snapshot(step), note="matching.discovery step")
    return step


def update_step(user, step: m.PlanStep, *, status: str, note: str = "") -> m.PlanStep:
    """Follow-up of one measure; when every measure is done, the household's plan is completed."""
    if status not in m.PlanStep.Status.values:
        raise MatchingError(_("Unknown status."))
    with transaction.atomic():
        d = _locked(user, step.item)
        s = m.PlanStep.objects.select_for_update().get(pk=step.pk)
        before = audit.snapshot(s)
        s.status, s.note, s.updated_by = status, note.strip()[:300] or s.note, user
        s.save()
        audit.record(AuditLog.Action.UPDATE, s, actor=user, division_path=d.division.path, before=before,
                     after=audit.snapshot(s), note="matching.discovery step update")
        steps = list(d.steps.values_list("status", flat=True))
        if steps and all(x == m.PlanStep.Status.DONE for x in steps):
            before = audit.snapshot(d)
            d.status = m.Discovery.Status.DONE
            _save(user, d, before, "matching.discovery plan done")
    return s
