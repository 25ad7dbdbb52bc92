import datetime as dt

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from carenet.core import audit_text, list_export
from carenet.core.models import AuditLog
from carenet.core.permissions import needs


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"ok": True, "database": connection.vendor})


@needs("audit.view")
def audit_log(request):
    # Entries of the user's area, plus those tied to no area (logins, lockouts).
    qs = AuditLog.objects.visible_to(request.user) | AuditLog.objects.filter(division_path="")
    f = {k: request.GET.get(k, "").strip() for k in ("actor", "action", "model", "object_id", "date_from", "date_to", "q")}
    if f["actor"]:
        qs = qs.filter(actor_name__icontains=f["actor"])
    if f["action"]:
        qs = qs.filter(action=f["action"])
    if f["model"]:
        qs = qs.filter(model=f["model"])
    if f["object_id"]:
        qs = qs.filter(object_id=f["object_id"])
    errors = []
    for key, lookup in (("date_from", "ts__date__gte"), ("date_to", "ts__date__lte")):
        if f[key]:
            try:
                qs = qs.filter(**{lookup: dt.date.fromisoformat(f[key])})
            except ValueError:
                errors.append(_("“%(value)s” is not a date; use YYYY-MM-DD. This filter was not applied.") % {"value": f[key]})
    if f["q"]:
        qs = qs.filter(Q(object_repr__icontains=f["q"]) | Q(note__icontains=f["q"]))
    if list_export.wanted(request):
        return list_export.xlsx_response(
            request.user, title=_("Audit log"), model="core.auditlog", filters=f,
            headers=[_("Time"), _("What happened"), _("Note"), _("Details"), _("IP address")],
            rows=([r["ts"], r["sentence"], r["note"], "；".join(f"{c.field}：{c.before} → {c.after}" for c in r["changes"]),
                   r["e"].ip or ""] for r in audit_text.rows(qs.select_related("actor").iterator(chunk_size=2000))))
    page = Paginator(qs.select_related("actor"), 50).get_page(request.GET.get("page"))
    models = AuditLog.objects.values_list("model", flat=True).distinct().order_by("model")
    return render(request, "core/audit_log.html", {
        "page": page, "rows": audit_text.rows(page), "f": f, "actions": AuditLog.Action.choices,
        "models": sorted(((m, audit_text.model_label(m)) for m in models if m), key=lambda x: x[1]),
        "query": query_without_page(request), "errors": errors})


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
