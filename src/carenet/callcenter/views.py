import datetime as dt
import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from carenet.callcenter import reports, selectors, services
from carenet.callcenter.labels import ALARM_TYPES, CLOSING_CODES, DISPATCH_TARGETS, alarm_type_label, closing_label
from carenet.callcenter.models import CallLog, Dispatch, OnlineService
from carenet.core import audit, list_export
from carenet.core.models import AuditLog
from carenet.core.permissions import needs
from carenet.core.roles import can
from carenet.monitoring import list_exports
from carenet.monitoring.feed import alarm_row
from carenet.monitoring import selectors as monitoring_selectors
from carenet.monitoring.models import Alarm
from carenet.people import services as people_services
from carenet.people.models import HealthArchive, Resident
from carenet.people.selectors import get_elder, search_elders

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _error_text(exc) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


# ---- live queue ---------------------------------------------------------------------------------------
@needs("callcenter.console")
def console(request):
    config = {
        "ws": "/ws/alarms/",
        "serverNow": int(time.time() * 1000),
        "me": request.user.username,
        "claimUrl": reverse("callcenter:claim", args=[0]),
        "queueUrl": reverse("callcenter:queue"),
        "reconcileMs": 5000,
        "popUrl": reverse("callcenter:alarm", args=[0]),
        "targets": [60, 180],
        "types": {k: str(v) for k, v in ALARM_TYPES.items()},
        "severity": {k: str(v) for k, v in Alarm.Severity.choices},
        "status": {k: str(v) for k, v in Alarm.Status.choices},
        "sex": {k: str(v) for k, v in Resident.Sex.choices},
        "t": {"claim": _("Claim"), "open": pgettext("alarm", "Open"), "claimedBy": _("Claimed by"), "live": _("Live"),
              "offline": _("Reconnecting…"), "years": pgettext("age suffix", " y"), "waiting": _("waiting"), "new": _("New alarm"),
              "none": _("No open alarms in your area."), "soundOn": _("Sound on"), "soundOff": _("Sound off"),
              "x": _("×"), "escalated": _("Escalated")},
    }
    return render(request, "callcenter/console.html", {"config": config})


@needs("callcenter.console")
def queue_json(request):
    """The open alarms of the user's area, as the WebSocket feed's rows. The console reconciles with it every
    few seconds, a safety net under the push (which follows `Alarm.updated` and could, in principle, pass over
    a row committed late with an older timestamp)."""
    qs = Alarm.objects.visible_to(request.user).select_related("elder__resident", "division__parent", "acknowledged_by", "closed_by").filter(status__in=Alarm.ACTIVE, held_until__isnull=True).order_by("severity_rank", "raised_at")
    return JsonResponse({"alarms": [alarm_row(a) for a in qs[:500]], "now": time.time()})


@login_required
@require_POST
def claim(request, pk):
    """Claim from the queue (fetch, JSON) or from the screen pop (form, redirect)."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    selectors.get_alarm(request.user, pk)  # 404 outside the area
    try:
        services.claim(request.user, pk)
    except (ValidationError, PermissionDenied) as exc:
        if wants_json:
            return JsonResponse({"ok": False, "error": _error_text(exc)}, status=409)
        messages.error(request, _error_text(exc))
        return redirect("callcenter:alarm", pk=pk)
    url = reverse("callcenter:alarm", args=[pk])
    return JsonResponse({"ok": True, "url": url}) if wants_json else redirect(url)


# ---- screen pop --------------------------------------------------------------------------------------
@needs("callcenter.console")
def alarm_detail(request, pk):
    alarm = selectors.get_alarm(request.user, pk)
    elder = alarm.elder
    r = elder.resident
    health = people_services.read_health_archive(request.user, elder)  # audited read, every time
    contacts = list(elder.contacts.all())
    prompt = services.next_contact(alarm)
    calls_by_contact = {}
    for c in alarm.calls.all():
        if c.contact_id:
            calls_by_contact.setdefault(c.contact_id, []).append(c)
    context = {
        "alarm": alarm, "elder": elder, "r": r, "health": health, "lines": HealthArchive.lines,
        "contacts": [{"c": c, "calls": calls_by_contact.get(c.pk, [])} for c in contacts],
        "prompt": prompt, "mine": alarm.acknowledged_by_id == request.user.pk,
        "type_label": alarm_type_label(alarm.type), "closing_label": closing_label(alarm.closing_code),
        "steps": services.timeline(alarm), "dispatches": list(alarm.dispatches.all()),
        "recent_alarms": [(a, alarm_type_label(a.type), closing_label(a.closing_code) if a.closing_code else "")
                          for a in selectors.recent_alarms(elder, exclude=alarm)],
        "recent_services": selectors.recent_services(elder),
        "callees": CallLog.Callee.choices, "outcomes": CallLog.Outcome.choices,
        "targets": DISPATCH_TARGETS, "closing_codes": CLOSING_CODES,
        "needs_reason": alarm.type in services.VERIFY_BY_CALL and not services.verified_by_call(alarm),
        "charts": {"map": selectors.location_map(request.user, elder),
                   "timeline": selectors.sensor_timeline(elder, end=max(timezone.now(), alarm.raised_at)),
                   "alarmAt": int(alarm.raised_at.timestamp() * 1000),
                   "ws": "/ws/alarms/", "alarmId": alarm.pk, "updated": alarm.updated.isoformat(),
                   "t": {"elder": r.name, "community": _("Community (centre of residents)"), "on": pgettext("sensor", "active"),
                         "off": pgettext("sensor", "inactive"), "alarm": _("Alarm"), "noCoords": _("No coordinates on file."),
                         "othersWaiting": _("%(n)s other alarms waiting")}},
        "raised_ms": int(alarm.raised_at.timestamp() * 1000), "server_now": int(time.time() * 1000),
        "categories": [str(c) for c in elder.categories.all()],
        "absence": monitoring_selectors.absence_status(elder),   # why absence alarms may be quiet (#16)
    }
    return render(request, "callcenter/alarm.html", context)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_POST
def alarm_action(request, pk, action):
    selectors.get_alarm(request.user, pk)  # 404 outside the area
    p = request.POST
    try:
        if action == "call":
            callee, contact = p.get("callee", ""), p.get("contact")
            if p.get("callee_contact"):  # the screen pop's one select: "elder:", "contact:<id>", "doctor:"
                callee, _sep, contact = p["callee_contact"].partition(":")
            call = services.log_call(request.user, pk, callee, p.get("outcome", ""), contact_id=_int(contact),
                                     note=p.get("note", ""))
            messages.success(request, _("Call logged: %(call)s.") % {"call": call})
        elif action == "dispatch":
            d = services.dispatch(request.user, pk, p.get("target", ""), p.get("responder", ""), p.get("note", ""))
            messages.success(request, _("Dispatched: %(who)s.") % {"who": d})
        elif action == "arrived":
            d = Dispatch.objects.filter(pk=_int(p.get("dispatch")), alarm_id=pk).first()
            if d is None:
                raise Http404
            services.mark_arrived(request.user, d.pk)
        elif action == "note":
            services.add_note(request.user, pk, p.get("text", ""))
        elif action == "close":
            services.close(request.user, pk, p.get("closing_code", ""), p.get("note", ""),
                           unverified_reason=p.get("unverified_reason", ""))
            messages.success(request, _("Alarm closed. The family is told."))
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    return redirect("callcenter:alarm", pk=pk)


@needs("callcenter.console")
def alarm_list(request):
    """Handled alarms (history), newest first, within the user's area."""
    qs = Alarm.objects.visible_to(request.user).select_related("elder__resident", "division__parent", "acknowledged_by", "closed_by").order_by("-raised_at")
    status = request.GET.get("status", "")
    if status:
        qs = qs.filter(status=status)
    if list_export.wanted(request):
        return list_exports.alarms(request, qs, {"status": status})
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    rows = [(a, alarm_type_label(a.type), closing_label(a.closing_code) if a.closing_code else "") for a in page]
    return render(request, "callcenter/alarm_list.html", {"page": page, "rows": rows, "status": status,
                                                          "statuses": Alarm.Status.choices,
                                                          "query": f"status={status}" if status else ""})


# ---- care calls and inbound calls --------------------------------------------------------------------
@needs("callcenter.services")
def care(request):
    user = request.user
    if request.method == "POST":
        try:
            if request.POST.get("form") == "care_call":
                svc = services.record_care_call(user, _int(request.POST.get("service")), request.POST.get("outcome", ""),
                                                note=request.POST.get("note", ""),
                                                duration_s=_int(request.POST.get("duration_s")))
                messages.success(request, _("Care call recorded: %(s)s.") % {"s": svc.get_outcome_display()})
            elif request.POST.get("form") == "inbound":
                elder = get_elder(user, request.POST["elder"]) if request.POST.get("elder") else None
                services.log_inbound(user, request.POST.get("kind", ""), elder=elder,
                                     caller_name=request.POST.get("caller_name", ""),
                                     caller_phone=request.POST.get("caller_phone", ""),
                                     outcome=request.POST.get("outcome") or OnlineService.Outcome.ANSWERED,
                                     note=request.POST.get("note", ""), duration_s=_int(request.POST.get("duration_s")))
                messages.success(request, _("Call logged."))
            elif request.POST.get("form") == "schedule" and can(user, "callcenter.console"):
                n = services.schedule_care_calls(division=user.division if not user.is_superuser else None, actor=user)
                messages.success(request, _("%(n)d care calls planned.") % {"n": n})
        except (ValidationError, PermissionDenied, OnlineService.DoesNotExist) as exc:
            messages.error(request, _error_text(exc))
        return redirect("callcenter:care")
    today = timezone.localdate()
    due = (OnlineService.objects.visible_to(user).select_related("elder__resident", "division__parent", "operator").filter(kind=OnlineService.Kind.CARE_CALL, status=OnlineService.Status.PLANNED,
                                                      due_date__lte=today).order_by("due_date", "id"))
    due_page = Paginator(due, 25).get_page(request.GET.get("page"))
    recent = OnlineService.objects.visible_to(user).select_related("elder__resident", "division__parent", "operator").exclude(status=OnlineService.Status.PLANNED).order_by("-started_at", "-id")[:20]
    q = request.GET.get("q", "").strip()
    found = []
    if q:
        found = list(search_elders(user, q=q)[:10])
    return render(request, "callcenter/care.html", {
        "due": due_page, "recent": recent, "q": q, "found": found,
        "care_outcomes": [(k, v) for k, v in OnlineService.Outcome.choices if k in ("well", "follow_up", "no_answer")],
        "inbound_kinds": [(k, v) for k, v in OnlineService.Kind.choices if k in ("information", "comfort", "other")],
        "inbound_outcomes": [(k, OnlineService.Outcome(k).label) for k in ("answered", "referred", "follow_up")],
        "planned_total": due.count(),
    })


# ---- KPIs ----------------------------------------------------------------------------------------------
def _period(request) -> reports.Period:
    today = timezone.localdate()
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = today - dt.timedelta(days=29)
    try:
        end = dt.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end = today
    if end < start:
        start, end = end, start
    area = None
    if request.GET.get("area"):
        area = selectors.area_choices(request.user).filter(pk=_int(request.GET["area"])).first()
    return reports.Period(start, end, area)


@needs("callcenter.kpis")
def kpis(request):
    period = _period(request)
    r = reports.report(request.user, period)
    chart = {"by_day": [[d.isoformat(), n] for d, n in r["by_day"]], "by_type": r["by_type"], "by_area": r["by_area"]}
    return render(request, "callcenter/kpis.html", {
        "r": r, "period": period, "areas": selectors.area_choices(request.user), "chart": chart,
        "query": request.GET.urlencode(),
    })


@needs("callcenter.kpis")
def kpis_export(request):
    period = _period(request)
    data = reports.excel(request.user, period)
    audit.record(AuditLog.Action.EXPORT, actor=request.user, model="callcenter.kpi",
                 object_repr=f"KPIs {period.start}–{period.end}", division_path=period.area.path if period.area else "")
    resp = HttpResponse(data, content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="callcenter-kpis-{period.start}-{period.end}.xlsx"'
    return resp

