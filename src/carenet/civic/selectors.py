"""Reads of civic data. Every query starts from `Model.objects.visible_to(user)` (core.scoping)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.http import Http404

from carenet.civic import models as m
from carenet.civic import services
from carenet.civic.engine import deadlines, duplicates, masking, seven, service
from carenet.core.models import Division
from carenet.core.roles import Role


def department_of(user) -> m.Department | None:
    """The department a department login works for (None for every other user)."""
    if getattr(user, "role", None) != Role.DEPARTMENT or user.is_superuser:
        return None
    member = m.DepartmentMember.objects.filter(user=user).select_related("department").first()
    return member.department if member else None


def _narrow_department(user, qs):
    """A department login sees only the requests routed to its department (none without a department)."""
    if getattr(user, "role", None) != Role.DEPARTMENT or user.is_superuser:
        return qs
    dept = department_of(user)
    return qs.filter(department=dept) if dept else qs.none()


def requests_visible_to(user) -> QuerySet[m.ServiceRequest]:
    return _narrow_department(user, m.ServiceRequest.objects.visible_to(user)).select_related(
        "item", "applicant", "division__parent", "department")


def departments_visible_to(user) -> QuerySet[m.Department]:
    """Departments of the user's district: those on the path above the user's area and inside it."""
    from carenet.core.scoping import user_subtree_q

    codes = user.division.path.split("/") if getattr(user, "division_id", None) else []
    q = user_subtree_q(user, "division__path")
    if codes:
        q |= Q(division__code__in=codes)
    return m.Department.objects.filter(q).select_related("division")


def get_request(user, pk) -> m.ServiceRequest:
    try:
        return requests_visible_to(user).get(pk=pk)
    except (m.ServiceRequest.DoesNotExist, ValueError):
        raise Http404("request not found") from None


def search_requests(user, *, q="", state="", item="", queue="", category=""):
    qs = requests_visible_to(user)
    today = services.today()
    if q:
        qs = qs.filter(Q(applicant__name__contains=q) | Q(contact_name__contains=q) | Q(item__name__contains=q))
    if state:
        qs = qs.filter(state=state)
    if item:
        qs = qs.filter(item__code=item)
    if category:
        qs = qs.filter(item__category=category)
    if queue == "open":
        qs = qs.filter(state__in=service.OPEN)
    elif queue == "due_soon":
        soon = services.CALENDAR.add_working_days(today, services.WARN_DAYS)
        qs = qs.filter(state__in=service.OPEN, due_on__gte=today, due_on__lte=soon)
    elif queue == "overdue":
        qs = qs.filter(state__in=service.OPEN, due_on__lt=today)
    elif queue == "escalated":
        qs = qs.filter(state__in=service.OPEN, escalated=True)
    elif queue == "new":
        qs = qs.filter(state=service.SUBMITTED)
    return qs.order_by("due_on" if queue in ("due_soon", "overdue", "escalated") else "-id")


def queue_counts(user) -> dict:
    today = services.today()
    soon = services.CALENDAR.add_working_days(today, services.WARN_DAYS)
    qs = _narrow_department(user, m.ServiceRequest.objects.visible_to(user)).filter(state__in=service.OPEN)
    return qs.aggregate(
        open=Count("id"), new=Count("id", filter=Q(state=service.SUBMITTED)),
        due_soon=Count("id", filter=Q(due_on__gte=today, due_on__lte=soon)),
        overdue=Count("id", filter=Q(due_on__lt=today)), escalated=Count("id", filter=Q(escalated=True)))


def level_css(level: int | None) -> str:
    return {None: "secondary", 0: "success", 1: "warning", 2: "danger", 3: "dark"}[level]


def community_visible_to(user) -> QuerySet[m.CommunityRequest]:
    qs = m.CommunityRequest.objects.visible_to(user).select_related("division__parent")
    return qs.none() if getattr(user, "role", None) == Role.DEPARTMENT and not user.is_superuser else qs


def get_community(user, pk) -> m.CommunityRequest:
    try:
        return community_visible_to(user).get(pk=pk)
    except (m.CommunityRequest.DoesNotExist, ValueError):
        raise Http404("request not found") from None


def duplicate_suggestions(user, req: m.CommunityRequest, *, radius_m=300, window_days=14):
    """Open requests of the same type nearby in space and time, in the user's area (for 筛单)."""
    lo, hi = req.created - dt.timedelta(days=window_days), req.created + dt.timedelta(days=window_days)
    others = community_visible_to(user).filter(category=req.category, created__range=(lo, hi)).exclude(
        pk=req.pk).exclude(state__in=seven.TERMINAL - {seven.CLOSED})
    by_id = {str(o.pk): o for o in others}

    def rep(o):
        return duplicates.Report(str(o.pk), o.category, o.lat, o.lon, o.created, o.division.code)

    found = duplicates.suggest(rep(req), [rep(o) for o in by_id.values()], radius_m=radius_m,
                               window_days=window_days)
    return [(by_id[s.id], s) for s in found]


# ------------------------------------------------------------------ public 晒单 page

PUBLIC_STATES = (seven.PUBLISHED, seven.DELIVERING, seven.COMPLETED, seven.CLOSED)


def public_requests(division_code: str = ""):
    """What anyone may see: published plans and results, with personal data masked."""
    qs = m.CommunityRequest.objects.filter(state__in=PUBLIC_STATES).select_related("division", "division__parent")
    if division_code:
        qs = qs.filter(Q(division__code=division_code) | Q(division__path__startswith=division_code + "/")
                       | Q(division__path__contains="/" + division_code + "/"))
    return qs.order_by("-published_at", "-id")


def public_view(req: m.CommunityRequest) -> dict:
    names = tuple(n for n in (req.reporter_name,) if n)
    mask = lambda t: masking.mask_text(t, names)  # noqa: E731
    progress = [{"at": e.at, "action": e.action, "note": mask(str(e.data.get("note") or e.data.get("result")))}
                for e in req.events.filter(public=True) if e.data.get("note") or e.data.get("result")]
    return {"obj": req, "number": req.number, "title": mask(req.title), "description": mask(req.description),
            "reporter": masking.mask_name(req.reporter_name), "plan": mask(req.plan), "cost": req.cost,
            "owner": req.owner, "answer": mask(req.answer), "result": mask(req.result), "progress": progress,
            "vote": req.council_votes.order_by("-at").first(), "community": req.division.name,
            "step": req.step, "state_label": req.get_state_display()}


# ------------------------------------------------------------------ figures and the 民情账本 ledger

def community_code(path: str) -> str:
    """The community (third level) a division path lies in; grids are counted in their community."""
    parts = path.split("/")
    return parts[2] if len(parts) >= 3 else parts[-1]


def _by_community(reqs) -> list[dict]:
    names = dict(Division.objects.filter(level=Division.Level.COMMUNITY).values_list("code", "name"))
    rows: dict[str, dict] = {}
    for r in reqs.values("division__path", "division__name").annotate(n=Count("id"), s=Sum("score"),
                                                                       k=Count("score")):
        code = community_code(r["division__path"])
        x = rows.setdefault(code, {"division__name": names.get(code, r["division__name"]), "n": 0, "s": 0, "k": 0})
        x["n"] += r["n"]
        x["s"] += r["s"] or 0
        x["k"] += r["k"]
    out = sorted(rows.values(), key=lambda x: -x["n"])
    for x in out:
        x["avg"] = x["s"] / x["k"] if x["k"] else None
    return out


def figures(user, start: dt.date, end: dt.date) -> dict:
    reqs = m.ServiceRequest.objects.visible_to(user).filter(created__date__gte=start, created__date__lte=end)
    by_item = list(reqs.values("item__code", "item__name").annotate(
        n=Count("id"), done=Count("id", filter=Q(state__in=[service.DONE, service.RATED])),
        avg=Avg("score")).order_by("-n")[:20])
    by_area = _by_community(reqs)
    by_state = {r["state"]: r["n"] for r in reqs.values("state").annotate(n=Count("id"))}
    decided = reqs.filter(decided_on__isnull=False, due_on__isnull=False).values_list("decided_on", "due_on")
    on_time, n_decided, share = deadlines.on_time_share(decided)
    scores = reqs.filter(score__isnull=False)
    satisfaction = scores.aggregate(avg=Avg("score"), n=Count("id"),
                                    satisfied=Count("id", filter=Q(score__gte=4)))
    comm = m.CommunityRequest.objects.visible_to(user).filter(created__date__gte=start, created__date__lte=end)
    by_step = defaultdict(int)
    for r in comm.values("state").annotate(n=Count("id")):
        by_step[seven.STEP_OF_STATE[r["state"]]] += r["n"]
    return {"by_item": by_item, "by_area": by_area, "by_state": by_state, "total": reqs.count(),
            "on_time": on_time, "decided": n_decided, "on_time_share": share,
            "on_time_pct": None if share is None else round(share * 100, 1), "satisfaction": satisfaction,
            "by_step": [(s, by_step.get(s, 0)) for s in seven.STEPS], "community_total": comm.count(),
            "wishes": m.Wish.objects.visible_to(user).filter(created__date__gte=start, created__date__lte=end
                                                             ).values("state").annotate(n=Count("id"))}


def ledger(user, start: dt.date, end: dt.date) -> list[dict]:
    """民情账本: per community, what residents asked for and what was solved (service items, 七单, 微心愿)."""
    rows: dict[str, dict] = {}
    names = dict(Division.objects.filter(level=Division.Level.COMMUNITY).values_list("code", "name"))

    def row(path, name):
        code = community_code(path)
        return rows.setdefault(code, {"community": names.get(code, name), "items": 0, "items_done": 0, "items_on_time": 0,
                                        "items_open": 0, "requests": 0, "requests_solved": 0, "requests_open": 0,
                                        "out_of_scope": 0, "wishes": 0, "wishes_done": 0, "score_sum": 0,
                                        "scores": 0})

    rng = {"created__date__gte": start, "created__date__lte": end}
    for r in (m.ServiceRequest.objects.visible_to(user).filter(**rng)
              .values("division__path", "division__name", "state", "decided_on", "due_on", "score")):
        x = row(r["division__path"], r["division__name"])
        x["items"] += 1
        if r["state"] in (service.DONE, service.RATED):
            x["items_done"] += 1
            if r["decided_on"] and r["due_on"] and r["decided_on"] <= r["due_on"]:
                x["items_on_time"] += 1
        elif r["state"] in service.OPEN:
            x["items_open"] += 1
        if r["score"]:
            x["score_sum"] += r["score"]
            x["scores"] += 1
    for r in m.CommunityRequest.objects.visible_to(user).filter(**rng).values("division__path", "division__name", "state"):
        x = row(r["division__path"], r["division__name"])
        x["requests"] += 1
        if r["state"] in (seven.COMPLETED, seven.CLOSED):
            x["requests_solved"] += 1
        elif r["state"] == seven.OUT_OF_SCOPE:
            x["out_of_scope"] += 1
        elif r["state"] not in seven.TERMINAL:
            x["requests_open"] += 1
    for r in m.Wish.objects.visible_to(user).filter(**rng).values("division__path", "division__name", "state"):
        x = row(r["division__path"], r["division__name"])
        x["wishes"] += 1
        x["wishes_done"] += r["state"] in ("delivered", "confirmed")
    out = sorted(rows.values(), key=lambda x: x["community"])
    for x in out:
        x["solved"] = x["items_done"] + x["requests_solved"] + x["wishes_done"]
        x["avg_score"] = round(x["score_sum"] / x["scores"], 2) if x["scores"] else None
    return out


def communities_visible_to(user) -> QuerySet[Division]:
    return Division.objects.visible_to(user).filter(level=Division.Level.COMMUNITY).order_by("path")
