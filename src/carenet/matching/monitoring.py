"""Dynamic monitoring (动态监测): households at risk of falling into poverty, from the department loads.

After a load of deaths, hospital bills, school enrolment, disaster losses or unemployment registration, the
households of the linked people are scored (engine/risk.py, dated rules, reasons in Chinese). A score at or above
the threshold raises a RiskAlert for the worker of the household's community, with a deadline; the to-do list
shows it (matching/todo.py), overdue alerts escalate to the township. Follow-up: a visit, then admitted (an
intake opened through assistance.services), other help (a referral) or no need (with a reason). Audited, scoped.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.assistance import models as am
from carenet.assistance import services as assistance
from carenet.core import audit
from carenet.core.models import AuditLog, Division, User
from carenet.core.permissions import require, require_in_area
from carenet.core.roles import Role
from carenet.matching import models as m
from carenet.matching.engine import risk
from carenet.matching.errors import MatchingError
from carenet.people.models import Resident

OPEN = (m.RiskAlert.Status.OPEN, m.RiskAlert.Status.VISITED)
LOW_INCOME_PROGRAMS = (am.Program.DIBAO_URBAN, am.Program.DIBAO_RURAL, am.Program.MARGINAL, am.Program.TEKUN)
FEED_KINDS = (m.Kind.DEATHS, m.Kind.MEDICAL, m.Kind.SCHOOL, m.Kind.DISASTER, m.Kind.UNEMPLOYMENT)


def today() -> dt.date:
    return timezone.localdate()


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _in_window(value: str | None, since: dt.date) -> bool:
    """A record without a date counts (the department sends the last 12 months)."""
    if not value:
        return True
    try:
        return dt.date.fromisoformat(value[:10]) >= since
    except ValueError:
        return True


def household_facts(members: list[Resident], day: dt.date) -> risk.HouseholdFacts:
    """What the loaded department data say about these people (one household) over the last 12 months."""
    since = day - dt.timedelta(days=365)
    ids = [r.pk for r in members]
    f = risk.HouseholdFacts()
    by_pk = {r.pk: r for r in members}
    recs = m.DeptRecord.objects.filter(resident_id__in=ids, kind__in=FEED_KINDS).order_by("load_id", "row_no")
    seen: set[tuple] = set()
    for rec in recs:
        d, who = rec.data, by_pk[rec.resident_id]
        key = (rec.kind, rec.resident_id, tuple(sorted(d.items())))
        if key in seen:  # the same row again in a later monthly snapshot
            continue
        seen.add(key)
        if rec.kind == m.Kind.MEDICAL and _in_window(d.get("bill_date"), since):
            f.medical_out_of_pocket += Decimal(d.get("out_of_pocket") or "0")
        elif rec.kind == m.Kind.DISASTER and _in_window(d.get("disaster_date"), since):
            f.disaster_loss += Decimal(d.get("loss") or "0")
            f.disaster_kind = f.disaster_kind or d.get("disaster_kind", "")
        elif rec.kind == m.Kind.SCHOOL and risk.is_higher_education(d.get("level", "")):
            f.higher_education.append(f"{who.name}：{d.get('school') or ''}{d.get('level')}")
        elif rec.kind == m.Kind.DEATHS and d.get("death_date", "")[:4] == str(day.year):
            died = dt.date.fromisoformat(d["death_date"])
            if who.relation == Resident.Relation.HEAD or 18 <= _age(who.birth_date, died) < 60:
                f.earner_deaths.append(f"{who.name}（{died.isoformat()}）")
        elif rec.kind == m.Kind.UNEMPLOYMENT and _in_window(d.get("registered_on"), since) \
                and 16 <= _age(who.birth_date, day) < 60:
            f.unemployed.append(f"{who.name}（{d.get('registered_on')}登记）")
    f.higher_education = sorted(set(f.higher_education))
    f.earner_deaths, f.unemployed = sorted(set(f.earner_deaths)), sorted(set(f.unemployed))
    running = am.Entitlement.objects.filter(Q(payee_id__in=ids) | Q(case__household_id__in={r.household_id for r in members if r.household_id})) \
        .filter(Q(stop_month__isnull=True) | Q(stop_month__gt=day.replace(day=1)))
    programs = set(running.values_list("program", flat=True))
    f.marginal = am.Program.MARGINAL in programs
    f.low_income = bool(programs & set(LOW_INCOME_PROGRAMS))
    return f


def _subject(members: list[Resident], dead: set[int]) -> Resident:
    alive = [r for r in members if r.pk not in dead and r.deceased_on is None] or members
    heads = [r for r in alive if r.relation == Resident.Relation.HEAD]
    return (heads or sorted(alive, key=lambda r: r.birth_date))[0]


def worker_for(division: Division) -> User | None:
    """The community / grid worker of the area: the nearest one on the division's path."""
    codes = division.path.split("/")
    workers = list(User.objects.filter(role=Role.WORKER, is_active=True, division__code__in=codes)
                   .select_related("division"))
    workers.sort(key=lambda u: (-len(u.division.path), u.pk))
    return workers[0] if workers else None


def score_after_load(load: m.Load) -> list[m.RiskAlert]:
    """Score the households of the people this load linked to; raise or refresh their alerts."""
    ids = set(load.records.filter(resident__isnull=False).values_list("resident_id", flat=True))
    return score_people(ids, source=f"{load.source.name} 第{load.version}版")


def score_people(resident_ids, *, source: str = "", day: dt.date | None = None) -> list[m.RiskAlert]:
    day = day or today()
    rules = risk.rules_on(day)
    people = list(Resident.objects.filter(pk__in=resident_ids).select_related("division"))
    groups: dict[object, list[Resident]] = {}
    households = {r.household_id for r in people if r.household_id}
    for r in Resident.objects.filter(household_id__in=households).select_related("division"):
        groups.setdefault(("h", r.household_id), []).append(r)
    for r in people:
        if not r.household_id:
            groups[("r", r.pk)] = [r]
    dead = set(m.DeptRecord.objects.filter(kind=m.Kind.DEATHS, resident_id__in=[p.pk for g in groups.values() for p in g])
               .values_list("resident_id", flat=True))
    out = []
    for members in groups.values():
        s = risk.score(household_facts(members, day), rules)
        alert = _upsert(members, s, _subject(members, dead), rules, day, source)
        if alert:
            out.append(alert)
    return out


@transaction.atomic
def _upsert(members: list[Resident], s: risk.Score, subject: Resident, rules: risk.RiskRules, day: dt.date,
            source: str) -> m.RiskAlert | None:
    hh = subject.household_id
    qs = m.RiskAlert.objects.select_for_update().filter(household_id=hh) if hh else \
        m.RiskAlert.objects.select_for_update().filter(resident=subject, household__isnull=True)
    reasons = [{"signal": r.signal, "weight": r.weight, "text": r.text} for r in s.reasons]
    current = qs.filter(status__in=OPEN).first()
    if current is not None:
        if current.score != s.score or current.signals != s.signals:
            before = {"score": current.score, "signals": current.signals}
            current.score, current.signals, current.reasons = s.score, s.signals, reasons
            current.save(update_fields=["score", "signals", "reasons"])
            audit.record(AuditLog.Action.UPDATE, current, actor=None, division_path=current.division.path,
                         before=before, after={"score": s.score, "signals": s.signals}, note=f"matching.risk rescored {source}"[:300])
        return current
    if not s.alert:
        return None
    # closed in the last year for the same signals (e.g. visited, no need): not asked again
    year_ago = timezone.now() - dt.timedelta(days=365)
    for closed in qs.filter(created__gte=year_ago).exclude(status__in=OPEN):
        if set(s.signals) <= set(closed.signals):
            return None
    alert = m.RiskAlert.objects.create(
        resident=subject, household_id=hh, division=subject.division, score=s.score, signals=s.signals,
        reasons=reasons, rules_from=s.rules_from, deadline=day + dt.timedelta(days=rules.deadline_days),
        assigned_to=worker_for(subject.division))
    audit.record(AuditLog.Action.CREATE, alert, actor=None, division_path=alert.division.path,
                 after={"score": s.score, "signals": s.signals, "source": source}, note="matching.risk alert")
    return alert


# ------------------------------------------------------------------ follow-up

def _open(user, alert: m.RiskAlert) -> m.RiskAlert:
    require(user, "matching.monitor")
    require_in_area(user, alert.division)
    locked = m.RiskAlert.objects.select_for_update().get(pk=alert.pk)
    if not locked.is_open:
        raise MatchingError(_("This alert has already been closed."))
    return locked


def _save(user, a: m.RiskAlert, before: dict, note: str, close: bool = False) -> m.RiskAlert:
    if close:
        a.closed_by, a.closed_at = user, timezone.now()
    a.save()
    audit.record(AuditLog.Action.UPDATE, a, actor=user, before=before, after=audit.snapshot(a), note=note)
    return a


def record_visit(user, alert: m.RiskAlert, *, visited_on: dt.date, notes: str) -> m.RiskAlert:
    if not notes.strip():
        raise MatchingError(_("Write what the visit found."))
    if visited_on > today():
        raise MatchingError(_("The visit date cannot be in the future."))
    with transaction.atomic():
        a = _open(user, alert)
        before = audit.snapshot(a)
        a.status, a.visited_on, a.visit_notes = m.RiskAlert.Status.VISITED, visited_on, notes.strip()
        return _save(user, a, before, "matching.risk visit")


def admit(user, alert: m.RiskAlert, *, program: str, reason: str = "") -> m.RiskAlert:
    """Admitted to a program: an intake is opened through assistance's services (channel: grid worker)."""
    with transaction.atomic():
        a = _open(user, alert)
        labels = "；".join(r["text"] for r in a.reasons)
        try:
            case = assistance.intake(user, program=program, applicant=a.resident, channel=am.Channel.GRID,
                                     reason=(reason.strip() or f"动态监测：{labels}")[:200])
        except assistance.AssistanceError as exc:
            raise MatchingError(str(exc)) from None
        before = audit.snapshot(a)
        a.status, a.case, a.outcome_note = m.RiskAlert.Status.ADMITTED, case, reason.strip() or labels
        return _save(user, a, before, "matching.risk admitted", close=True)


def refer(user, alert: m.RiskAlert, *, department: str, need: str) -> m.RiskAlert:
    """Other help: a referral to a department through assistance's services."""
    if not department.strip() or not need.strip():
        raise MatchingError(_("Give the department and the need."))
    with transaction.atomic():
        a = _open(user, alert)
        ref = assistance.refer(user, resident=a.resident, department=department.strip(), need=need.strip())
        before = audit.snapshot(a)
        a.status, a.referral, a.outcome_note = m.RiskAlert.Status.REFERRED, ref, f"{department.strip()}：{need.strip()}"
        return _save(user, a, before, "matching.risk referred", close=True)


def no_need(user, alert: m.RiskAlert, *, reason: str) -> m.RiskAlert:
    if not reason.strip():
        raise MatchingError(_("A reason is required."))
    with transaction.atomic():
        a = _open(user, alert)
        before = audit.snapshot(a)
        a.status, a.outcome_note = m.RiskAlert.Status.NO_NEED, reason.strip()
        return _save(user, a, before, "matching.risk no need", close=True)


def overdue(alert: m.RiskAlert, day: dt.date | None = None) -> bool:
    return alert.is_open and alert.deadline < (day or today())


def escalate_overdue(day: dt.date | None = None) -> int:
    """Alerts still open escalate_after_days after their deadline: marked escalated (the township's to-do list
    shows them) and audited. Run daily (manage.py matching_escalate) and after each load."""
    day = day or today()
    n = 0
    for rules in (risk.rules_on(day),):
        cutoff = day - dt.timedelta(days=rules.escalate_after_days)
        for a in m.RiskAlert.objects.filter(status__in=OPEN, escalated_at__isnull=True, deadline__lt=cutoff):
            with transaction.atomic():
                m.RiskAlert.objects.filter(pk=a.pk).update(escalated_at=timezone.now())
                audit.record(AuditLog.Action.UPDATE, a, actor=None, division_path=a.division.path,
                             after={"escalated": True, "deadline": a.deadline.isoformat()}, note="matching.risk escalated")
            n += 1
    return n


# ------------------------------------------------------------------ figures

def figures(user) -> tuple[list[str], list[dict]]:
    """Alerts by street (township) and signal, within the user's area: (signals, rows)."""
    signals = list(risk.SIGNAL_LABELS_ZH)
    counts: dict[str, dict] = defaultdict(lambda: {s: 0 for s in signals} | {"total": 0, "open": 0, "overdue": 0})
    names = {d.code: d.name for d in Division.objects.filter(level=Division.Level.STREET)}
    for a in m.RiskAlert.objects.visible_to(user).select_related("division"):
        street = next((names[c] for c in a.division.path.split("/") if c in names), a.division.name)
        row = counts[street]
        row["total"] += 1
        row["open"] += a.is_open
        row["overdue"] += overdue(a)
        for s in a.signals:
            row[s] = row.get(s, 0) + 1
    return signals, [{"street": k, **v} for k, v in sorted(counts.items())]
