from __future__ import annotations

import datetime as dt
import io
import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carenet.core import exports  # no formulas out of what people typed (issue 9 §2)
from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.permissions import Denied, needs
from carenet.core.roles import can
from carenet.homecare import forms as f
from carenet.homecare import jobs, selectors, services
from carenet.homecare import models as m
from carenet.homecare.engine import orders as eo
from carenet.homecare.engine import settlement as es
from carenet.people.models import ElderProfile
from carenet.people.selectors import get_elder

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(filename: str, title: str, head: list, rows) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "".join("、" if ch in '[]:*?/\\' else ch for ch in str(title))[:30]
    exports.append(ws, head)
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows:
        exports.append(ws, list(r))
    buf = io.BytesIO()
    wb.save(buf)
    resp = HttpResponse(buf.getvalue(), content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def _month(value: str | None, default: dt.date) -> dt.date:
    try:
        y, mth = (value or "").split("-")[:2]
        return dt.date(int(y), int(mth), 1)
    except ValueError:
        return default.replace(day=1)


def _span(request):
    today = timezone.localdate()
    month = _month(request.GET.get("month"), today)
    tz = timezone.get_current_timezone()
    return month, dt.datetime.combine(month, dt.time.min, tz), dt.datetime.combine(es.next_month(month), dt.time.min, tz)


# ------------------------------------------------------------------ orders (staff)

def _filtered_orders(request):
    qs = selectors.orders_visible_to(request.user).select_related("elder__resident__division", "service_type", "helper", "provider")
    flt = {k: request.GET.get(k, "").strip() for k in ("q", "state", "when", "provider", "service")}
    if flt["q"]:
        qs = qs.filter(Q(elder__resident__name__contains=flt["q"]) | Q(elder__resident__phone__contains=flt["q"]))
    if flt["state"] in m.Order.State.values:
        qs = qs.filter(state=flt["state"])
    if flt["when"] in (eo.DUE, eo.OVERDUE):
        qs = selectors.filter_timeliness(qs, flt["when"])
    if flt["provider"].isdigit():
        qs = qs.filter(provider_id=int(flt["provider"]))
    if flt["service"]:
        qs = qs.filter(service_type__code=flt["service"])
    return qs, flt


@needs("homecare.view")
def order_list(request):
    qs, flt = _filtered_orders(request)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(o, selectors.timeliness_of(o, now)) for o in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "homecare/order_list.html", {
        "page": page, "rows": rows, "flt": flt, "states": m.Order.State.choices, "query": query.urlencode(),
        "providers": selectors.providers_visible_to(request.user), "services": m.ServiceType.objects.all(),
        "counts": {"due": selectors.filter_timeliness(selectors.orders_visible_to(request.user), eo.DUE).count(),
                   "overdue": selectors.filter_timeliness(selectors.orders_visible_to(request.user), eo.OVERDUE).count()},
    })


@needs("homecare.view")
def order_export(request):
    qs, _flt = _filtered_orders(request)
    audit.record(AuditLog.Action.EXPORT, actor=request.user, model="homecare.order", object_repr="orders export",
                 division_path=request.user.division.path if request.user.division_id else "")
    now = timezone.now()
    labels = {eo.DUE: _("due"), eo.OVERDUE: _("overdue"), eo.ON_TIME: ""}
    rows = ((o.pk, o.elder.resident.name, o.elder.resident.division.name, o.service_type.name,
             timezone.localtime(o.scheduled_at).strftime("%Y-%m-%d %H:%M"), o.get_state_display(),
             labels[selectors.timeliness_of(o, now)], o.provider.name if o.provider else "", o.helper.name if o.helper else "",
             o.price, o.subsidy, o.self_pay, o.get_channel_display(),
             timezone.localtime(o.checked_in_at).strftime("%Y-%m-%d %H:%M") if o.checked_in_at else "",
             timezone.localtime(o.checked_out_at).strftime("%Y-%m-%d %H:%M") if o.checked_out_at else "", o.reason)
            for o in qs[:50000])
    return _xlsx("homecare-orders.xlsx", _("Orders"), [
        _("Order"), _("Elder"), _("Area"), _("Service"), _("Scheduled for"), _("State"), _("Due / overdue"), _("Provider"),
        _("Helper"), _("Price"), _("Subsidy"), _("Self-paid"), _("Channel"), _("Checked in"), _("Checked out"), _("Reason")], rows)


def _elder_context(request, elder):
    month = timezone.localdate().replace(day=1)
    bal = services.balance_of(elder, month)
    recent = selectors.orders_visible_to(request.user).filter(elder=elder).select_related("service_type", "helper")[:8]
    return {"elder": elder, "r": elder.resident, "balance": bal, "recent": recent, "month": month}


@needs("homecare.order")
def order_new(request):
    elder_id = request.GET.get("elder") or request.POST.get("elder")
    if not (elder_id or "").isdigit():
        return redirect("homecare:inbound")
    elder = get_elder(request.user, int(elder_id))
    alarm_id = request.GET.get("alarm") or request.POST.get("alarm") or ""
    helpers = m.Helper.objects.filter(active=True).select_related("provider")
    form = f.OrderForm(request.POST or None, helpers=helpers)
    ranked = []
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        channel = m.Order.Channel.SCREEN_POP if alarm_id.isdigit() else (
            m.Order.Channel.CALL if can(request.user, "homecare.dispatch") else m.Order.Channel.WORKER)
        try:
            order = services.create_order(request.user, elder=elder, service_type=d["service_type"],
                                          scheduled_at=d["scheduled_at"], minutes=d["minutes"], channel=channel,
                                          notes=d["notes"], alarm_id=int(alarm_id) if alarm_id.isdigit() else None,
                                          helper=d["helper"], self_pay_consent=d["self_pay_consent"])
        except services.HomecareError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Order %(id)s created: %(state)s.") % {"id": order.pk, "state": order.get_state_display()})
            return redirect("homecare:order", pk=order.pk)
    if form.is_bound and form.is_valid() or not form.is_bound:
        st = form.cleaned_data.get("service_type") if form.is_bound else m.ServiceType.objects.filter(active=True).first()
        when = form.cleaned_data.get("scheduled_at") if form.is_bound else form.initial["scheduled_at"]
        if st and when:
            minutes = (form.cleaned_data.get("minutes") if form.is_bound else None) or st.min_minutes
            ranked = _labelled(services.candidates(elder, st, when, minutes)[:8])
    ctx = _elder_context(request, elder)
    ctx.update({"form": form, "alarm_id": alarm_id, "ranked": ranked})
    return render(request, "homecare/order_new.html", ctx)


REASONS = {"contract": "合同不在有效期", "provider_area": "服务商不覆盖该区域", "skill": "无此项技能",
           "area": "不在服务区域", "hours": "不在工作时间", "busy": "该时段已有任务"}


def _labelled(ranked):
    return [(h, [REASONS.get(w, w) for w in why]) for h, why in ranked]


@needs("homecare.view")
def order_detail(request, pk):
    o = selectors.get_order(request.user, pk)
    ranked = []
    if can(request.user, "homecare.dispatch") and o.state in (eo.CREATED, eo.ASSIGNED, eo.ACCEPTED):
        ranked = _labelled(services.candidates(o.elder, o.service_type, o.scheduled_at, o.minutes, exclude_order=o.pk)[:8])
    return render(request, "homecare/order_detail.html", {
        "o": o, "r": o.elder.resident, "events": o.events.select_related("actor"), "photos": o.photos.all(),
        "anomalies": o.anomalies.all(), "evv": o.evv, "timeliness": selectors.timeliness_of(o), "ranked": ranked,
        "lines": o.settlement_lines.select_related("run"),
        "can_order": can(request.user, "homecare.order"),
    })


@require_POST
@needs("homecare.view")
def order_action(request, pk, action):
    o = selectors.get_order(request.user, pk)
    try:
        if action == "assign":
            helper = m.Helper.objects.filter(pk=request.POST.get("helper") or 0).first()
            if helper is None:
                raise services.HomecareError(_("Choose a helper."))
            services.assign(request.user, o, helper)
        elif action in ("cancel", "fail"):
            services.cancel(request.user, o, reason=request.POST.get("reason", ""), fail=action == "fail")
        elif action == "confirm":
            services.confirm(request.user, o, confirmed_by=request.POST.get("confirmed_by", ""),
                             rating=request.POST.get("rating") or None)
        else:
            raise Http404("unknown action")
    except services.HomecareError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("homecare:order", pk=o.pk)


@needs("homecare.order")
def inbound(request):
    """The inbound-call page: find the caller by phone or name, see the balance, order a service."""
    q = request.GET.get("q", "").strip()
    elders = []
    if q:
        elders = list(ElderProfile.objects.visible_to(request.user).filter(
            Q(resident__phone__contains=q) | Q(resident__name__contains=q) | Q(contacts__phone__contains=q))
            .select_related("resident__division").distinct()[:20])
    chosen = None
    if request.GET.get("elder", "").isdigit():
        chosen = _elder_context(request, get_elder(request.user, int(request.GET["elder"])))
    elif len(elders) == 1:
        chosen = _elder_context(request, elders[0])
    return render(request, "homecare/inbound.html", {"q": q, "elders": elders, "chosen": chosen})


# ------------------------------------------------------------------ the helper's phone (H5)

@needs("homecare.work")
def phone_tasks(request):
    tasks = selectors.helper_tasks(request.user)
    helper = m.Helper.objects.filter(user=request.user).first()
    now = timezone.now()
    return render(request, "homecare/phone_tasks.html", {
        "tasks": [(o, selectors.timeliness_of(o, now)) for o in tasks], "helper": helper, "today": timezone.localdate()})


@needs("homecare.work")
def phone_task(request, pk):
    o = selectors.get_order(request.user, pk)
    r = o.elder.resident
    contacts = list(o.elder.contacts.all())
    radius = services.geofence_m(o.division, timezone.localdate())
    return render(request, "homecare/phone_task.html", {
        "o": o, "r": r, "contacts": contacts, "radius": radius,
        "actions": eo.actions_from(o.state, eo.HELPER),
        "cfg": {"act": reverse("homecare:phone_act", args=[o.pk]), "orderId": o.pk, "state": o.state,
                "home": [r.lat, r.lon] if r.lat is not None else None, "radius": radius},
    })


@require_POST
@needs("homecare.work")
def phone_act(request, pk):
    """One step from the phone, as JSON. A queued offline step carries its original time (client_ts) and a
    client_uuid, so a replay is harmless. Errors answer 400 with the reason in Chinese (the phone shows it and
    drops the step); only a network failure keeps a step in the phone's queue."""
    try:
        o = selectors.get_order(request.user, pk)
    except Http404:
        return JsonResponse({"ok": False, "error": _("This task is not yours or no longer exists.")}, status=404)
    try:
        data = json.loads(request.body or b"{}")
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        return JsonResponse({"ok": False, "error": _("The phone sent an unreadable request.")}, status=400)
    action = data.get("action")
    kw = {"client_uuid": (str(data.get("client_uuid") or "")[:40] or None)}
    try:
        if action in ("accept", "depart", "decline"):
            at, offline = services.client_time(data.get("client_ts"), timezone.now())
            o = services.helper_step(request.user, o, action, reason=str(data.get("reason", "")),
                                     at=at if offline else None, **kw)
        elif action == "check_in":
            o = services.check_in(request.user, o, lat=data.get("lat"), lon=data.get("lon"),
                                  client_ts=data.get("client_ts"), photo=data.get("photo"), **kw)
        elif action == "check_out":
            o = services.check_out(request.user, o, lat=data.get("lat"), lon=data.get("lon"),
                                   client_ts=data.get("client_ts"), photo=data.get("photo"),
                                   record=str(data.get("record", "")), confirmed_by=str(data.get("confirmed_by", "")),
                                   rating=data.get("rating"), **kw)
        else:
            return JsonResponse({"ok": False, "error": _("Unknown step.")}, status=400)
    except services.HomecareError as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=400)
    except Denied:
        return JsonResponse({"ok": False, "error": _("You may not do this.")}, status=403)
    o.refresh_from_db()
    return JsonResponse({"ok": True, "state": o.state, "state_label": o.get_state_display(),
                         "distance_m": o.check_in_distance_m,
                         "anomalies": [str(a.get_kind_display()) for a in o.anomalies.all()]})


@needs("homecare.view")
def photo(request, pk):
    p = m.VisitPhoto.objects.filter(pk=pk).first()
    if p is None or not selectors.orders_visible_to(request.user).filter(pk=p.order_id).exists():
        raise Http404("photo not found")
    resp = FileResponse(p.file.open("rb"), content_type=p.content_type if p.content_type in services.PHOTO_TYPES
                        else "application/octet-stream")
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "sandbox"
    return resp


# ------------------------------------------------------------------ anomalies

def _anomalies(request):
    qs = selectors.anomalies_visible_to(request.user)
    status = request.GET.get("status", "open")
    if status in m.Anomaly.Status.values:
        qs = qs.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in m.Anomaly.Kind.values:
        qs = qs.filter(kind=kind)
    return qs, status, kind


@needs("homecare.anomalies")
def anomaly_list(request):
    qs, status, kind = _anomalies(request)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "homecare/anomalies.html", {
        "page": page, "status": status, "kind": kind, "kinds": m.Anomaly.Kind.choices,
        "statuses": m.Anomaly.Status.choices, "can_resolve": can(request.user, "homecare.resolve")})


@needs("homecare.anomalies")
def anomaly_export(request):
    qs, _s, _k = _anomalies(request)
    audit.record(AuditLog.Action.EXPORT, actor=request.user, model="homecare.anomaly", object_repr="anomalies export")
    rows = ((a.pk, timezone.localtime(a.created).strftime("%Y-%m-%d %H:%M"), a.get_kind_display(), a.detail, a.order_id,
             a.order.elder.resident.name, a.order.service_type.name, a.order.provider.name if a.order.provider else "",
             a.order.helper.name if a.order.helper else "", a.get_status_display(), a.resolution) for a in qs[:50000])
    return _xlsx("homecare-anomalies.xlsx", _("Anomalies"), [_("No."), _("Flagged"), _("Kind"), _("Detail"), _("Order"), _("Elder"),
                 _("Service"), _("Provider"), _("Helper"), _("Status"), _("Resolution")], rows)


@require_POST
@needs("homecare.resolve")
def anomaly_decide(request, pk):
    a = selectors.anomalies_visible_to(request.user).filter(pk=pk).first()
    if a is None:
        raise Http404("anomaly not found")
    try:
        services.resolve_anomaly(request.user, a, upheld=request.POST.get("decision") == "upheld",
                                 note=request.POST.get("note", ""))
    except services.HomecareError as exc:
        messages.error(request, str(exc))
    return redirect(reverse("homecare:anomalies") + "?status=open")


# ------------------------------------------------------------------ settlement

@needs("homecare.statements")
def settlement(request):
    if request.method == "POST":
        month = _month(request.POST.get("month"), timezone.localdate())
        try:
            run = jobs.start(request.user, month)
        except Denied:
            raise
        if run.status in (m.SettlementRun.Status.QUEUED, m.SettlementRun.Status.FAILED):
            jobs.requeue(run)
            jobs.launch(run)
        else:
            messages.info(request, _("%(month)s is already settled; corrections go to the next month.") % {"month": f"{month:%Y-%m}"})
        return redirect("homecare:settlement_run", pk=run.pk)
    return render(request, "homecare/settlement.html", {
        "runs": selectors.runs(), "default_month": f"{timezone.localdate():%Y-%m}",
        "can_settle": can(request.user, "homecare.settle")})


@needs("homecare.statements")
def settlement_run(request, pk):
    run = m.SettlementRun.objects.filter(pk=pk).first()
    if run is None:
        raise Http404("run not found")
    if request.headers.get("HX-Request"):
        return render(request, "homecare/_run_progress.html", {"run": run})
    lines = selectors.statement_lines(request.user, run)
    problems = lines.exclude(status="accepted").select_related("order__service_type", "elder__resident", "provider")[:200]
    adjustments = lines.filter(kind="adjustment").select_related("elder__resident", "provider")[:200]
    return render(request, "homecare/settlement_run.html", {
        "run": run, "totals": selectors.statement_totals(lines), "problems": problems, "adjustments": adjustments})


@needs("homecare.statements")
def statement_export(request, pk):
    run = m.SettlementRun.objects.filter(pk=pk, status=m.SettlementRun.Status.DONE).first()
    if run is None:
        raise Http404("run not found")
    provider = m.Provider.objects.filter(pk=request.GET.get("provider") or 0).first()
    lines = selectors.statement_lines(request.user, run, provider).select_related(
        "order__service_type", "elder__resident", "provider").order_by("provider__name", "kind", "order_id")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = _("Statement")
    exports.append(ws, [_("Home-care settlement statement"), f"{run.month:%Y-%m}", provider.name if provider else _("All providers")])
    exports.append(ws, [])
    for t in selectors.statement_totals(lines):
        exports.append(ws, [t["provider__name"], _("lines"), t["lines"], _("subsidy (yuan)"), t["subsidy"], _("self-paid (yuan)"),
                   t["self_pay"], _("disputed"), t["disputed"], _("rejected"), t["rejected"], _("adjustments"), t["adjustments"]])
    exports.append(ws, [])
    head = [_("Provider"), _("Kind"), _("Status"), _("Order"), _("Service"), _("Elder"), _("Service month"), _("Checked out"),
            _("Price"), _("Subsidy"), _("Self-paid"), _("Reason")]
    exports.append(ws, head)
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    kinds, statuses = dict(m.SettlementLine.Kind.choices), dict(m.SettlementLine.Status.choices)
    for ln in lines.iterator(chunk_size=5000):
        o = ln.order
        exports.append(ws, [ln.provider.name, str(kinds[ln.kind]), str(statuses[ln.status]), ln.order_id,
                   o.service_type.name if o else "", ln.elder.resident.name, f"{ln.service_month:%Y-%m}",
                   timezone.localtime(o.checked_out_at).strftime("%Y-%m-%d %H:%M") if o and o.checked_out_at else "",
                   ln.price, ln.subsidy, ln.self_pay, ln.reason])
    buf = io.BytesIO()
    wb.save(buf)
    audit.record(AuditLog.Action.EXPORT, run, actor=request.user, note=f"homecare.statement {provider.pk if provider else 'all'}")
    resp = HttpResponse(buf.getvalue(), content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="homecare-statement-{run.month:%Y-%m}.xlsx"'
    return resp
