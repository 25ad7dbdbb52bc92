"""Civic pages: the resident's home page (terminal or phone), staff handling, the seven steps (七单),
small wishes, the catalogue, figures and the 民情账本 ledger, and the public 晒单 page."""
from __future__ import annotations

import datetime as dt
import functools

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from carenet.civic import forms as f
from carenet.civic import models as m
from carenet.civic import selectors, services
from carenet.civic.engine import seven, service, wish
from carenet.civic.engine.common import CivicError, choices
from carenet.core.permissions import needs
from carenet.core.roles import can
from carenet.core.scoping import user_subtree_q
from carenet.people.models import Resident

SESSION_KEY = "civic_resident"

SERVICE_ACTION_LABELS = {
    "route": gettext_lazy("Route to the department"), "request_docs": gettext_lazy("Ask for more documents"),
    "supply_docs": gettext_lazy("Documents supplied"), "complete": gettext_lazy("Done"), "refuse": gettext_lazy("Refuse"),
    "reopen": gettext_lazy("Reopen"), "withdraw": gettext_lazy("Withdraw"), "rate": gettext_lazy("Rate"), "submit": gettext_lazy("Submitted"),
    "escalate": gettext_lazy("Escalated to the district (overdue)"),
}
COMMUNITY_ACTION_LABELS = {
    "receive": gettext_lazy("收单 Received"), "screen": gettext_lazy("筛单 Accept for handling"), "merge": gettext_lazy("筛单 Merge as duplicate"),
    "out_of_scope": gettext_lazy("筛单 Out of scope"), "withdraw": gettext_lazy("Withdraw"), "draft_plan": gettext_lazy("制单 Draft the plan"),
    "to_council": gettext_lazy("议单 Submit to the council"), "decide": gettext_lazy("议单 Record the council vote"),
    "revise": gettext_lazy("修单 Revise the plan"), "resubmit": gettext_lazy("修单 Back to the council"), "publish": gettext_lazy("晒单 Publish"),
    "start_delivery": gettext_lazy("落单 Start delivery"), "progress": gettext_lazy("落单 Progress update"),
    "complete": gettext_lazy("落单 Delivered"), "confirm": gettext_lazy("Resident confirms it is done"),
    "dispute": gettext_lazy("Resident says it is not done"),
}
WISH_ACTION_LABELS = {"publish": gettext_lazy("Published"), "claim": gettext_lazy("Claim"), "release": gettext_lazy("Release"),
                      "deliver": gettext_lazy("Delivered"), "confirm": gettext_lazy("Confirmed"), "cancel": gettext_lazy("Cancel")}


def _label_events(events, labels):
    for e in events:
        e.label = labels.get(e.action, e.action)
    return events


# ------------------------------------------------------------------ the resident's home page

def home_resident(request) -> Resident | None:
    pk = request.session.get(SESSION_KEY)
    return Resident.objects.select_related("division").filter(pk=pk).first() if pk else None


def resident_required(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        resident = home_resident(request)
        if resident is None:
            return redirect("civic:home_login")
        request.resident = resident
        return view(request, *args, **kwargs)
    return wrapped


def home_login(request):
    form = f.HomeLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resident = services.home_login(form.cleaned_data["phone"], form.cleaned_data["code"])
        except services.CivicServiceError as exc:
            form.add_error(None, str(exc))
        else:
            request.session.cycle_key()
            request.session[SESSION_KEY] = resident.pk
            return redirect("civic:home")
    demo = None
    if settings.DEMO:  # the demo elder's sign-in, like the staff demo logins on the login page
        from carenet.civic.management.commands.seed_civic import DEMO_HOME_CODE

        access = m.HomeAccess.objects.select_related("resident").order_by("id").first()
        demo = {"phone": access.phone, "code": DEMO_HOME_CODE, "name": access.resident.name} if access else None
    return render(request, "civic/home_login.html", {"form": form, "demo": demo})


@require_POST
def home_logout(request):
    request.session.pop(SESSION_KEY, None)
    return redirect("civic:home_login")


@resident_required
def home(request):
    reqs = (m.ServiceRequest.objects.filter(applicant=request.resident).select_related("item")
            .order_by("-id")[:30])
    to_confirm = m.CommunityRequest.objects.filter(reporter=request.resident, state="completed")
    return render(request, "civic/home.html", {"resident": request.resident, "requests": reqs,
                                               "to_confirm": to_confirm})


def _catalogue(q="", category=""):
    qs = m.ServiceItem.objects.filter(active=True)
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(help_text__contains=q) | Q(category__contains=q))
    if category:
        qs = qs.filter(category=category)
    return qs


def _categories():
    return list(m.ServiceItem.objects.filter(active=True).values_list("category", flat=True).distinct()
                .order_by("category"))


@resident_required
def home_items(request):
    q, category = request.GET.get("q", "").strip(), request.GET.get("category", "")
    return render(request, "civic/home_items.html", {
        "items": _catalogue(q, category), "categories": _categories(), "q": q, "category": category})


def _apply(request, item, *, resident=None, user=None, template="civic/home_apply.html", extra=None):
    big = user is None
    form = f.ItemForm(item, request.POST or None, request.FILES or None, big=big)
    consent = f.ConsentForm(request.POST or None) if user is not None else None
    if request.method == "POST" and form.is_valid() and (consent is None or consent.is_valid()):
        applicant = resident
        if user is not None:
            applicant = Resident.objects.filter(user_subtree_q(user, "division__path"),
                                                pk=consent.cleaned_data["resident"]).first()
        try:
            req = services.submit_request(
                item=item, answers=form.answers(), applicant=applicant, user=user,
                consent_note=consent.cleaned_data["consent_note"] if consent else "",
                description=form.cleaned_data.get("description", ""), photos=form.cleaned_data.get("photos", []))
        except ValidationError as exc:
            for code, errs in exc.message_dict.items():
                form.add_error("f_" + code if "f_" + code in form.fields else None, errs)
        except services.CivicServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Application %(number)s sent. Due by %(due)s.") % {
                "number": req.number, "due": req.due_on})
            return redirect("civic:home_request", pk=req.pk) if user is None else redirect("civic:request", pk=req.pk)
    ctx = {"item": item, "form": form, "consent": consent, "resident": resident}
    ctx.update(extra or {})
    return render(request, template, ctx)


@resident_required
def home_apply(request, code):
    item = get_object_or_404(m.ServiceItem, code=code, active=True)
    return _apply(request, item, resident=request.resident)


@resident_required
def home_request(request, pk):
    req = get_object_or_404(m.ServiceRequest.objects.select_related("item"), pk=pk, applicant=request.resident)
    if request.method == "POST":
        action = request.POST.get("action", "")
        photos = request.FILES.getlist("photos") if action == "supply_docs" else []
        try:
            services.act_on_request(req, action, resident=request.resident, reason=request.POST.get("reason", ""),
                                    data={"score": request.POST.get("score"),
                                          "comment": request.POST.get("comment", "")}, photos=photos)
        except (CivicError, ValidationError) as exc:
            messages.error(request, services.error_message(exc))
        else:
            messages.success(request, _("Thank you, your request was updated."))
        return redirect("civic:home_request", pk=req.pk)
    snap = req.snapshot()
    return render(request, "civic/home_request.html", {
        "req": req, "resident": request.resident, "allowed": service.allowed_actions(snap),
        "reopen_until": service.reopen_until(snap, services.REOPEN_DAYS, services.CALENDAR),
        "events": _label_events(list(req.events.all()), SERVICE_ACTION_LABELS), "answers": _answers(req)})


def _answers(req):
    """(label, answer) with a choice shown by its name, not its key."""
    fields = {x["code"]: x for x in req.item.fields}
    out = []
    for k, v in req.answers.items():
        names = dict(choices(fields[k])) if k in fields else {}
        vals = v if isinstance(v, list) else [v]
        out.append((fields[k]["label"] if k in fields else k, "、".join(str(names.get(str(x), x)) for x in vals)))
    return out


def photo(request, pk):
    a = get_object_or_404(m.Attachment.objects.select_related("request"), pk=pk)
    resident = home_resident(request)
    allowed = (resident is not None and a.request.applicant_id == resident.pk) or (
        can(request.user, "civic.view") and selectors.requests_visible_to(request.user).filter(pk=a.request_id).exists())
    if not allowed:
        raise Http404("photo not found")
    resp = FileResponse(a.file.open("rb"), content_type=a.content_type)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "sandbox"
    resp["Cache-Control"] = "private, max-age=3600"
    return resp


# ------------------------------------------------------------------ staff: service requests

@needs("civic.view")
def request_list(request):
    queue = request.GET.get("queue", "open")
    qs = selectors.search_requests(request.user, q=request.GET.get("q", "").strip(), state=request.GET.get("state", ""),
                                   queue=queue, category=request.GET.get("category", ""))
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    today = services.today()
    for r in page:
        st = services.deadline_status(r, today)
        r.level_css = selectors.level_css(st.level if st else None)
        r.remaining = st.remaining if st else None
        r.overdue_days = -st.remaining if st and st.remaining < 0 else 0
    return render(request, "civic/request_list.html", {
        "page": page, "queue": queue, "counts": selectors.queue_counts(request.user), "states": m.RequestState.choices,
        "categories": _categories(), "q": request.GET.get("q", "")})


@needs("civic.view")
def request_detail(request, pk):
    req = selectors.get_request(request.user, pk)
    st = services.deadline_status(req)
    allowed = [a for a in service.allowed_actions(req.snapshot()) if a in services.STAFF_ACTIONS]
    return render(request, "civic/request_detail.html", {
        "req": req, "deadline": st, "level_css": selectors.level_css(st.level if st else None),
        "actions": [(a, SERVICE_ACTION_LABELS[a]) for a in allowed] if can(request.user, "civic.handle") else [],
        "events": _label_events(list(req.events.select_related("actor")), SERVICE_ACTION_LABELS),
        "answers": _answers(req), "notifications": req.notifications.all()[:10],
        "attachments": req.attachments.all(),
        "departments": selectors.departments_visible_to(request.user).filter(active=True)})


@needs("civic.handle")
@require_POST
def request_act(request, pk, action):
    req = selectors.get_request(request.user, pk)
    try:
        services.act_on_request(req, action, user=request.user, reason=request.POST.get("reason", ""),
                                data={"to": request.POST.get("to", ""), "note": request.POST.get("note", ""),
                                      "department": request.POST.get("department", "")},
                                photos=request.FILES.getlist("photos"))
    except (CivicError, ValidationError) as exc:
        messages.error(request, services.error_message(exc))
    else:
        messages.success(request, _("%(action)s: done.") % {"action": SERVICE_ACTION_LABELS.get(action, action)})
    return redirect("civic:request", pk=req.pk)


@needs("civic.apply")
def apply_for(request):
    """A worker or operator applies on a resident's behalf (consent recorded)."""
    q = request.GET.get("q", "").strip()
    residents = []
    if q:
        residents = Resident.objects.filter(user_subtree_q(request.user, "division__path"), deceased_on__isnull=True
                                            ).filter(Q(name__contains=q) | Q(phone__endswith=q)).select_related(
            "division")[:10]
    code = request.GET.get("item") or request.POST.get("item")
    item = m.ServiceItem.objects.filter(code=code, active=True).first() if code else None
    rid = request.GET.get("resident") or request.POST.get("resident")
    resident = Resident.objects.filter(user_subtree_q(request.user, "division__path"), pk=rid).first() if rid else None
    if item is None or resident is None:
        return render(request, "civic/apply_pick.html", {
            "q": q, "residents": residents, "resident": resident, "items": _catalogue(request.GET.get("iq", "")),
            "iq": request.GET.get("iq", "")})
    return _apply(request, item, user=request.user, resident=resident, template="civic/apply_behalf.html",
                  extra={"initial_resident": resident.pk})


@needs("civic.apply")
def home_access(request):
    code = resident = None
    if request.method == "POST":
        resident = Resident.objects.filter(user_subtree_q(request.user, "division__path"),
                                           pk=request.POST.get("resident") or 0).first()
        if resident is None:
            raise Http404("resident not found")
        try:
            code = services.issue_home_access(request.user, resident)
        except services.CivicServiceError as exc:
            messages.error(request, str(exc))
    q = request.GET.get("q", "").strip()
    residents = Resident.objects.filter(user_subtree_q(request.user, "division__path")).filter(
        Q(name__contains=q) | Q(phone__endswith=q)).select_related("division")[:10] if q else []
    return render(request, "civic/home_access.html", {"code": code, "resident": resident, "residents": residents,
                                                      "q": q})


# ------------------------------------------------------------------ catalogue

@needs("civic.view")
def catalogue(request):
    q, category = request.GET.get("q", "").strip(), request.GET.get("category", "")
    qs = m.ServiceItem.objects.all()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(department__contains=q) | Q(code__icontains=q))
    if category:
        qs = qs.filter(category=category)
    return render(request, "civic/catalogue.html", {"items": qs, "q": q, "category": category,
                                                    "categories": _categories(), "total": m.ServiceItem.objects.count()})


@needs("civic.catalogue")
def catalogue_edit(request, pk=None):
    item = get_object_or_404(m.ServiceItem, pk=pk) if pk else m.ServiceItem()
    form = f.CatalogueItemForm(request.POST or None, instance=item)
    rows = item.fields
    if request.method == "POST":
        rows = f.field_rows_from_post(request.POST)
        if form.is_valid():
            obj = form.save(commit=False)
            obj.documents = [d.strip() for d in form.cleaned_data["documents_text"].splitlines() if d.strip()]
            obj.fields = rows
            try:
                services.save_item(request.user, obj)
            except services.CivicServiceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Item %(name)s saved.") % {"name": obj.name})
                return redirect("civic:catalogue")
    editor = list(rows) + [{"code": "", "label": "", "datatype": "string", "required": False, "values": []}] * 3
    return render(request, "civic/catalogue_edit.html", {"form": form, "item": item,
                                                         "rows": [dict(r, values_text="、".join(k if k == n else f"{k}={n}" for k, n in choices(r)))
                                                                  for r in editor],
                                                         "types": f.FIELD_TYPE_CHOICES})


# ------------------------------------------------------------------ community requests (七单)

@needs("civic.view")
def community_list(request):
    step = request.GET.get("step", "")
    qs = selectors.community_visible_to(request.user)
    if step:
        qs = qs.filter(state__in=[s for s, st in seven.STEP_OF_STATE.items() if st == step])
    if request.GET.get("q"):
        qs = qs.filter(Q(title__contains=request.GET["q"]) | Q(description__contains=request.GET["q"]))
    page = Paginator(qs.order_by("-id"), 30).get_page(request.GET.get("page"))
    return render(request, "civic/community_list.html", {"page": page, "step": step, "steps": seven.STEPS,
                                                         "q": request.GET.get("q", "")})


@needs("civic.community")
def community_new(request):
    divisions = selectors.communities_visible_to(request.user)
    form = f.CommunityForm(request.POST or None, divisions=divisions)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            req = services.receive(request.user, division=d["division"], category=d["category"], title=d["title"],
                                   description=d["description"], source=d["source"],
                                   reporter_name=d["reporter_name"], reporter_phone=d["reporter_phone"],
                                   location=d["location"], lat=d["lat"], lon=d["lon"])
        except services.CivicServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Request %(number)s received (收单).") % {"number": req.number})
            return redirect("civic:community", pk=req.pk)
    return render(request, "civic/community_new.html", {"form": form})


@needs("civic.view")
def community_detail(request, pk):
    req = selectors.get_community(request.user, pk)
    allowed = seven.allowed_actions(req.snapshot()) if can(request.user, "civic.community") else []
    if not can(request.user, "civic.publish"):
        allowed = [a for a in allowed if a not in services.PUBLISH_ACTIONS]
    dups = selectors.duplicate_suggestions(request.user, req) if req.state in (seven.RECEIVED, seven.SCREENED) else []
    return render(request, "civic/community_detail.html", {
        "req": req, "actions": [(a, COMMUNITY_ACTION_LABELS[a]) for a in allowed], "duplicates": dups,
        "events": _label_events(list(req.events.select_related("actor")), COMMUNITY_ACTION_LABELS),
        "votes": req.council_votes.all(), "steps": seven.STEPS, "current_step": req.step,
        "public": req.state in selectors.PUBLIC_STATES, "can_publish": can(request.user, "civic.publish"),
        "confirm_link": _confirm_link(request, req)})


def _confirm_link(request, req):
    """The resident's private 落单 link (to send by SMS or print), while the request awaits their confirmation."""
    from carenet.civic import confirm
    if req.state != seven.COMPLETED or not can(request.user, "civic.community"):
        return None
    return request.build_absolute_uri(reverse("civic:resident_confirm", args=[confirm.token_for(req)]))


@needs("civic.community")
@require_POST
def community_act(request, pk, action):
    req = selectors.get_community(request.user, pk)
    p = request.POST
    data = {k: p.get(k) for k in ("plan", "cost", "owner", "members", "yes", "no", "abstain", "note", "result",
                                  "into", "confirmed_by") if p.get(k) not in (None, "")}
    try:
        for k in ("members", "yes", "no", "abstain"):
            if k in data:
                data[k] = int(data[k])
        services.community_act(request.user, req, action, reason=p.get("reason", ""), data=data)
    except ValueError:
        messages.error(request, _("Vote counts must be whole numbers."))
    except (CivicError, ValidationError) as exc:
        messages.error(request, services.error_message(exc) + (f" ({exc})" if getattr(exc, "code", "") ==
                                                                "civic.quorum_not_reached" else ""))
    else:
        messages.success(request, _("%(action)s: done.") % {"action": COMMUNITY_ACTION_LABELS.get(action, action)})
    return redirect("civic:community", pk=req.pk)


@needs("civic.community")
@require_POST
def community_answer(request, pk):
    req = selectors.get_community(request.user, pk)
    publish = request.POST.get("publish") == "1"
    try:
        services.save_answer(request.user, req, request.POST.get("answer", ""), publish=publish)
    except CivicError as exc:
        messages.error(request, services.error_message(exc))
    else:
        messages.success(request, _("Answer published.") if publish else _("Answer draft saved (not public)."))
    return redirect("civic:community", pk=req.pk)


# ------------------------------------------------------------------ small wishes

@needs("civic.view")
def wishes(request):
    divisions = selectors.communities_visible_to(request.user)
    form = f.WishForm(request.POST or None, divisions=divisions)
    if request.method == "POST":
        if not can(request.user, "civic.community"):
            raise Http404
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.publish_wish(request.user, division=d["division"], title=d["title"],
                                      description=d["description"])
            except services.CivicServiceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Wish published."))
                return redirect("civic:wishes")
    qs = m.Wish.objects.visible_to(request.user).select_related("division")
    if request.user.role == "department":
        qs = qs.none()   # a department login handles its service requests only
    state = request.GET.get("state", "")
    if state:
        qs = qs.filter(state=state)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    for w in page:
        w.actions = [(a, WISH_ACTION_LABELS[a]) for a in wish.allowed_actions(wish.Snapshot(w.state, w.claimer))]
    return render(request, "civic/wishes.html", {"page": page, "form": form, "state": state,
                                                 "states": m.WishState.choices, "labels": WISH_ACTION_LABELS})


@needs("civic.community")
@require_POST
def wish_act(request, pk, action):
    w = get_object_or_404(m.Wish.objects.visible_to(request.user), pk=pk)
    try:
        services.wish_act(request.user, w, action, reason=request.POST.get("reason", ""),
                          data={"claimer": request.POST.get("claimer", "")})
    except CivicError as exc:
        messages.error(request, services.error_message(exc))
    else:
        messages.success(request, _("%(action)s: done.") % {"action": WISH_ACTION_LABELS.get(action, action)})
    return redirect("civic:wishes")


# ------------------------------------------------------------------ figures and ledger

def _range(request):
    today = services.today()
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = today.replace(month=1, day=1)
    try:
        end = dt.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end = today
    return (start, end) if start <= end else (end, start)


@needs("civic.figures")
def figures(request):
    start, end = _range(request)
    data = selectors.figures(request.user, start, end)
    labels = dict(m.RequestState.choices)
    data["by_state_rows"] = [(labels.get(k, k), v) for k, v in data["by_state"].items()]
    chart = {"steps": [s for s, _n in data["by_step"]], "step_counts": [n for _s, n in data["by_step"]],
             "items": [r["item__name"] for r in data["by_item"][:10]][::-1],
             "item_counts": [r["n"] for r in data["by_item"][:10]][::-1]}
    return render(request, "civic/figures.html", {"data": data, "start": start, "end": end, "chart": chart})


@needs("civic.figures")
def ledger(request):
    start, end = _range(request)
    return render(request, "civic/ledger.html", {"rows": selectors.ledger(request.user, start, end), "start": start,
                                                 "end": end})


LEDGER_COLUMNS = [
    ("community", gettext_lazy("Community")), ("items", gettext_lazy("Service applications")), ("items_done", gettext_lazy("Done")),
    ("items_on_time", gettext_lazy("Done on time")), ("items_open", gettext_lazy("Still open")), ("avg_score", gettext_lazy("Satisfaction (1-5)")),
    ("requests", gettext_lazy("Residents' requests (七单)")), ("requests_solved", gettext_lazy("Solved")),
    ("requests_open", gettext_lazy("In progress")), ("out_of_scope", gettext_lazy("Out of scope")), ("wishes", gettext_lazy("Small wishes")),
    ("wishes_done", gettext_lazy("Wishes fulfilled")), ("solved", gettext_lazy("Difficulties solved in total")),
]


@needs("civic.export")
def ledger_export(request):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from carenet.core import audit
    from carenet.core.exports import append as xlsx_append  # no formulas out of what people typed
    from carenet.core.models import AuditLog

    start, end = _range(request)
    rows = selectors.ledger(request.user, start, end)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Ledger")
    xlsx_append(ws, [_("民情账本 %(start)s to %(end)s") % {"start": start, "end": end}])
    ws["A1"].font = Font(bold=True, size=14)
    xlsx_append(ws, [str(label) for _k, label in LEDGER_COLUMNS])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in rows:
        xlsx_append(ws, [r[k] if r[k] is not None else "" for k, _l in LEDGER_COLUMNS])
    ws.column_dimensions["A"].width = 18
    audit.record(AuditLog.Action.EXPORT, actor=request.user, model="civic.ledger", object_id=f"{start}..{end}",
                 note=f"civic ledger export, {len(rows)} communities",
                 division_path=request.user.division.path if request.user.division_id else "")
    resp = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = f'attachment; filename="civic-ledger-{start}-{end}.xlsx"'
    wb.save(resp)
    return resp


# ------------------------------------------------------------------ the public 晒单 page (no login)

def public_list(request):
    code = request.GET.get("area", "").strip()
    page = Paginator(selectors.public_requests(code), 20).get_page(request.GET.get("page"))
    rows = [selectors.public_view(r) for r in page]
    return render(request, "civic/public_list.html", {"page": page, "rows": rows, "area": code})


def public_detail(request, pk):
    req = get_object_or_404(selectors.public_requests(), pk=pk)
    return render(request, "civic/public_detail.html", {"r": selectors.public_view(req)})


