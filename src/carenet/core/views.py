from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import redirect, render

from carenet.core import audit_text, todo
from carenet.core.models import AuditLog, Division
from carenet.core.roles import HOME_URL, Role, can
from carenet.core.scoping import user_subtree_q
from carenet.people.models import Category, ElderProfile
from carenet.people.selectors import elders_visible_to


def demo_logins():
    if not settings.DEMO:
        return []
    from carenet.core.models import User
    from carenet.demo.loader import DEMO_PASSWORD, DEMO_USERNAMES

    labels = dict(Role.CHOICES)
    users = User.objects.filter(username__in=DEMO_USERNAMES).select_related("division")
    return [{"username": u.username, "role": labels.get(u.role, u.role), "area": u.division.name if u.division else "",
             "password": DEMO_PASSWORD} for u in users]


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"ok": True, "database": connection.vendor})


@login_required
def dashboard(request):
    user = request.user
    home = HOME_URL.get(user.role)
    if home and not request.GET.get("overview"):
        return redirect(home)
    elders = elders_visible_to(user)
    base = user.division if user.division_id else Division.objects.filter(level=Division.Level.DISTRICT).first()
    children = list(Division.objects.filter(parent=base).order_by("code")) if base else []
    # Count elders per child division with one grouped query on the path prefix.
    by_child = []
    if children:
        annotations = {f"c{i}": Count("id", filter=Q(resident__division__path__startswith=c.path)) for i, c in enumerate(children)}
        row = elders.aggregate(**annotations)
        by_child = [{"name": c.name, "count": row[f"c{i}"]} for i, c in enumerate(children)]
    totals = elders.aggregate(
        total=Count("id"),
        alone=Count("id", filter=Q(living=ElderProfile.Living.ALONE)),
        disabled=Count("id", filter=Q(care_level__in=["moderate", "severe"])),
        key=Count("id", filter=Q(key_elder=True)),
    )
    cats = dict(elders.values_list("categories__code").annotate(n=Count("id")).order_by())
    by_category = [{"name": str(label), "count": cats.get(code, 0)} for code, label in Category.choices]
    care = dict(elders.values_list("care_level").annotate(n=Count("id")).order_by())
    by_care = [{"name": str(label), "value": care.get(code, 0)} for code, label in ElderProfile.CareLevel.choices]
    return render(request, "core/dashboard.html", {
        "area": base, "totals": totals, "todo": todo.items_for(user),
        "chart": {"by_child": by_child, "by_category": by_category, "by_care": by_care},
    })


@login_required
def audit_log(request):
    if not can(request.user, "audit.view"):
        raise PermissionDenied
    qs = AuditLog.objects.all()
    # Entries of the user's area, plus those tied to no area (logins, lockouts).
    qs = qs.filter(Q(division_path="") | user_subtree_q(request.user, "division_path"))
    f = {k: request.GET.get(k, "").strip() for k in ("actor", "action", "model", "object_id", "date_from", "date_to", "q")}
    if f["actor"]:
        qs = qs.filter(actor_name__icontains=f["actor"])
    if f["action"]:
        qs = qs.filter(action=f["action"])
    if f["model"]:
        qs = qs.filter(model=f["model"])
    if f["object_id"]:
        qs = qs.filter(object_id=f["object_id"])
    if f["date_from"]:
        qs = qs.filter(ts__date__gte=f["date_from"])
    if f["date_to"]:
        qs = qs.filter(ts__date__lte=f["date_to"])
    if f["q"]:
        qs = qs.filter(Q(object_repr__icontains=f["q"]) | Q(note__icontains=f["q"]))
    page = Paginator(qs.select_related("actor"), 50).get_page(request.GET.get("page"))
    models = AuditLog.objects.values_list("model", flat=True).distinct().order_by("model")
    return render(request, "core/audit_log.html", {
        "page": page, "rows": audit_text.rows(page), "f": f, "actions": AuditLog.Action.choices,
        "models": sorted(((m, audit_text.model_label(m)) for m in models if m), key=lambda x: x[1]),
        "query": query_without_page(request)})


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
