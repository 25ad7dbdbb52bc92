"""Supervision center (/supervision/) and the district big screen (/bigscreen/). Read-only."""
from __future__ import annotations

import io

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import needs
from carenet.core.scoping import user_subtree_q
from carenet.facilities import models as fm
from carenet.facilities import selectors as fsel
from carenet.supervision import selectors as sel

ORDERS = ("score", "findings", "occupancy", "name")


def _filters(request):
    f = {k: request.GET.get(k, "").strip() for k in ("type", "division", "order")}
    f["status"] = request.GET.get("status", "operating").strip()
    if f["type"] not in fm.FacilityType.values:
        f["type"] = ""
    if f["status"] not in fm.Facility.Status.values:
        f["status"] = ""
    if f["order"] not in ORDERS:
        f["order"] = "score"
    return f


@needs("supervision.view")
def home(request):
    f = _filters(request)
    rows = sel.ranking(request.user, type_=f["type"], division=f["division"], status=f["status"], order=f["order"])
    streets = Division.objects.filter(user_subtree_q(request.user, "path"), level=2)
    return render(request, "supervision/home.html", {
        "rows": rows, "f": f, "types": fm.FacilityType.choices, "statuses": fm.Facility.Status.choices,
        "streets": streets, "providers": sel.providers(request.user)[:15],
        "overdue": sum(1 for r in rows if r["overdue"]), "open_findings": sum(r["open_findings"] for r in rows)})


@needs("supervision.view", "supervision.export")
def export(request):
    from openpyxl import Workbook

    from carenet.core.exports import append as xlsx_append  # no formulas out of what people typed

    f = _filters(request)
    rows = sel.ranking(request.user, type_=f["type"], division=f["division"], status=f["status"], order=f["order"])
    wb = Workbook()
    ws = wb.active
    ws.title = "排名"
    xlsx_append(ws, ["名次", "设施", "类型", "所属区划", "状态", "评估得分", "评估日期", "超期未评估", "年度运营补贴（元）",
               "床位", "在住", "入住率", "护理人员", "护理人员配比（在住:护理员）", "未销号问题", "未办结投诉", "运营方"])
    for i, r in enumerate(rows, 1):
        x = r["facility"]
        xlsx_append(ws, [i, x.name, x.get_type_display(), x.division.name, x.get_status_display(),
                   float(r["score"]) if r["score"] is not None else None, r["evaluated_on"], "是" if r["overdue"] else "否",
                   float(r["subsidy"]) if r["subsidy"] is not None else None, x.beds, r["occupied"],
                   round(r["occupancy"], 4) if r["occupancy"] is not None else None, r["care_staff"], r["ratio"],
                   r["open_findings"], r["complaints"], x.operator])
    buf = io.BytesIO()
    wb.save(buf)
    audit.record(AuditLog.Action.EXPORT, actor=request.user, model="facilities.facility", note=f"supervision ranking {len(rows)} rows",
                 division_path=request.user.division.path if request.user.division_id else "")
    resp = HttpResponse(buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = f'attachment; filename="facility-ranking-{timezone.localdate():%Y%m%d}.xlsx"'
    return resp


@needs("supervision.view")
def facility(request, pk):
    fac = fsel.get_facility(request.user, pk)
    from carenet.monitoring.labels import alarm_type_label
    panel = sel.facility_panel(request.user, fac)
    alarms = [(a, alarm_type_label(a.type)) for a in panel["recent_alarms"]]
    return render(request, "supervision/facility.html", {"fac": fac, "p": panel, "alarms": alarms})


@needs("supervision.view")
def provider(request):
    name = request.GET.get("name", "")
    rows = [r for r in sel.ranking(request.user, status="") if (r["facility"].operator or "—") == name]
    return render(request, "supervision/provider.html", {"name": name, "rows": rows,
                                                          "homecare": sel._homecare_anomalies(request.user, provider=name)})


@needs("bigscreen.view")
def bigscreen(request):
    from django.templatetags.static import static
    from django.urls import reverse
    from django.utils.translation import gettext as _

    # Read by static/supervision/bigscreen.js (the CSP forbids inline script).
    config = {"geojson": static("supervision/district.geojson"), "data": reverse("supervision:bigscreen_data"),
              "labels": {"occupied": _("Occupied"), "beds": _("Beds"), "facilities": _("Facilities"),
                         "none": _("No active alarms"), "ack": _("median to acknowledge"), "close": _("to close"),
                         "min": _("min")}}
    return render(request, "supervision/bigscreen.html", {"bigscreen_config": config})


@never_cache
@needs("bigscreen.view")
def bigscreen_data(request):
    return JsonResponse(sel.bigscreen_data(request.user), json_dumps_params={"ensure_ascii": False})
