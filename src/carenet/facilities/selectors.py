"""Reads of the facilities app. Every query starts from the user's area (`visible_to`). Other apps (supervision,
home care) read facilities through these functions."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from carenet.facilities import models as m
from carenet.facilities.engine import beds as ebeds
from carenet.facilities.engine import evaluation as eeval
from carenet.facilities.engine import inspection as einsp


def facilities_visible_to(user):
    return m.Facility.objects.visible_to(user).select_related("division", "parent_center")


def get_facility(user, pk) -> m.Facility:
    try:
        return facilities_visible_to(user).get(pk=pk)
    except (m.Facility.DoesNotExist, ValueError):
        raise Http404("facility not found") from None


def active_stay_q(on: dt.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}admitted__lte": on}) & (Q(**{f"{prefix}discharged__isnull": True})
                                                   | Q(**{f"{prefix}discharged__gt": on}))


def bed_figures(facility: m.Facility, on: dt.date | None = None) -> ebeds.Beds:
    on = on or timezone.localdate()
    stays = [ebeds.Stay(s.admitted, s.discharged, s.nursing_bed)
             for s in facility.residents.only("admitted", "discharged", "nursing_bed")]
    return ebeds.figures(facility.beds, facility.nursing_beds, stays, on)


def _count(model, filters: Q) -> Subquery:
    """A correlated COUNT per facility (subqueries, not joins: several joined counts multiply rows)."""
    qs = (model.objects.filter(filters, facility=OuterRef("pk")).order_by().values("facility")
          .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(qs, output_field=IntegerField()), 0)


def with_figures(qs, on: dt.date | None = None):
    """Annotate occupied beds, open findings, staff in post and the last evaluation date."""
    on = on or timezone.localdate()
    last = m.Evaluation.objects.filter(facility=OuterRef("pk")).order_by("-evaluated_on").values("evaluated_on")[:1]
    return qs.annotate(
        occupied=_count(m.FacilityResident, active_stay_q(on)),
        open_findings=_count(m.Finding, ~Q(status="closed")),
        staff_count=_count(m.Staff, Q(active=True)),
        last_evaluated=Subquery(last),
    )


def latest_evaluations(facility_ids) -> dict[int, m.Evaluation]:
    out = {}
    for ev in m.Evaluation.objects.filter(facility_id__in=list(facility_ids)).order_by("facility_id", "-evaluated_on", "-id"):
        out.setdefault(ev.facility_id, ev)
    return out


def evaluation_overdue(last_evaluated, today=None) -> bool:
    return eeval.is_overdue(last_evaluated, today or timezone.localdate())


def findings_with_escalation(qs, today: dt.date | None = None):
    today = today or timezone.localdate()
    return [(f, einsp.escalation(f.due, today, f.status)) for f in qs]


def room_alarms(facility: m.Facility, active_only: bool = True):
    """Alarms of the facility's smart rooms (the room residents' devices), newest first."""
    from carenet.monitoring.models import Alarm

    qs = Alarm.objects.filter(elder_id__in=facility.rooms.values("elder_id")).select_related("elder__resident")
    if active_only:
        qs = qs.filter(status__in=Alarm.ACTIVE)
    return qs.order_by("severity_rank", "-raised_at")


def room_of(facility: m.Facility) -> dict[int, str]:
    return dict(facility.rooms.values_list("elder_id", "name"))


def staffed_facilities(user):
    """Facilities where the user is staff in post (for the facility console)."""
    return m.Facility.objects.filter(staff__user=user, staff__active=True).distinct()


# ------------------------------------------------------------------ subsidy rules, complaints

def subsidy_rules_visible_to(user):
    """Subsidy rule rows on the user's path: the district's and those of streets inside the user's area."""
    from carenet.core.scoping import user_subtree_q

    codes = user.division.path.split("/") if getattr(user, "division_id", None) else []
    q = user_subtree_q(user, "division__path")
    if codes:
        q |= Q(division__code__in=codes)
    return m.SubsidyRule.objects.filter(q).select_related("division", "created_by").order_by(
        "key", "facility_type", "division__path", "-effective_from")


def subsidy_in_force(division, on: dt.date) -> list[dict]:
    """For each facility type: the yearly cap and the score bands in force on `on` for `division`, with their
    source (the same RuleSet resolution the evaluations use)."""
    from carenet.assistance.engine import rules as erules
    from carenet.facilities import services
    from carenet.facilities.engine import subsidy as esub

    rs = services.rules_for(division)
    path = division.path.split("/")
    out = []
    for t, label in m.FacilityType.choices:
        row = {"type": t, "label": label, "cap": None, "bands": None}
        for key, field in ((esub.CAP_KEY, "cap"), (esub.BANDS_KEY, "bands")):
            try:
                std = rs.resolve(key, t, path, on)
            except erules.RuleNotFoundError:
                continue
            row[field] = std
        out.append(row)
    return out


def complaints_visible_to(user):
    return m.Complaint.objects.visible_to(user).select_related("facility__division", "routed_to", "created_by")


def get_complaint(user, pk) -> m.Complaint:
    c = complaints_visible_to(user).filter(pk=pk).first()
    if c is None:
        raise Http404("complaint not found")
    return c
