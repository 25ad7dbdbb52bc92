"""Reads for the supervision center and the big screen. Top layer: may read every domain app's selectors and
models; no domain app imports this module. Every query starts from the user's area."""
from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.utils import timezone

from carenet.core.models import Division
from carenet.core.scoping import user_subtree_q
from carenet.facilities import models as fm
from carenet.facilities import selectors as fsel


def _homecare_anomalies(user, facility=None, provider=None):
    """Home-care service anomalies once the home-care app exposes them (carenet.homecare.selectors.anomalies)."""
    try:
        from carenet.homecare import selectors as hsel  # noqa: PLC0415 (optional: the app may not be installed)
    except ImportError:
        return None
    fn = getattr(hsel, "anomalies_for_supervision", None)
    return fn(user, facility=facility, provider=provider) if fn else None


def alarm_stats(alarm_qs, since: dt.datetime) -> dict:
    """Counts and handling times (acknowledge, close) in minutes for alarms raised since `since`."""
    rows = list(alarm_qs.filter(raised_at__gte=since).values_list("raised_at", "acknowledged_at", "closed_at", "status"))
    ack = [(a - r).total_seconds() / 60 for r, a, _c, _s in rows if a]
    close = [(c - r).total_seconds() / 60 for r, _a, c, _s in rows if c]
    return {"count": len(rows), "open": sum(1 for *_x, s in rows if s in ("raised", "acknowledged", "dispatched")),
            "ack_median": round(statistics.median(ack), 1) if ack else None,
            "close_median": round(statistics.median(close), 1) if close else None}


def facility_panel(user, facility) -> dict:
    from carenet.monitoring.models import Alarm

    beds = fsel.bed_figures(facility)
    last = facility.evaluations.first()
    staff = facility.staff.filter(active=True)
    care_staff = staff.filter(role__in=["nurse", "caregiver"]).count()
    findings = fsel.findings_with_escalation(facility.findings.exclude(status="closed").select_related("inspection"))
    alarms = Alarm.objects.filter(elder_id__in=facility.rooms.values("elder_id"))
    since = timezone.now() - dt.timedelta(days=30)
    return {
        "beds": beds, "evaluation": last, "overdue": fsel.evaluation_overdue(last.evaluated_on if last else None),
        "staff": staff.count(), "care_staff": care_staff,
        "staffing_ratio": (round(beds.occupied / care_staff, 1) if care_staff else None),
        "findings": findings, "alarms": alarm_stats(alarms, since),
        "recent_alarms": alarms.select_related("elder__resident").order_by("-raised_at")[:10],
        "complaints": facility.complaints.order_by("-received_on")[:10],
        "open_complaints": facility.complaints.exclude(status="closed").count(),
        "homecare": _homecare_anomalies(user, facility=facility),
    }


def ranking(user, *, type_: str = "", division: str = "", status: str = "operating", order: str = "score"):
    """Facilities with score, occupancy, open findings, staffing and complaints, for the district ranking."""
    qs = fsel.with_figures(fsel.facilities_visible_to(user)).annotate(
        care_staff=fsel._count(fm.Staff, Q(active=True, role__in=["nurse", "caregiver"])),
        open_complaints=fsel._count(fm.Complaint, ~Q(status="closed")))
    if type_:
        qs = qs.filter(type=type_)
    if division:
        qs = qs.filter(Q(division__code=division) | Q(division__path__contains="/" + division + "/")
                       | Q(division__path__endswith="/" + division))
    if status:
        qs = qs.filter(status=status)
    rows = list(qs)
    latest = fsel.latest_evaluations(r.pk for r in rows)
    today = timezone.localdate()
    out = []
    for r in rows:
        ev = latest.get(r.pk)
        out.append({
            "facility": r, "score": ev.total if ev else None, "subsidy": ev.subsidy if ev else None,
            "evaluated_on": ev.evaluated_on if ev else None,
            "overdue": fsel.evaluation_overdue(ev.evaluated_on if ev else None, today),
            "occupancy": (r.occupied / r.beds) if r.beds else None, "occupied": r.occupied,
            "open_findings": r.open_findings, "staff": r.staff_count, "care_staff": r.care_staff,
            "ratio": round(r.occupied / r.care_staff, 1) if r.care_staff else None,
            "complaints": r.open_complaints,
        })
    key = {"score": lambda x: (x["score"] is None, -(x["score"] or 0)),
           "findings": lambda x: -x["open_findings"],
           "occupancy": lambda x: (x["occupancy"] is None, -(x["occupancy"] or 0))}.get(order)
    out.sort(key=key or (lambda x: x["facility"].name))
    return out


def homecare_anomaly_counts(user) -> dict[str, int] | None:
    """Open home-care anomalies per provider name, in the user's area (None without the home-care app)."""
    try:
        from carenet.homecare import selectors as hsel  # noqa: PLC0415 (optional app)
        from carenet.homecare.models import Anomaly  # noqa: PLC0415
    except ImportError:
        return None
    counts = dict(hsel.anomalies_visible_to(user).filter(status=Anomaly.Status.OPEN).order_by()
                  .values_list("order__provider__name").annotate(n=Count("pk")))
    for name in hsel.providers_visible_to(user).values_list("name", flat=True):
        counts.setdefault(name, 0)
    counts.pop(None, None)
    return counts


def providers(user):
    """Providers: the operators of facilities (average score, open findings, complaints) and the home-care
    providers (open service anomalies). A name that is both shows both."""
    rows = ranking(user, status="")
    by = defaultdict(list)
    for r in rows:
        by[r["facility"].operator or "—"].append(r)
    anomalies = homecare_anomaly_counts(user)
    out = []
    for name, items in by.items():
        scores = [r["score"] for r in items if r["score"] is not None]
        out.append({"name": name, "facilities": len(items),
                    "score": (sum(scores) / len(scores)).quantize(Decimal("0.01")) if scores else None,
                    "open_findings": sum(r["open_findings"] for r in items),
                    "occupied": sum(r["occupied"] for r in items), "beds": sum(r["facility"].beds for r in items),
                    "complaints": sum(r["complaints"] for r in items),
                    "anomalies": anomalies.get(name) if anomalies is not None else None})
    for name, n in (anomalies or {}).items():
        if name not in by:
            out.append({"name": name, "facilities": 0, "score": None, "open_findings": 0, "occupied": 0, "beds": 0,
                        "complaints": 0, "anomalies": n})
    return sorted(out, key=lambda x: (x["score"] is None, -(x["score"] or 0), -(x["anomalies"] or 0)))


# ------------------------------------------------------------------ big screen

AGE_BANDS = [(60, 69), (70, 79), (80, 89), (90, 200)]


def bigscreen_data(user) -> dict:
    from carenet.monitoring.labels import alarm_type_label
    from carenet.monitoring.models import Alarm

    now = timezone.now()
    today = timezone.localdate()
    start_today = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    month = today.replace(day=1)

    elders_block = cache.get_or_set(f"bigscreen:elders:{user.division_id or 'all'}:{user.is_superuser}:{today}",
                                    lambda: _elders_block(user, today), ELDERS_CACHE_S)

    fac = fm.Facility.objects.visible_to(user)
    by_type = {t: {"count": 0, "beds": 0} for t, _ in fm.FacilityType.choices}
    for t, n, beds in fac.values_list("type").annotate(n=Count("pk"), beds=Sum("beds")):
        by_type[t] = {"count": n, "beds": beds or 0}
    occ = dict(fm.FacilityResident.objects.filter(fsel.active_stay_q(today), facility__in=fac)
               .values_list("facility__type").annotate(n=Count("pk")))
    points = [[float(f[1]), float(f[2]), f[0], f[3]] for f in
              fac.filter(lat__isnull=False).values_list("name", "lon", "lat", "type")[:400]]

    alarms = Alarm.objects.visible_to(user)
    active = list(alarms.filter(status__in=Alarm.ACTIVE).select_related("elder__resident", "division")
                  .order_by("severity_rank", "-raised_at")[:8])
    today_stats = alarm_stats(alarms, start_today)
    today_closed = alarms.filter(closed_at__gte=start_today).count()

    online = {"today": 0, "month": 0}
    try:
        from carenet.callcenter.models import OnlineService
        svc = OnlineService.objects.visible_to(user)
        online = {"today": svc.filter(created__gte=start_today).count() if _has(OnlineService, "created") else 0,
                  "month": svc.filter(created__date__gte=month).count() if _has(OnlineService, "created") else 0}
    except Exception:  # noqa: BLE001 (a missing app must not break the wall screen)
        pass
    door = _homecare_counts(user, start_today, month)

    from carenet.assistance.models import Entitlement, LedgerLine
    ent = Entitlement.objects.visible_to(user).filter(start_month__lte=today).filter(
        Q(stop_month__isnull=True) | Q(stop_month__gt=month))
    assistance = ent.aggregate(n=Count("pk"), persons=Sum("persons"), monthly=Sum("monthly_amount"))
    paid = LedgerLine.objects.filter(user_subtree_q(user, "township__path"), run_month=month).aggregate(s=Sum("amount"))


    return {
        "generated": now.isoformat(), "area": user.division.name if user.division_id else "",
        "elders": elders_block["elders"],
        "facilities": {"total": sum(v["count"] for v in by_type.values()),
                       "by_type": [[str(label), by_type[t]["count"], by_type[t]["beds"], occ.get(t, 0)]
                                   for t, label in fm.FacilityType.choices],
                       "points": points},
        "alarms": {"active": [{"type": alarm_type_label(a.type), "severity": a.severity, "area": a.division.name,
                               "name": a.elder.resident.name[:1] + "**", "at": timezone.localtime(a.raised_at).strftime("%H:%M")}
                              for a in active],
                   "active_count": alarms.filter(status__in=Alarm.ACTIVE).count(),
                   "today": today_stats["count"], "today_closed": today_closed,
                   "ack_median": today_stats["ack_median"], "close_median": today_stats["close_median"]},
        "services": {"online_today": online["today"], "online_month": online["month"],
                     "door_today": door and door.get("today"), "door_month": door and door.get("month")},
        "assistance": {"households": assistance["n"] or 0, "persons": assistance["persons"] or 0,
                       "monthly": str(assistance["monthly"] or 0), "paid_month": str(paid["s"] or 0)},
        "visits": visit_figures(user, today) or elders_block["visits"],
    }


ELDERS_CACHE_S = 60   # elder counts change slowly; alarms, services and payments are read fresh every time


def _elders_block(user, today: dt.date) -> dict:
    """Elders by street, age band and care need, and visits due, from ONE grouped query over the elder registry."""
    from django.db.models import Case, IntegerField, Value, When

    from carenet.people.models import ElderProfile

    streets = {d.path: d for d in Division.objects.visible_to(user).filter(level=2)}
    band = Case(*[When(resident__birth_date__gt=_years_before(today, hi + 1), resident__birth_date__lte=_years_before(today, lo),
                       then=Value(lo)) for lo, hi in AGE_BANDS], default=Value(0), output_field=IntegerField())
    # The area as a list of division ids (a few hundred): no join to the division table, no LIKE on 100,000 rows.
    div_path = dict(Division.objects.visible_to(user).values_list("id", "path"))
    rows = (ElderProfile.objects.filter(resident__division_id__in=list(div_path), resident__deceased_on__isnull=True)
            .annotate(band=band).values_list("resident__division_id", "care_level", "band", "key_elder", "living")
            .annotate(n=Count("pk")).order_by())
    by_area, by_age, by_care = Counter(), Counter(), Counter()
    weekly = monthly = total = 0
    for div_id, care, b, key, living, n in rows:
        path = div_path.get(div_id, "")
        s = streets.get("/".join(path.split("/")[:2]))
        by_area[s.name if s else "—"] += n
        by_age[b] += n
        by_care[care] += n
        total += n
        if key:
            weekly += n
        elif living != "with_children":
            monthly += n
    care_labels = dict(ElderProfile.CareLevel.choices)
    return {"elders": {"total": total, "by_area": sorted(([k, v] for k, v in by_area.items()), key=lambda x: -x[1]),
                       "by_age": [[f"{lo}-{hi}岁" if hi < 200 else f"{lo}岁以上", by_age[lo]] for lo, hi in AGE_BANDS],
                       "by_care": [[str(care_labels.get(k, k)), v] for k, v in by_care.items()]},
            "visits": {"weekly_due": weekly, "monthly_due": monthly, "overdue": None, "escalated": None,
                       "source": "registry"}}


def visit_figures(user, today: dt.date) -> dict | None:
    """Visits (探访) from home care's visit plans, in one grouped query: weekly plans due in the next 7 days,
    monthly plans due by the end of the month, overdue plans and those escalated to the street. None when no
    plan exists yet (the big screen then shows the registry's estimate)."""
    try:
        from carenet.homecare.models import VisitPlan  # noqa: PLC0415 (optional app)
    except ImportError:
        return None
    week_end = today + dt.timedelta(days=6)
    month_end = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    row = VisitPlan.objects.visible_to(user).aggregate(
        plans=Count("pk"),
        weekly_due=Count("pk", filter=Q(period="week", next_due__gte=today, next_due__lte=week_end)),
        monthly_due=Count("pk", filter=Q(period="month", next_due__gte=today, next_due__lte=month_end)),
        overdue=Count("pk", filter=Q(next_due__lt=today)),
        escalated=Count("pk", filter=Q(next_due__lt=today, escalated_to="street")))
    if not row["plans"]:
        return None
    return {"weekly_due": row["weekly_due"], "monthly_due": row["monthly_due"], "overdue": row["overdue"],
            "escalated": row["escalated"], "source": "plans"}


def _has(model, field):
    return any(f.name == field for f in model._meta.get_fields())


def _homecare_counts(user, start_today, month):
    try:
        from carenet.homecare import selectors as hsel  # noqa: PLC0415
    except ImportError:
        return None
    fn = getattr(hsel, "service_counts", None)
    return fn(user, start_today, month) if fn else None


def _years_before(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)
