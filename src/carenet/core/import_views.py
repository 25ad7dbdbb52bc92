"""Staff pages of the shared import pipeline: upload → preview (→ mapping) → import → result.

One set of pages for every registered importer, at /imports/<key>/.
"""
from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carenet.core import audit, imports
from carenet.core.models import AuditLog, ColumnMapping, ImportRun, ImportUpload
from carenet.core.permissions import require
from carenet.core.tabular import IGNORE, FileError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 20 * 1024 * 1024


def _importer(request, key) -> imports.Importer:
    importer = imports.get(key)
    if importer is None:
        raise Http404
    require(request.user, importer.capability)
    return importer


def _upload(request, importer, pk) -> ImportUpload:
    return get_object_or_404(ImportUpload, pk=pk, importer=importer.key, user=request.user)


def _back(importer) -> str:
    try:
        return reverse(importer.back_url) if importer.back_url else ""
    except NoReverseMatch:
        return ""


def _common(importer) -> dict:
    return {"importer": importer, "back": _back(importer), "columns": importer.schema.columns}


@login_required
def index(request):
    """Every import the user may run (elders, facilities, home-care providers and helpers, …)."""
    from carenet.core.roles import CAPABILITIES
    caps = set().union(*CAPABILITIES.values()) if request.user.is_superuser else CAPABILITIES.get(request.user.role, set())
    importers = imports.available(caps)
    if not importers:
        from django.core.exceptions import PermissionDenied
        raise PermissionDenied  # no import to offer: as any page the role has no capability for
    # Runs of the importers on this page (a department load's run is shown on its load page in matching).
    labels = {i.key: i.label for i in importers}
    recent = ImportRun.objects.filter(user=request.user, importer__in=list(labels))[:10]
    return render(request, "core/import_index.html", {
        "importers": importers, "recent": [{"run": r, "label": labels[r.importer]} for r in recent]})


@login_required
def upload(request, key):
    importer = _importer(request, key)
    if request.method == "POST":
        file = request.FILES.get("file")
        if file is None:
            messages.error(request, _("Choose a file to import (.xlsx, .xls or .csv)."))
        elif file.size > MAX_UPLOAD:
            messages.error(request, _("The file is larger than 20 MB. Import it in parts."))
        else:
            try:
                staged = imports.stage(importer, request.user, file.name, file.read(), params=request.GET.dict())
            except FileError as exc:
                messages.error(request, str(exc))
            else:
                return redirect("import_preview", key=importer.key, pk=staged.pk)
    recent = ImportRun.objects.filter(importer=importer.key, user=request.user)[:10]
    sources = ColumnMapping.objects.filter(importer=importer.key).count()
    return render(request, "core/import_upload.html", {**_common(importer), "recent": recent, "sources": sources})


@login_required
def preview(request, key, pk):
    importer = _importer(request, key)
    staged = _upload(request, importer, pk)
    try:
        pv = imports.preview(importer, staged, request.user)
    except FileError as exc:
        messages.error(request, str(exc))
        staged.delete()
        return redirect("import_upload", key=importer.key)
    if pv.needs_mapping or request.GET.get("map"):
        return _mapping(request, importer, staged, pv)
    layouts = [{"layout": lay, "pairs": [(lay.headers[i], importer.schema.column(k).label)
                                         for i, k in sorted(lay.fields.items())]} for lay in pv.parsed.layouts]
    # Plain dicts: a Row answers row["number"] with a column value, so templates must not look into it.
    rows = [{"sheet": r.sheet, "number": r.number, "errors": r.errors,
             "cells": [importer.display(r, c) for c in importer.schema.columns]} for r in pv.rows]
    return render(request, "core/import_preview.html", {
        **_common(importer), "upload": staged, "pv": pv, "layouts": layouts, "rows": rows})


def _mapping(request, importer, staged, pv):
    choices = [(c.key, c.label + (" *" if c.required else "")) for c in importer.schema.columns]
    sheets = []
    for lay in pv.parsed.layouts:
        samples = pv.samples.get(lay.sheet, {})
        headers = [{"index": i, "text": h, "field": lay.fields.get(i, IGNORE), "samples": samples.get(i, [])}
                   for i, h in enumerate(lay.headers) if h]
        sheets.append({"layout": lay, "headers": headers})
    return render(request, "core/import_mapping.html", {
        **_common(importer), "upload": staged, "pv": pv, "sheets": sheets, "choices": choices,
        "missing": pv.parsed.missing})


@login_required
@require_POST
def save_mapping(request, key, pk):
    importer = _importer(request, key)
    staged = _upload(request, importer, pk)
    pv = imports.preview(importer, staged, request.user)
    for n, lay in enumerate(pv.parsed.layouts):
        mapping = {h: request.POST.get(f"s{n}-c{i}", IGNORE) for i, h in enumerate(lay.headers) if h}
        chosen = [k for k in mapping.values() if k]
        dupes = {k for k in chosen if chosen.count(k) > 1}
        if dupes:
            labels = "、".join(importer.schema.column(k).label for k in dupes)
            messages.error(request, _("Each field can come from one column only: %(labels)s.") % {"labels": labels})
            return redirect(reverse("import_preview", kwargs={"key": importer.key, "pk": staged.pk}) + "?map=1")
        imports.save_mapping(importer, request.user, lay, mapping, source_name=staged.filename, params=staged.params)
    return redirect("import_preview", key=importer.key, pk=staged.pk)


@login_required
@require_POST
def confirm(request, key, pk):
    importer = _importer(request, key)
    staged = _upload(request, importer, pk)
    queued = imports.start(importer, staged, request.user)  # a background job; the result page follows it
    return redirect("import_result", key=importer.key, pk=queued.pk)


@login_required
@require_POST
def discard(request, key, pk):
    importer = _importer(request, key)
    _upload(request, importer, pk).delete()
    return redirect("import_upload", key=importer.key)


@login_required
def result(request, key, pk):
    importer = _importer(request, key)
    run = get_object_or_404(ImportRun, pk=pk, importer=importer.key, user=request.user)
    done = run.status == ImportRun.Status.DONE
    context = {**_common(importer), "run": run, "next": importer.result_url(run) if done else ""}
    if request.headers.get("HX-Request"):
        return render(request, "core/_import_progress.html", context)
    return render(request, "core/import_result.html", context)


@login_required
def report(request, pk):
    run = get_object_or_404(ImportRun, pk=pk)
    if (run.user_id != request.user.pk and not request.user.is_superuser) or not run.report:
        raise Http404
    audit.record(AuditLog.Action.EXPORT, actor=request.user, model="core.importrun", object_id=str(run.pk),
                 object_repr=run.filename, note="rejected rows (ID numbers masked)", division_path=run.division_path)
    response = HttpResponse(bytes(run.report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-rejected.xlsx"'
    return response


@login_required
def template(request, key):
    importer = _importer(request, key)
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from carenet.core.exports import append as xlsx_append

    wb = Workbook()
    ws = wb.active
    xlsx_append(ws, [c.label for c in importer.schema.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    if importer.example:
        xlsx_append(ws, [importer.example.get(c.key, "") for c in importer.schema.columns])
    for i, col in enumerate(importer.schema.columns, start=1):
        if col.kind in ("id_number", "code", "phone"):  # typed as text, so Excel keeps every digit
            for row in range(2, 2000):
                ws.cell(row, i).number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(buf.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{importer.key}-template.xlsx"'
    return response
