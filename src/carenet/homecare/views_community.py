"""Home-care pages around the orders: figures, follow-up calls, recurring plans, visits, meal points, pairing and
projects (the order, phone, anomaly and settlement pages are in views.py)."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.permissions import needs
from carenet.core.roles import can
from carenet.homecare import community, forms as f
from carenet.homecare import selectors, services
from carenet.homecare import models as m
from carenet.homecare.engine import settlement as es
from carenet.people.models import ElderProfile
from carenet.people.selectors import get_elder

from carenet.homecare.views import XLSX, _month, _span, _xlsx  # noqa: F401


# ------------------------------------------------------------------ figures, follow-ups, plans, visits

@needs("homecare.view")
def figures(request):
    month, start, end = _span(request)
    data = selectors.figures(request.user, start, end)
    if request.GET.get("format") == "xlsx":
        audit.record(AuditLog.Action.EXPORT, actor=request.user, model="homecare.figures", object_repr=f"{month:%Y-%m}")
        rows = [(_("By service"), n, c, s) for n, c, s in data["by_type"]] + \
               [(_("By provider"), n, c, s) for n, c, s, _r in data["by_provider"]] + \
               [(_("By area"), n, c, "") for n, c in data["by_area"]]
        return _xlsx(f"homecare-figures-{month:%Y-%m}.xlsx", _("Figures"), [_("Group"), _("Name"), _("Services"), _("Subsidy")], rows)
    chart = {"by_type": [[n, c] for n, c, _s in data["by_type"]], "by_provider": [[n or "—", c] for n, c, _s, _r in data["by_provider"]]}
    return render(request, "homecare/figures.html", {"month": month, "data": data, "chart": chart,
                                                      "sat": selectors.satisfaction(request.user)})


@needs("homecare.view")
def followups(request):
    if request.method == "POST":
        call = selectors.followups_visible_to(request.user).filter(pk=request.POST.get("call") or 0).first()
        if call is None:
            raise Http404("call not found")
        try:
            services.record_followup(request.user, call, reached=request.POST.get("reached") == "1",
                                     satisfaction=request.POST.get("satisfaction") or None, note=request.POST.get("note", ""))
        except services.HomecareError as exc:
            messages.error(request, str(exc))
        return redirect("homecare:followups")
    calls = selectors.followups_visible_to(request.user).filter(done_at__isnull=True).select_related(
        "order__elder__resident", "order__service_type", "order__helper", "order__provider").order_by("due")[:100]
    if request.GET.get("format") == "xlsx":
        audit.record(AuditLog.Action.EXPORT, actor=request.user, model="homecare.followupcall", object_repr="follow-up calls")
        return _xlsx("homecare-followups.xlsx", _("Follow-up calls"), [_("Order"), _("Elder"), _("Service"), _("Provider"),
                                                                       _("Helper"), _("Due")],
                     ((c.order_id, c.order.elder.resident.name, c.order.service_type.name,
                       c.order.provider.name if c.order.provider_id else "", c.order.helper.name if c.order.helper_id else "",
                       c.due) for c in calls))
    return render(request, "homecare/followups.html", {"calls": calls, "sat": selectors.satisfaction(request.user),
                                                       "can_call": can(request.user, "homecare.followup")})


@needs("homecare.order")
def plans(request):
    elder = None
    if request.GET.get("elder", "").isdigit():
        elder = get_elder(request.user, int(request.GET["elder"]))
    form = f.PlanForm(request.POST or None)
    if request.method == "POST" and elder is not None and form.is_valid():
        d = form.cleaned_data
        try:
            plan = community.create_plan(request.user, elder=elder, service_type=d["service_type"], weekdays=d["weekdays"],
                                        at=d["at"], start=d["start"], end=d["end"], holidays=d["holidays"])
            made = community.generate_plan_orders(plan, min(d["end"] or d["start"] + dt.timedelta(days=28),
                                                           d["start"] + dt.timedelta(days=28)))
        except services.HomecareError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Plan saved; %(n)s orders created for the next four weeks.") % {"n": len(made)})
            return redirect(reverse("homecare:plans"))
    qs = m.RecurringPlan.objects.visible_to(request.user).select_related("elder__resident", "service_type")[:200]
    if request.GET.get("format") == "xlsx":
        audit.record(AuditLog.Action.EXPORT, actor=request.user, model="homecare.recurringplan", object_repr="plans")
        return _xlsx("homecare-plans.xlsx", _("Recurring plans"), [_("Elder"), _("Service"), _("Weekdays"), _("Time"),
                                                                   _("Public holidays"), _("Generated until")],
                     ((p.elder.resident.name, p.service_type.name, ",".join(str(d + 1) for d in p.weekdays),
                       p.at.strftime("%H:%M"), p.get_holidays_display(), p.generated_until or "") for p in qs))
    return render(request, "homecare/plans.html", {"plans": qs, "form": form, "elder": elder})


@needs("homecare.view")
def visits(request):
    today = timezone.localdate()
    qs = m.VisitPlan.objects.visible_to(request.user).select_related("elder__resident__division").order_by("next_due")
    which = request.GET.get("when", "")
    if which == "overdue":
        qs = qs.filter(next_due__lt=today)
    elif which == "due":
        qs = qs.filter(next_due__lte=today + dt.timedelta(days=2))
    if request.GET.get("format") == "xlsx":
        audit.record(AuditLog.Action.EXPORT, actor=request.user, model="homecare.visitplan", object_repr="visit plans")
        return _xlsx("homecare-visits.xlsx", _("Visits"), [_("Elder"), _("Area"), _("Every"), _("Rules"), _("Last visit"),
                                                            _("Next due"), _("Escalated to")],
                     ((p.elder.resident.name, p.division.name, p.days, p.rules, p.last_visit, p.next_due, p.escalated_to) for p in qs[:50000]))
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "homecare/visits.html", {"page": page, "today": today, "when": which,
                                                    "overdue": m.VisitPlan.objects.visible_to(request.user).filter(next_due__lt=today).count()})


@needs("homecare.visit")
def visit_record(request, pk):
    plan = m.VisitPlan.objects.visible_to(request.user).filter(pk=pk).select_related("elder__resident").first()
    if plan is None:
        raise Http404("plan not found")
    form = f.VisitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            community.record_visit(request.user, plan, seen=d["seen"], needs=d["needs"], follow_up=d["follow_up"],
                                  photo=d["photo"], service_type=d["service_type"])
        except services.HomecareError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Visit recorded."))
            return redirect("homecare:visits")
    return render(request, "homecare/visit_record.html", {"plan": plan, "form": form,
                                                          "records": plan.records.order_by("-visited_at")[:5]})


# ------------------------------------------------------------------ meal points, pairing, projects

def _find_elder(user, text: str):
    text = (text or "").strip()
    if not text:
        raise services.HomecareError(_("Enter the elder's name or phone."))
    hits = list(ElderProfile.objects.visible_to(user).filter(Q(resident__name=text) | Q(resident__phone=text))
                .select_related("resident__division")[:2])
    if not hits:
        raise services.HomecareError(_("No elder in your area matches."))
    if len(hits) > 1:
        raise services.HomecareError(_("Several elders match; enter the phone number."))
    return hits[0]


@needs("homecare.view")
def meals(request):
    from django.db.models import Count, Sum

    from carenet.homecare.engine import meals as em

    today = timezone.localdate()
    points = list(community.meal_points_visible_to(request.user).order_by("name"))
    if request.method == "POST" and request.POST.get("form") == "settle":
        try:
            run = community.settle_meals(request.user, _month(request.POST.get("month"), today))
        except services.HomecareError as exc:
            messages.error(request, str(exc))
            return redirect("homecare:meals")
        messages.success(request, _("%(month)s settled with the meal points: %(n)s meals, subsidy %(s)s yuan.")
                         % {"month": f"{run.month:%Y-%m}", "n": run.meals, "s": run.subsidy})
        return redirect("homecare:meal_run", pk=run.pk)
    if request.method == "POST":
        facility = next((p for p in points if str(p.pk) == request.POST.get("facility")), None)
        try:
            if facility is None:
                raise services.HomecareError(_("Choose a meal point."))
            meal = community.record_meal(request.user, facility=facility, elder=_find_elder(request.user, request.POST.get("elder")),
                                        date=today, kind=request.POST.get("kind", ""))
        except services.HomecareError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Meal recorded: subsidy %(s)s yuan, the elder pays %(p)s yuan.") % {"s": meal.subsidy, "p": meal.share})
        return redirect("homecare:meals")
    month, start, end = _span(request)
    qs = m.Meal.objects.visible_to(request.user)
    today_counts = dict(qs.filter(date=today).values_list("facility_id").annotate(n=Count("id")).order_by())
    rows = [{"f": p, "today": today_counts.get(p.pk, 0), "left": em.capacity_left(p.meal_capacity, today_counts.get(p.pk, 0))}
            for p in points]
    monthly = list(qs.filter(date__gte=month, date__lt=es.next_month(month)).values("facility__name").annotate(
        n=Count("id"), dine=Count("id", filter=Q(kind="dine_in")), subsidy=Sum("subsidy"), share=Sum("share")).order_by("facility__name"))
    if request.GET.get("format") == "xlsx":
        audit.record(AuditLog.Action.EXPORT, actor=request.user, model="homecare.meal", object_repr=f"meal statement {month:%Y-%m}")
        return _xlsx(f"homecare-meals-{month:%Y-%m}.xlsx", _("Meals"), [_("Meal point"), _("Meals"), _("Dine-in"), _("Subsidy"), _("Elders' share")],
                     ((r["facility__name"], r["n"], r["dine"], r["subsidy"], r["share"]) for r in monthly))
    recent = qs.select_related("facility", "elder__resident").order_by("-created")[:30]
    last = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return render(request, "homecare/meals.html", {"rows": rows, "monthly": monthly, "month": month, "recent": recent,
                                                   "kinds": m.Meal.Kind.choices, "can_record": can(request.user, "homecare.meals"),
                                                   "runs": m.MealSettlementRun.objects.all()[:24], "last_month": f"{last:%Y-%m}",
                                                   "can_settle": can(request.user, "homecare.settle")})


@needs("homecare.view")
def meal_run(request, pk):
    """A settled month with the meal points: the frozen lines of the user's area (the run is district-wide)."""
    run = m.MealSettlementRun.objects.filter(pk=pk).first()
    if run is None:
        raise Http404("run not found")
    lines = m.MealSettlementLine.objects.visible_to(request.user).filter(run=run).select_related("facility")
    if request.GET.get("format") == "xlsx":
        audit.record(AuditLog.Action.EXPORT, run, actor=request.user, note="homecare.meal_settlement statement")
        kinds = dict(m.MealSettlementLine.Kind.choices)
        return _xlsx(f"homecare-meal-settlement-{run.month:%Y-%m}.xlsx", _("Meal settlement"),
                     [_("Meal point"), _("Service month"), _("Kind"), _("Meals"), _("Dine-in"), _("Delivered"), _("Price"),
                      _("Subsidy"), _("Elders' share")],
                     ((ln.facility.name, f"{ln.service_month:%Y-%m}", str(kinds[ln.kind]), ln.meals, ln.dine_in, ln.delivered,
                       ln.price, ln.subsidy, ln.share) for ln in lines))
    return render(request, "homecare/meal_run.html", {"run": run, "lines": lines})


@needs("homecare.view")
def pairings(request):
    from carenet.homecare.engine import pairing as ep

    if request.method == "POST":
        try:
            if request.POST.get("form") == "new":
                community.create_pairing(request.user, elder=_find_elder(request.user, request.POST.get("elder")),
                                        helper_name=request.POST.get("helper_name", ""), helper_phone=request.POST.get("helper_phone", ""),
                                        min_per_month=request.POST.get("min_per_month") or 2)
            else:
                p = m.Pairing.objects.visible_to(request.user).filter(pk=request.POST.get("pairing") or 0).first()
                if p is None:
                    raise Http404("pairing not found")
                community.log_pairing_contact(request.user, p, kind=request.POST.get("kind", ""), date=timezone.localdate(),
                                             note=request.POST.get("note", ""))
        except (services.HomecareError, ValueError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Saved."))
        return redirect("homecare:pairings")
    today = timezone.localdate()
    rows = []
    for p in m.Pairing.objects.visible_to(request.user).filter(active=True).select_related("elder__resident").prefetch_related("contacts")[:300]:
        dates = [c.date for c in p.contacts.all()]
        rows.append({"p": p, "recent": sum(1 for d in dates if (today - d).days < 30), "behind": ep.behind(dates, p.min_per_month, today),
                     "last": max(dates) if dates else None})
    rows.sort(key=lambda r: -r["behind"])
    if request.GET.get("format") == "xlsx":
        audit.record(AuditLog.Action.EXPORT, actor=request.user, model="homecare.pairing", object_repr="pairings")
        return _xlsx("homecare-pairings.xlsx", _("Pairing (结对帮扶)"), [_("Elder"), _("Official or volunteer"), _("Phone"),
                     _("Contacts, last 30 days"), _("Minimum"), _("Last contact")],
                     ((r["p"].elder.resident.name, r["p"].helper_name, r["p"].helper_phone, r["recent"], r["p"].min_per_month,
                       r["last"] or "") for r in rows))
    return render(request, "homecare/pairings.html", {"rows": rows, "kinds": m.PairingContact.Kind.choices,
                                                      "can_edit": can(request.user, "homecare.visit")})


@needs("homecare.view")
def projects(request):
    token = None
    if request.method == "POST" and request.POST.get("form") == "device":
        p = m.Project.objects.visible_to(request.user).filter(pk=request.POST.get("project") or 0).first()
        if p is None:
            raise Http404("project not found")
        try:
            device, token = community.register_bed_device(request.user, p, device_id=request.POST.get("device_id", ""),
                                                          type=request.POST.get("type", ""), room=request.POST.get("room", ""))
        except services.HomecareError as exc:
            messages.error(request, str(exc))
            return redirect("homecare:projects")
        token = {"device": device, "token": token, "project": p}  # shown once, on this page only
    elif request.method == "POST":
        try:
            if request.POST.get("form") == "new":
                community.create_project(request.user, elder=_find_elder(request.user, request.POST.get("elder")),
                                        kind=request.POST.get("kind", ""), description=request.POST.get("description", ""))
            else:
                p = m.Project.objects.visible_to(request.user).filter(pk=request.POST.get("project") or 0).first()
                if p is None:
                    raise Http404("project not found")
                community.advance_project(request.user, p, note=request.POST.get("note", ""), photo=request.FILES.get("photo"),
                                         subsidy=request.POST.get("subsidy") or None)
        except services.HomecareError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Saved."))
        return redirect("homecare:projects")
    from carenet.devices.models import Device

    qs = (m.Project.objects.visible_to(request.user).select_related("elder__resident").prefetch_related("devices")
          .order_by("-created")[:300])
    if request.GET.get("format") == "xlsx":
        audit.record(AuditLog.Action.EXPORT, actor=request.user, model="homecare.project", object_repr="projects")
        return _xlsx("homecare-projects.xlsx", _("Home adaptation and care beds"), [_("Elder"), _("Kind"), _("Description"),
                     _("Stage"), _("Subsidy"), _("Devices")],
                     ((p.elder.resident.name, p.get_kind_display(), p.description, p.get_stage_display(), p.subsidy or "",
                       "、".join(d.device_id for d in p.devices.all())) for p in qs))
    types = sorted(Device.Type.choices, key=lambda c: (c[0] not in community.CARE_BED_DEVICE_TYPES, c[0]))
    return render(request, "homecare/projects.html", {"projects": qs, "kinds": m.Project.Kind.choices,
                                                      "can_edit": can(request.user, "homecare.visit"),
                                                      "can_devices": can(request.user, "devices.manage"),
                                                      "device_types": types, "issued": token})


@needs("homecare.view")
def absences(request):
    """Registered absences (in hospital, away from home): services recorded then are flagged as anomalies."""
    today = timezone.localdate()
    if request.method == "POST":
        try:
            start = dt.date.fromisoformat(request.POST.get("start") or "")
            end = dt.date.fromisoformat(request.POST["end"]) if request.POST.get("end") else None
        except ValueError:
            messages.error(request, _("Enter the dates as on the calendar."))
            return redirect("homecare:absences")
        try:
            community.register_absence(request.user, _find_elder(request.user, request.POST.get("elder")),
                                       kind=request.POST.get("kind", ""), start=start, end=end,
                                       where=request.POST.get("where", ""))
        except services.HomecareError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Absence registered."))
        return redirect("homecare:absences")
    qs = m.HospitalStay.objects.visible_to(request.user).select_related("elder__resident__division").filter(
        Q(end__isnull=True) | Q(end__gte=today - dt.timedelta(days=30))).order_by("-start")[:300]
    if request.GET.get("format") == "xlsx":
        audit.record(AuditLog.Action.EXPORT, actor=request.user, model="homecare.hospitalstay", object_repr="absences")
        return _xlsx("homecare-absences.xlsx", _("Registered absences"), [_("Elder"), _("Area"), _("Kind"), _("From"),
                     _("Until"), _("Where")],
                     ((s.elder.resident.name, s.elder.resident.division.name, s.get_kind_display(), s.start, s.end or "",
                       s.hospital) for s in qs))
    return render(request, "homecare/absences.html", {"stays": qs, "kinds": m.HospitalStay.Kind.choices, "today": today,
                                                      "can_edit": can(request.user, "homecare.visit")})
