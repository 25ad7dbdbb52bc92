"""Reads of social-assistance data. Every query starts from `Model.objects.visible_to(user)`."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from carenet.assistance import models as m
from carenet.assistance import adapter, services, workflow
from carenet.assistance.engine import payroll as epay
from carenet.assistance.engine import workflow as ewf
from carenet.core.models import Division
from carenet.people.models import Resident


def _cases(user) -> QuerySet[m.Case]:
    return m.Case.objects.visible_to(user).select_related("applicant", "division__parent")


def get_case(user, pk) -> m.Case:
    """The case, or 404 when it does not exist or lies outside the user's area (no existence leak)."""
    try:
        return _cases(user).get(pk=pk)
    except (m.Case.DoesNotExist, ValueError):
        raise Http404("case not found") from None


def search_cases(user, *, q="", state="", program="", channel="", overdue=False, division="", recheck_due=False):
    qs = _cases(user)
    if q:
        qs = qs.filter(Q(applicant__name__contains=q) | Q(applicant__id_masked__endswith=q[-4:]))
    if state:
        qs = qs.filter(state=state)
    if program:
        qs = qs.filter(program=program)
    if channel:
        qs = qs.filter(channel=channel)
    if division:
        qs = qs.filter(division__path__contains=division)
    if overdue:
        qs = qs.filter(due_on__lt=services.today())
    if recheck_due:
        qs = qs.filter(state=m.State.PAYING, next_recheck_on__lte=services.today())
    return qs.order_by("-id")


def residents_for_report(user, q: str) -> QuerySet[Resident]:
    qs = Resident.objects.visible_to(user).filter(deceased_on__isnull=True).select_related("division")
    q = (q or "").strip()
    if not q:
        return qs.none()
    if q.isdigit() or q[-1:] in "xX":
        return qs.filter(id_masked__endswith=q[-4:])[:10]
    return qs.filter(name__contains=q)[:10]


LEVELS = {0: ("on_time", "success"), 1: ("due_soon", "warning"), 2: ("overdue", "danger"), 3: ("escalated", "dark")}


class DeadlineInfo:
    def __init__(self, step, due, remaining, level, provisional):
        self.step, self.due, self.remaining, self.level, self.provisional = step, due, remaining, level, provisional
        self.code, self.css = LEVELS[level]


def deadline_info(case: m.Case, today: dt.date | None = None, _rules_cache: dict | None = None) -> DeadlineInfo | None:
    """Due-date status from the stored due date: level 0 on time, 1 due soon, 2 overdue, 3 escalated."""
    if not case.due_on:
        return None
    today = today or services.today()
    cache = _rules_cache if _rules_cache is not None else {}
    rules = cache.get(case.division_id)
    if rules is None:
        rules = cache[case.division_id] = adapter.rules_for(case.division)
    path = adapter.path_codes(case.division)
    warn = int(rules.value("deadline_warning_days", case.program, path, today, default=2))
    esc = int(rules.value("deadline_escalation_days", case.program, path, today, default=3))
    remaining = adapter.CALENDAR.working_days_between(today, case.due_on)
    if today > case.due_on:
        level = 3 if -remaining >= esc else 2
    elif remaining <= warn:
        level = 1
    else:
        level = 0
    return DeadlineInfo(case.due_step, case.due_on, remaining, level, case.due_provisional)


def allowed_actions(user, case: m.Case) -> list[str]:
    """Buttons to offer: actions possible from the state for which the user has an engine role."""
    actor = adapter.actor_for(user)
    snapshot = adapter.snapshot_of(case)
    out = []
    delegated = None
    for action in ewf.allowed_actions(snapshot):
        roles = set(ewf.ACTIONS[action].roles)
        if ewf.DECISION in roles:
            roles.add(ewf.APPROVER)
            if delegated is None:
                delegated = case.township_may_approve or bool(adapter.rules_for(case.division).value(
                    "approval_delegated_to_township", case.program, adapter.path_codes(case.division),
                    services.today(), default=False))
            if delegated:
                roles.add(ewf.TOWNSHIP_APPROVER)
        if action in ("start_payment", "finding_recheck"):
            continue  # done by the payroll job / by a confirmed integrity finding (matching)
        if roles & actor.roles and _separated(snapshot, action, actor):
            out.append(action)
    if (workflow.first_aid_possible(case) and actor.roles & {ewf.REVIEWER, ewf.TOWNSHIP_APPROVER, ewf.APPROVER}
            and _separated(snapshot, "first_aid", actor)):
        out.insert(0, "first_aid")
    return out


def _separated(snapshot, action: str, actor) -> bool:
    """No button for an action the separation-of-duties rule would refuse (review after deciding, and back)."""
    try:
        ewf.check_separation(snapshot, action, actor)
    except ewf.SeparationOfDutiesError:
        return False
    return True


# ------------------------------------------------------------------ payments

def runs(user) -> QuerySet[m.PayrollRun]:
    return m.PayrollRun.objects.visible_to(user).select_related("area", "started_by")


def get_run(user, pk) -> m.PayrollRun:
    try:
        return runs(user).get(pk=pk)
    except (m.PayrollRun.DoesNotExist, ValueError):
        raise Http404("payroll run not found") from None


def figures(user, month: dt.date) -> dict:
    """By program group and township: households and persons paid in ``month`` and the cumulative amount
    paid up to ``month`` (net of recoveries), formatted like the reports via the engine's Summary."""
    month = epay.month_of(month)
    lines = m.LedgerLine.objects.visible_to(user).filter(run_month__lte=month)
    groups = epay.DEFAULT_PROGRAM_GROUPS
    amount = defaultdict(lambda: epay.ZERO)
    for prog, tid, total in lines.values_list("program", "township_id").annotate(s=Sum("amount")).order_by():
        amount[(groups.get(prog, prog), tid)] += total
    # recurring programs: who was paid in the month; one-off programs: everyone helped up to the month
    current = defaultdict(dict)
    paid = lines.filter(amount__gt=0).filter(Q(run_month=month) | Q(program__in=m.ONE_OFF_PROGRAMS))
    for prog, tid, ben, persons in paid.values_list("program", "township_id", "beneficiary_id", "persons"):
        key = (groups.get(prog, prog), tid)
        current[key][ben] = max(persons, current[key].get(ben, 0))
    names = dict(Division.objects.filter(pk__in={k[1] for k in amount}).values_list("pk", "name"))
    rows = []
    totals = defaultdict(lambda: [set(), 0, epay.ZERO])
    for key in sorted(amount, key=lambda k: (k[0], names.get(k[1], ""))):
        bens = current.get(key, {})
        s = epay.Summary(key[0], str(key[1]), len(bens), sum(bens.values()), epay.yuan(amount[key]))
        rows.append({"township": names.get(key[1], ""), "summary": s, "text": s.zh(), "program": key[0]})
        t = totals[key[0]]
        t[0] |= {(key[1], b) for b in bens}
        t[1] += sum(bens.values())
        t[2] += amount[key]
    overall = [epay.Summary(p, None, len(t[0]), t[1], epay.yuan(t[2])) for p, t in sorted(totals.items())]
    return {"rows": rows, "overall": [{"summary": s, "text": s.zh()} for s in overall]}


def adjustments(user, month: dt.date) -> list[epay.Adjustment]:
    """动态调整 in ``month``: households/persons added and stopped (engine dynamic_adjustments on the few
    entitlements that start or stop that month)."""
    month = epay.month_of(month)

    qs = m.Entitlement.objects.visible_to(user).filter(Q(start_month=month) | Q(stop_month=month)) \
        .exclude(program__in=m.ONE_OFF_PROGRAMS)  # one-off grants are not households added to or leaving a program
    ents, _ = adapter.load_engine_entitlements(qs)
    rows = epay.dynamic_adjustments(ents, month, by_township=True)
    names = dict(Division.objects.filter(pk__in={int(a.township_code) for a in rows}).values_list("pk", "name"))
    return [{"adj": a, "township": names.get(int(a.township_code), ""), "text": a.zh()} for a in rows]


def counts_by_state(user) -> dict:
    return dict(_cases(user).values_list("state").annotate(n=Count("id")).order_by())
