"""Pages of dynamic monitoring (risk list, alert follow-up, figures) and targeted discovery (screens, lists,
household plans). Reads here, writes through monitoring.py / discovery.py."""
from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from carenet.assistance import models as am
from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.core.roles import can
from carenet.matching import discovery, monitoring
from carenet.matching import models as m
from carenet.matching.engine import risk, screens
from carenet.matching.errors import MatchingError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _need_any(request, *caps):
    if not any(can(request.user, c) for c in caps):
        raise PermissionDenied(caps[0])


def _get(qs, pk):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        raise MatchingError(_("Enter a date as YYYY-MM-DD.")) from None


def _xlsx(request, title: str, header: list, rows: list, model: str, name: str) -> HttpResponse:
    import openpyxl

    from carenet.core import exports

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    exports.append(ws, header)
    for r in rows:
        exports.append(ws, r)
    buf = io.BytesIO()
    wb.save(buf)
    audit.record(AuditLog.Action.EXPORT, actor=request.user, model=model,
                 division_path=getattr(request.user.division, "path", ""), note=f"{name} {len(rows)}")
    resp = HttpResponse(buf.getvalue(), content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return resp


@login_required
def risk_list(request):
    _need_any(request, "matching.view", "matching.monitor")
    qs = m.RiskAlert.objects.visible_to(request.user).select_related("resident", "division", "assigned_to")
    st, sig = request.GET.get("status", ""), request.GET.get("signal", "")
    if st == "open":
        qs = qs.filter(status__in=monitoring.OPEN)
    elif st:
        qs = qs.filter(status=st)
    if sig in risk.SIGNAL_LABELS_ZH:
        # JSON containment is not portable to SQLite: filter the (few) alerts' signal lists here
        qs = qs.filter(pk__in=[pk for pk, sigs in qs.values_list("pk", "signals") if sig in sigs])
    day = monitoring.today()
    if request.GET.get("export") == "xlsx":
        rows = [[a.pk, a.resident.name, a.resident.id_masked, a.division.name, a.score,
                 "；".join(r["text"] for r in a.reasons), a.get_status_display(), a.deadline.isoformat(),
                 a.assigned_to.display_name if a.assigned_to else "", a.outcome_note] for a in qs]
        return _xlsx(request, "动态监测", ["编号", "姓名", "身份证号", "社区", "风险分", "风险原因", "状态", "走访期限",
                                       "网格员", "处置结果"], rows, "matching.riskalert", "risk-alerts")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    signals, fig = monitoring.figures(request.user)
    return render(request, "matching/risk.html", {
        "page": page, "status": st, "signal": sig, "statuses": m.RiskAlert.Status.choices, "today": day,
        "signal_labels": list(risk.SIGNAL_LABELS_ZH.items()), "figure_signals": [risk.SIGNAL_LABELS_ZH[s] for s in signals],
        "figures": [(r["street"], [r[s] for s in signals], r["total"], r["open"], r["overdue"]) for r in fig],
        "rules": risk.explain_rules(risk.rules_on(day))})


@login_required
def alert_detail(request, pk):
    _need_any(request, "matching.view", "matching.monitor")
    a = _get(m.RiskAlert.objects.visible_to(request.user).select_related("resident", "division", "assigned_to", "case"), pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "visit":
                monitoring.record_visit(request.user, a, visited_on=_date(request.POST.get("visited_on", "")),
                                        notes=request.POST.get("notes", ""))
            elif action == "admit":
                monitoring.admit(request.user, a, program=request.POST.get("program", ""), reason=request.POST.get("reason", ""))
            elif action == "refer":
                monitoring.refer(request.user, a, department=request.POST.get("department", ""), need=request.POST.get("need", ""))
            elif action == "no_need":
                monitoring.no_need(request.user, a, reason=request.POST.get("reason", ""))
            else:
                raise MatchingError(_("Unknown action."))
            messages.success(request, _("Saved."))
        except MatchingError as exc:
            messages.error(request, str(exc))
        return redirect("matching:alert", a.pk)
    return render(request, "matching/alert.html", {
        "a": a, "overdue": monitoring.overdue(a), "can_act": can(request.user, "matching.monitor") and a.is_open,
        "programs": [(v, lbl) for v, lbl in am.Program.choices if v not in (am.Program.ELDERLY,)],
        "today": monitoring.today()})


@login_required
def screens_page(request):
    _need_any(request, "matching.view", "matching.monitor")
    if request.method == "POST":
        try:
            div = _get(Division.objects.visible_to(request.user), request.POST.get("division") or request.user.division_id)
            run = discovery.run_screen(request.user, code=request.POST.get("screen", ""), params=request.POST.dict(),
                                       division=div)
            messages.success(request, _("%(found)s households found, %(new)s new on the list.") % {"found": run.found, "new": run.new})
        except MatchingError as exc:
            messages.error(request, str(exc))
        return redirect("matching:screens")
    items = m.Discovery.objects.visible_to(request.user).select_related("resident", "division")
    st = request.GET.get("status", "")
    if st:
        items = items.filter(status=st)
    titles = {k: s.title for k, s in screens.SCREENS.items()}
    if request.GET.get("export") == "xlsx":
        rows = [[d.pk, titles.get(d.screen, d.screen), d.resident.name, d.resident.id_masked, d.division.name,
                 "；".join(d.evidence), d.get_status_display(), d.deadline.isoformat(), d.plan,
                 "；".join(f"{s.measure}（{s.owner}，{s.get_status_display()}）" for s in d.steps.all())] for d in items]
        return _xlsx(request, "精准识别", ["编号", "筛查", "姓名", "身份证号", "社区", "依据", "状态", "走访期限",
                                       "帮扶方案", "措施及进展"], rows, "matching.discovery", "discovery")
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "matching/screens.html", {
        "screens": list(screens.SCREENS.values()), "page": page, "titles": titles, "status": st,
        "statuses": m.Discovery.Status.choices, "can_run": can(request.user, "matching.screen"),
        "runs": m.ScreenRun.objects.visible_to(request.user).select_related("run_by")[:10],
        "divisions": Division.objects.visible_to(request.user).filter(level__lte=Division.Level.STREET),
        "today": monitoring.today()})


@login_required
def discovery_detail(request, pk):
    _need_any(request, "matching.view", "matching.monitor")
    d = _get(m.Discovery.objects.visible_to(request.user).select_related("resident", "division", "run"), pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action in ("visit", "no_need"):
                discovery.record_visit(request.user, d, visited_on=_date(request.POST.get("visited_on", "")),
                                       notes=request.POST.get("notes", ""), no_need=action == "no_need")
            elif action == "plan":
                discovery.set_plan(request.user, d, plan=request.POST.get("plan", ""))
            elif action == "step":
                discovery.add_step(request.user, d, measure=request.POST.get("measure", ""),
                                   owner=request.POST.get("owner", ""), due=_date(request.POST.get("due", "")))
            elif action == "step_status":
                step = _get(d.steps.all(), request.POST.get("step"))
                discovery.update_step(request.user, step, status=request.POST.get("status", ""), note=request.POST.get("note", ""))
            else:
                raise MatchingError(_("Unknown action."))
            messages.success(request, _("Saved."))
        except MatchingError as exc:
            messages.error(request, str(exc))
        return redirect("matching:discovery", d.pk)
    return render(request, "matching/discovery.html", {
        "d": d, "title": screens.SCREENS[d.screen].title if d.screen in screens.SCREENS else d.screen,
        "steps": d.steps.all(), "step_statuses": m.PlanStep.Status.choices, "today": monitoring.today(),
        "can_act": can(request.user, "matching.monitor") and d.status in discovery.OPEN})
