from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from carenet.core import audit, imports, pii
from carenet.core.models import ImportUpload
from carenet.core.tabular import FileError, MappingNeeded, layout, read_file
from carenet.core.models import AuditLog, Division
from carenet.core.roles import can
from carenet.matching import models as m
from carenet.matching import services
from carenet.matching.importers import DeptImporter
from carenet.matching.engine.integrity import RULE_LABELS_ZH


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _need(request, cap):
    if not can(request.user, cap):
        raise PermissionDenied(cap)


def _get(qs, pk):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


@login_required
def datasets(request):
    _need(request, "matching.view")
    sources = m.Source.objects.visible_to(request.user)
    if request.method == "POST":
        _need(request, "matching.load")
        try:
            if request.POST.get("new_source"):
                div = _get(Division.objects.visible_to(request.user), request.POST.get("division") or request.user.division_id)
                name = request.POST.get("name", "").strip()
                if not name or request.POST.get("kind") not in m.FIELDS:
                    raise services.MatchingError(_("Give the source a name and a kind."))
                services.create_source(request.user, name=name, kind=request.POST["kind"],
                                       department=request.POST.get("department", "").strip(), division=div)
                messages.success(request, _("Source added."))
            else:
                src = _get(sources, request.POST.get("source"))
                upload = request.FILES.get("file")
                if upload is None:
                    raise services.MatchingError(_("Choose a file."))
                data = upload.read()
                try:
                    load = services.load_file(request.user, src, data, upload.name)
                except MappingNeeded as exc:
                    staged = imports.stage(DeptImporter(src), request.user, upload.name, data)
                    messages.warning(request, str(exc))
                    return redirect("matching:mapping", src.pk, staged.pk)
                messages.success(request, _("Loaded version %(v)s: %(a)s of %(n)s rows accepted, %(l)s linked to residents.")
                                 % {"v": load.version, "a": load.accepted, "n": load.rows, "l": load.linked})
                return redirect("matching:load", load.pk)
        except services.MatchingError as exc:
            messages.error(request, str(exc))
        return redirect("matching:datasets")
    loads = m.Load.objects.visible_to(request.user).select_related("source", "loaded_by")[:50]
    return render(request, "matching/datasets.html", {
        "sources": sources, "loads": loads, "kinds": m.Kind.choices,
        "divisions": Division.objects.visible_to(request.user).filter(level__in=[Division.Level.DISTRICT, Division.Level.STREET])})


@login_required
def load_detail(request, pk):
    _need(request, "matching.view")
    load = _get(m.Load.objects.visible_to(request.user).select_related("source", "loaded_by"), pk)
    records = load.records.select_related("resident")[:500]
    return render(request, "matching/load.html", {"load": load, "records": records})


def _findings_qs(request):
    qs = m.Finding.objects.visible_to(request.user).select_related("resident", "division", "case")
    st = request.GET.get("status", "")
    if st:
        qs = qs.filter(status=st)
    return qs, st


@login_required
def findings(request):
    _need(request, "matching.view")
    qs, st = _findings_qs(request)
    if request.GET.get("export") == "xlsx":
        import openpyxl

        from carenet.core import exports  # no formulas out of names or summaries

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "核查发现"
        exports.append(ws, ["编号", "规则", "姓名", "身份证号", "社区", "摘要", "金额", "状态", "决定理由"])
        for f in qs:
            exports.append(ws, [f.pk, RULE_LABELS_ZH.get(f.rule, f.rule), f.resident.name, f.resident.id_masked,
                       f.division.name, f.summary, float(f.amount), f.get_status_display(), f.reason])
        buf = io.BytesIO()
        wb.save(buf)
        audit.record(AuditLog.Action.EXPORT, actor=request.user, model="matching.finding",
                     division_path=getattr(request.user.division, "path", ""), note=f"findings {qs.count()}")
        resp = HttpResponse(buf.getvalue(), content_type=XLSX)
        resp["Content-Disposition"] = 'attachment; filename="findings.xlsx"'
        return resp
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [(f, RULE_LABELS_ZH.get(f.rule, f.rule)) for f in page]
    return render(request, "matching/findings.html", {"page": page, "rows": rows, "status": st,
                                                      "statuses": m.Finding.Status.choices})


@login_required
def finding_detail(request, pk):
    _need(request, "matching.view")
    f = _get(m.Finding.objects.visible_to(request.user).select_related("resident", "division", "case",
                                                                        "investigated_by", "decided_by"), pk)
    if request.method == "POST":
        try:
            action = request.POST.get("action")
            if action == "hold":
                services.hold_while_investigating(request.user, f, reason=request.POST.get("hold_reason", ""))
            elif action == "investigate":
                services.investigate(request.user, f, notes=request.POST.get("notes", ""))
            elif action in ("confirm", "dismiss"):
                services.decide(request.user, f, confirm=action == "confirm", reason=request.POST.get("reason", ""))
            messages.success(request, _("Saved."))
        except services.MatchingError as exc:
            messages.error(request, str(exc))
        return redirect("matching:finding", f.pk)
    return render(request, "matching/finding.html", {
        "f": f, "rule": RULE_LABELS_ZH.get(f.rule, f.rule), "recovery": m.Recovery.objects.filter(finding=f).first(),
        "can_investigate": can(request.user, "matching.investigate"), "can_decide": can(request.user, "matching.decide"),
        "holds": services.holds_of(f),
        "open": f.status in (m.Finding.Status.OPEN, m.Finding.Status.INVESTIGATING)})


@login_required
def recoveries(request):
    _need(request, "matching.view")
    qs = m.Recovery.objects.visible_to(request.user).select_related("finding__resident", "division", "case")
    if request.method == "POST":
        rec = _get(qs, request.POST.get("recovery"))
        try:
            import datetime as dt

            paid_on = dt.date.fromisoformat(request.POST.get("paid_on", ""))
            services.record_repayment(request.user, rec, amount=request.POST.get("amount", ""), paid_on=paid_on,
                                      note=request.POST.get("note", ""))
            messages.success(request, _("Repayment recorded."))
        except ValueError:
            messages.error(request, _("Enter the date paid."))
        except services.MatchingError as exc:
            messages.error(request, str(exc))
        return redirect("matching:recoveries")
    return render(request, "matching/recoveries.html", {"rows": qs})


@login_required
def review(request):
    """Uncertain pairs side by side; the score can be hidden so it does not sway the reviewer."""
    _need(request, "matching.view")
    qs = m.ReviewPair.objects.visible_to(request.user).select_related("record__load__source", "resident__division")
    if "hide_score" in request.GET:
        request.session["matching_hide_score"] = request.GET["hide_score"] == "1"
    hide = request.session.get("matching_hide_score", False)
    if request.method == "POST":
        pair = _get(qs, request.POST.get("pair"))
        try:
            services.decide_pair(request.user, pair, same_person=request.POST.get("answer") == "same")
            messages.success(request, _("Decision recorded."))
        except services.MatchingError as exc:
            messages.error(request, str(exc))
        return redirect("matching:review")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "matching/review.html", {"page": page, "hide": hide,
                                                    "can_decide": can(request.user, "matching.investigate")})


@login_required
def mapping(request, pk, upload):
    """The mapping screen of a source: which column of the file feeds which field. Saved for the source (every
    later file with the same headers uses it), then the staged file is loaded."""
    _need(request, "matching.load")
    src = _get(m.Source.objects.visible_to(request.user), pk)
    importer = DeptImporter(src)
    staged = _get(ImportUpload.objects.filter(user=request.user, importer=importer.key), upload)
    data = pii.decrypt_bytes(staged.data_enc)
    try:
        layouts = [lay for sheet in read_file(data, staged.filename) if (lay := layout(sheet, importer.schema))]
    except FileError as exc:
        messages.error(request, str(exc))
        return redirect("matching:datasets")
    headers = list(dict.fromkeys(h for lay in layouts for h in lay.headers if h))
    if request.method == "POST":
        chosen = {h: request.POST.get(f"col{i}", "") for i, h in enumerate(headers)}
        try:
            load = services.load_staged(request.user, src, staged, mapping=chosen)
        except MappingNeeded as exc:
            messages.error(request, str(exc))
            return redirect("matching:mapping", src.pk, staged.pk)
        except services.MatchingError as exc:
            messages.error(request, str(exc))
            return redirect("matching:datasets")
        messages.success(request, _("Loaded version %(v)s: %(a)s of %(n)s rows accepted, %(l)s linked to residents.")
                         % {"v": load.version, "a": load.accepted, "n": load.rows, "l": load.linked})
        return redirect("matching:load", load.pk)
    current = {}
    for lay in layouts:
        current.update({lay.headers[i]: k for i, k in lay.fields.items()})
    fields = [(c.key, c.label, c.required) for c in importer.schema.columns]
    rows = [(i, h, current.get(h, "")) for i, h in enumerate(headers)]
    return render(request, "matching/mapping.html", {"src": src, "rows": rows, "fields": fields,
                                                     "missing": sorted({x for lay in layouts for x in lay.missing})})
