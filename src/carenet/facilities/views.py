"""Facility registry pages: list, detail, proposals and approvals, evaluations, inspections, the facility console."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carenet.core.permissions import needs
from carenet.core.roles import can
from carenet.facilities import models as m
from carenet.facilities import selectors as sel
from carenet.facilities import services
from carenet.facilities.engine import status as estatus
from carenet.facilities.forms import FacilityForm, InspectionForm, StatusForm

MAX_PHOTO = 8 * 1024 * 1024


def _photos(request, name="photos"):
    files = request.FILES.getlist(name)
    for f in files:
        if f.size > MAX_PHOTO or not (f.content_type or "").startswith("image/"):
            raise services.FacilityError(_("Photos must be images of at most 8 MB."))
    return files


@needs("facilities.view")
def facility_list(request):
    qs = sel.with_figures(sel.facilities_visible_to(request.user))
    f = {k: request.GET.get(k, "").strip() for k in ("q", "type", "status", "division")}
    if f["q"]:
        qs = qs.filter(name__icontains=f["q"])
    if f["type"] in m.FacilityType.values:
        qs = qs.filter(type=f["type"])
    if f["status"] in m.Facility.Status.values:
        qs = qs.filter(status=f["status"])
    if f["division"]:
        qs = qs.filter(division__path__contains=f["division"])
    page = Paginator(qs.order_by("division__path", "code"), 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(x, sel.evaluation_overdue(x.last_evaluated, today)) for x in page]
    pending = m.FacilityChange.objects.visible_to(request.user).filter(state="pending").count()
    return render(request, "facilities/list.html", {"page": page, "rows": rows, "f": f, "types": m.FacilityType.choices,
                                                    "statuses": m.Facility.Status.choices, "pending": pending})


@needs("facilities.view")
def facility_detail(request, pk):
    fac = sel.get_facility(request.user, pk)
    beds = sel.bed_figures(fac)
    evaluations = list(fac.evaluations.select_related("evaluator", "template").prefetch_related("photos")[:5])
    findings = sel.findings_with_escalation(fac.findings.select_related("inspection").prefetch_related("steps__actor", "photos"))
    ctx = {
        "fac": fac, "beds": beds, "evaluations": evaluations,
        "overdue": sel.evaluation_overdue(evaluations[0].evaluated_on if evaluations else None),
        "staff": fac.staff.filter(active=True), "residents": fac.residents.filter(discharged__isnull=True)
        .select_related("elder__resident")[:200],
        "findings": findings, "inspections": fac.inspections.all()[:10], "history": fac.history.select_related("actor")[:20],
        "changes": fac.changes.select_related("proposed_by", "decided_by")[:10], "rooms": fac.rooms.all(),
        "status_form": StatusForm(), "targets": estatus.allowed_targets(fac.status),
        "status_labels": dict(m.Facility.Status.choices), "inspection_form": InspectionForm(initial={"inspected_on": timezone.localdate()}),
        # linked facilities outside the user's area are named, not linked (their page would answer 404)
        "severities": m.Finding.Severity.choices, "stations": fac.stations.all(),
        "linkable": set(sel.facilities_visible_to(request.user).filter(
            Q(pk=fac.parent_center_id) | Q(parent_center=fac)).values_list("pk", flat=True)),
        "templates": m.EvaluationTemplate.objects.filter(active=True), "staff_roles": m.Staff.Role.choices,
        "today": timezone.localdate(),
    }
    return render(request, "facilities/detail.html", ctx)


@needs("facilities.propose")
def propose_new(request):
    form = FacilityForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.propose_create(request.user, form.cleaned_data, form.cleaned_data.get("reason", ""))
        except services.FacilityError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Proposal sent to the district for approval."))
            return redirect("facilities:changes")
    return render(request, "facilities/form.html", {"form": form, "title": _("Propose a new facility")})


@needs("facilities.propose")
def propose_edit(request, pk):
    fac = sel.get_facility(request.user, pk)
    form = FacilityForm(request.POST or None, instance=None if request.POST else fac, user=request.user,
                        initial=None)
    if request.method == "POST" and form.is_valid():
        try:
            services.propose_update(request.user, fac, form.cleaned_data, form.cleaned_data.get("reason", ""))
        except services.FacilityError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Proposal sent to the district for approval."))
            return redirect("facilities:detail", pk=fac.pk)
    return render(request, "facilities/form.html", {"form": form, "title": _("Propose a change: %(name)s") % {"name": fac.name}})


@require_POST
@needs("facilities.propose")
def propose_status(request, pk):
    fac = sel.get_facility(request.user, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status and give a reason."))
    else:
        try:
            services.propose_status(request.user, fac, form.cleaned_data["status"], form.cleaned_data["reason"])
        except services.FacilityError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Proposal sent to the district for approval."))
    return redirect("facilities:detail", pk=fac.pk)


@needs("facilities.view")
def changes(request):
    qs = m.FacilityChange.objects.visible_to(request.user).select_related("facility", "division", "proposed_by", "decided_by")
    state = request.GET.get("state", "pending")
    if state in m.FacilityChange.Decision.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    labels = {f: str(m.Facility._meta.get_field(f).verbose_name) for f in services.EDITABLE}
    labels["status"] = str(m.Facility._meta.get_field("status").verbose_name)
    rows = [(c, [(labels.get(k, k), _display(k, v)) for k, v in c.data.items()]) for c in page]
    return render(request, "facilities/changes.html", {"page": page, "rows": rows, "state": state,
                                                       "states": m.FacilityChange.Decision.choices,
                                                       "can_approve": can(request.user, "facilities.approve")})


def _display(key, value):
    if key == "type":
        return dict(m.FacilityType.choices).get(value, value)
    if key == "status":
        return dict(m.Facility.Status.choices).get(value, value)
    if key == "operating_model":
        return dict(m.Facility.OperatingModel.choices).get(value, value)
    if key == "division":
        from carenet.core.models import Division
        d = Division.objects.filter(pk=value).first()
        return d.name if d else value
    if key == "parent_center":
        f = m.Facility.objects.filter(pk=value).first() if value else None
        return f.name if f else "—"
    return value if value not in (None, "") else "—"


@require_POST
@needs("facilities.approve")
def decide(request, pk):
    change = get_object_or_404(m.FacilityChange.objects.visible_to(request.user), pk=pk)
    approve = request.POST.get("decision") == "approve"
    try:
        change = services.decide(request.user, change.pk, approve, request.POST.get("note", ""))
    except services.FacilityError as exc:
        messages.error(request, str(exc))
        return redirect("facilities:changes")
    messages.success(request, _("Approved and applied to the registry.") if approve else _("Rejected."))
    if approve and change.facility_id:
        return redirect("facilities:detail", pk=change.facility_id)
    return redirect("facilities:changes")


@needs("facilities.evaluate")
def evaluate(request, pk):
    fac = sel.get_facility(request.user, pk)
    template = get_object_or_404(m.EvaluationTemplate, pk=request.GET.get("template") or request.POST.get("template")
                                 or m.EvaluationTemplate.objects.filter(active=True).values_list("pk", flat=True).first() or 0)
    indicators = list(template.indicators.all())
    values = {}
    if request.method == "POST":
        errors = []
        for i in indicators:
            raw = request.POST.get(f"s_{i.code}", "").strip()
            values[i.code] = raw
            try:
                values[i.code] = Decimal(raw) if raw else None
            except InvalidOperation:
                errors.append(i.label)
        try:
            on = dt.date.fromisoformat(request.POST.get("evaluated_on", ""))
        except ValueError:
            on = None
            errors.append(_("Date"))
        if errors:
            messages.error(request, _("Please enter numbers for: %(items)s") % {"items": "、".join(errors)})
        else:
            try:
                ev = services.evaluate(request.user, fac, template, values, on, request.POST.get("note", "")[:300],
                                       _photos(request))
            except services.FacilityError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Evaluation saved: %(score)s points.") % {"score": ev.total})
                return redirect("facilities:detail", pk=fac.pk)
    return render(request, "facilities/evaluate.html", {"fac": fac, "template": template, "indicators": indicators,
                                                        "values": values, "today": timezone.localdate(),
                                                        "groups": dict(m.Indicator.Group.choices)})


@require_POST
@needs("facilities.inspect")
def inspect(request, pk):
    fac = sel.get_facility(request.user, pk)
    form = InspectionForm(request.POST)
    findings = [(request.POST.get(f"finding_{i}", ""), request.POST.get(f"severity_{i}", "general")) for i in range(3)]
    findings = [(d, s if s in m.Finding.Severity.values else "general") for d, s in findings if d.strip()]
    if not form.is_valid():
        messages.error(request, _("Choose the inspection kind and date."))
    else:
        services.inspect(request.user, fac, form.cleaned_data["kind"], form.cleaned_data["inspected_on"], findings,
                         form.cleaned_data["note"])
        messages.success(request, _("Inspection recorded with %(n)s findings.") % {"n": len(findings)})
    return redirect("facilities:detail", pk=fac.pk)


@require_POST
@needs("facilities.view")
def finding_step(request, pk):
    finding = get_object_or_404(m.Finding.objects.visible_to(request.user), pk=pk)
    action = request.POST.get("action")
    note = request.POST.get("note", "")[:300]
    try:
        if action == "assign":
            services.assign(request.user, finding.pk, request.POST.get("assignee", ""))
        elif action == "rectify":
            services.rectify(request.user, finding.pk, note, _photos(request))
        elif action in ("accept", "reject"):
            services.recheck(request.user, finding.pk, action == "accept", note)
        else:
            raise services.FacilityError(_("Unknown action."))
    except services.FacilityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect(f"{finding.facility_id and _detail_url(finding.facility_id)}#finding-{finding.pk}")


def _detail_url(pk):
    from django.urls import reverse
    return reverse("facilities:detail", args=[pk])


@needs("facilities.view")
def photo(request, pk):
    p = get_object_or_404(m.Photo, pk=pk)
    fac = p.evaluation.facility if p.evaluation_id else p.finding.facility
    sel.get_facility(request.user, fac.pk)  # 404 outside the user's area
    return FileResponse(p.file.open("rb"), content_type=p.content_type or "image/jpeg")


@needs("facilities.console")
def console(request, pk=None):
    mine = sel.staffed_facilities(request.user)
    if pk is None:
        first = mine.first() or (sel.facilities_visible_to(request.user).filter(rooms__isnull=False).first()
                                 if can(request.user, "alarms.view") else None)
        if first is None:
            raise Http404("no facility")
        return redirect("facilities:console", pk=first.pk)
    fac = sel.get_facility(request.user, pk)
    if not (mine.filter(pk=fac.pk).exists() or can(request.user, "alarms.view")):
        raise Http404("not your facility")
    from carenet.monitoring.alarms import CLOSING_CODES
    from carenet.monitoring.labels import alarm_type_label
    if request.method == "POST":
        return _console_action(request, fac)
    rooms = sel.room_of(fac)
    alarms = [(a, alarm_type_label(a.type), rooms.get(a.elder_id, "")) for a in sel.room_alarms(fac)]
    tpl = "facilities/_console_alarms.html" if request.headers.get("HX-Request") else "facilities/console.html"
    return render(request, tpl, {"fac": fac, "alarms": alarms, "rooms": fac.rooms.select_related("elder__resident"),
                                 "now": timezone.now(), "closing_codes": CLOSING_CODES})


def _console_action(request, fac):
    from django.core.exceptions import PermissionDenied, ValidationError

    alarm_id = request.POST.get("alarm")
    if not sel.room_alarms(fac, active_only=False).filter(pk=alarm_id).exists():
        raise Http404("not this facility's alarm")
    try:
        if request.POST.get("action") == "ack":
            services.acknowledge_room_alarm(request.user, int(alarm_id), request.POST.get("note", "")[:300])
        else:
            services.resolve_room_alarm(request.user, int(alarm_id), request.POST.get("closing_code", ""),
                                        request.POST.get("note", "")[:300])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied:
        messages.error(request, _("Only this facility's staff on duty can handle its room alarms."))
    return redirect("facilities:console", pk=fac.pk)


@require_POST
@needs("facilities.staff")
def admit(request, pk):
    """Admit an elder by full ID number (an exact, audited district-wide lookup: people move into homes elsewhere)."""
    from carenet.people.selectors import resident_by_id_number_districtwide

    fac = sel.get_facility(request.user, pk)
    id_number = request.POST.get("id_number", "").strip().upper()
    try:
        on = dt.date.fromisoformat(request.POST.get("admitted", ""))
    except ValueError:
        on = None
    if len(id_number) != 18 or on is None:
        messages.error(request, _("Enter the elder's full 18-digit ID number and the admission date."))
        return redirect("facilities:detail", pk=fac.pk)
    resident = resident_by_id_number_districtwide(request.user, id_number, why=f"admission to facility {fac.pk}")
    elder = getattr(resident, "elder", None) if resident else None
    if elder is None:
        messages.error(request, _("No elder with this ID number is registered; register the elder first."))
        return redirect("facilities:detail", pk=fac.pk)
    try:
        services.admit(request.user, fac, elder, on, care_level=elder.care_level,
                       nursing_bed=request.POST.get("nursing_bed") == "1", room=request.POST.get("room", "")[:20])
    except services.FacilityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Admitted."))
    return redirect("facilities:detail", pk=fac.pk)


@require_POST
@needs("facilities.staff")
def discharge(request, pk):
    stay = get_object_or_404(m.FacilityResident.objects.visible_to(request.user), pk=pk)
    try:
        services.discharge(request.user, stay, dt.date.fromisoformat(request.POST.get("discharged", "")))
    except ValueError as exc:
        messages.error(request, str(exc) if isinstance(exc, services.FacilityError) else _("Enter the discharge date."))
    else:
        messages.success(request, _("Discharged."))
    return redirect("facilities:detail", pk=stay.facility_id)


@require_POST
@needs("facilities.staff")
def add_staff(request, pk):
    fac = sel.get_facility(request.user, pk)
    name, role = request.POST.get("name", "").strip()[:50], request.POST.get("role", "")
    try:
        hours = int(request.POST.get("training_hours") or 0)
    except ValueError:
        hours = -1
    if not name or role not in m.Staff.Role.values or not 0 <= hours <= 2000:
        messages.error(request, _("Enter a name, a post and training hours (0 to 2000)."))
    else:
        services.add_staff(request.user, fac, name=name, role=role, training_hours=hours,
                           certificates=request.POST.get("certificates", "").strip()[:200])
        messages.success(request, _("Saved."))
    return redirect("facilities:detail", pk=fac.pk)
