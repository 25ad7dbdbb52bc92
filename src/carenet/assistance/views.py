from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Q, Count
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from carenet.assistance import forms as f
from carenet.assistance import jobs, payments, selectors, services
from carenet.assistance import models as m
from carenet.assistance.engine import notice as enotice
from carenet.assistance.engine import payroll as epay
from carenet.assistance.engine import workflow as ewf
from carenet.assistance.engine.rules import RuleNotFoundError
from carenet.core import audit, idcard, pii
from carenet.core import list_export
from carenet.core.exports import append as xlsx_append
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import needs, require
from carenet.core.scoping import user_subtree_q
from carenet.core.views import query_without_page
from carenet.people import services as people_services
from carenet.people.models import Resident

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month(value: str | None, default: dt.date) -> dt.date:
    try:
        y, mth = (value or "").split("-")[:2]
        return dt.date(int(y), int(mth), 1)
    except ValueError:
        return epay.month_of(default)


# ------------------------------------------------------------------ cases

@needs("assistance.view")
def case_list(request):
    flt = {k: request.GET.get(k, "").strip() for k in ("q", "state", "program", "channel", "division")}
    overdue = request.GET.get("overdue") == "1"
    recheck_due = request.GET.get("recheck_due") == "1"
    qs = selectors.search_cases(request.user, overdue=overdue, recheck_due=recheck_due, **flt)
    if list_export.wanted(request):
        return list_export.xlsx_response(
            request.user, title=_("Assistance cases"), model="assistance.case",
            filters={**flt, "overdue": overdue, "recheck_due": recheck_due},
            headers=[_("No."), _("Applicant"), _("ID number"), _("Program"), _("Community"), _("Channel"), _("State"),
                     _("Monthly amount"), _("One-off grant"), _("Deadline"), _("Next re-check")],
            rows=([c.number, c.applicant.name, c.applicant.id_masked, c.get_program_display(), c.area_name,
                   c.get_channel_display(), c.get_state_display(), c.monthly_amount, c.grant_amount, c.due_on,
                   c.next_recheck_on] for c in qs.select_related("applicant", "division__parent").iterator()))
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    cache: dict = {}
    today = services.today()
    rows = [(c, selectors.deadline_info(c, today, cache)) for c in page]
    areas = Division.objects.visible_to(request.user).filter(level__in=[Division.Level.STREET, Division.Level.COMMUNITY])
    counts = selectors.counts_by_state(request.user)
    return render(request, "assistance/case_list.html", {
        "page": page, "rows": rows, "f": flt, "overdue": overdue, "recheck_due": recheck_due, "states": m.State.choices,
        "programs": m.Program.choices, "channels": m.Channel.choices, "areas": areas,
        "query": query_without_page(request), "today": today,
        "state_counts": [(v, l, counts.get(v, 0)) for v, l in m.State.choices],
    })


def _lookup_resident(user, *, pk=None, id_number=None) -> Resident | None:
    qs = Resident.objects.visible_to(user)
    if pk:
        return qs.filter(pk=pk).first()
    if id_number:
        try:
            number = idcard.parse(id_number).number
        except idcard.IdNumberError:
            return None
        return qs.filter(id_number_hash=pii.lookup_hash(number)).first()
    return None


@needs("assistance.intake")
def case_new(request):
    form = f.IntakeForm(request.POST or None, initial={"channel": m.Channel.WINDOW})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        applicant = _lookup_resident(request.user, pk=d.get("applicant"), id_number=d.get("id_number"))
        if applicant is None:
            form.add_error("id_number", _("No resident with this ID number in your area. Register the person first."))
        else:
            try:
                case = services.intake(request.user, program=d["program"], applicant=applicant, channel=d["channel"],
                                       reason=d["reason"], facts=form.facts(applicant.pk),
                                       requested_amount=d.get("requested_amount"))
            except (ewf.WorkflowError, services.AssistanceError, RuleNotFoundError) as exc:
                messages.error(request, services.error_message(exc))
            else:
                messages.success(request, _("Application accepted."))
                return redirect("assistance:case", pk=case.pk)
    return render(request, "assistance/case_new.html", {"form": form})


@needs("assistance.intake")
def resident_search(request):
    """htmx: residents in the user's area matching a name or the last 4 ID digits."""
    # htmx posts the box (nothing typed goes into a URL or the access log); GET still works for old links.
    people = selectors.residents_for_report(request.user, request.POST.get("q", request.GET.get("q", "")))
    return render(request, "assistance/_resident_results.html", {"people": people})


def _explanation(case: m.Case):
    zh = (get_language() or "zh-hans").startswith("zh")
    return [s.get("zh") if zh else s.get("en", s.get("zh")) for s in case.explanation]


@needs("assistance.view")
def case_detail(request, pk, *, form=None, form_action=None, error=None, status=200):
    case = selectors.get_case(request.user, pk)
    history = case.history.select_related("actor")
    try:
        ent = case.entitlement
    except m.Entitlement.DoesNotExist:
        ent = None
    household = []
    if case.household_id:
        household = Resident.objects.visible_to(request.user).filter(household_id=case.household_id)
    ctx = {
        "case": case, "history": history, "explanation": _explanation(case), "ent": ent,
        "ledger": ent.ledger.order_by("period", "run_month", "id") if ent else [],
        "changes": ent.changes.all() if ent else [], "surveys": case.surveys.prefetch_related("photos"),
        "photos": case.photos.filter(survey__isnull=True), "objections": case.notice_objections.all(),
        "referrals": case.referrals.all(), "household": household,
        "deadline": selectors.deadline_info(case),
        "actions": [(a, m.ACTION_LABELS.get(a, a)) for a in selectors.allowed_actions(request.user, case)],
        "form": form, "form_action": form_action, "form_label": m.ACTION_LABELS.get(form_action, form_action),
        "error": error,
        "conflicted_me": str(request.user.pk) in case.conflicted_staff,
        "recheck_overdue": case.recheck_overdue(services.today()),
        "state_help": m.STATE_HELP.get(case.state, ""),
    }
    return render(request, "assistance/case_detail.html", ctx, status=status)


# Case actions: action -> (form or None, service call). The service call gets (user, case, cleaned data, photos).
CASE_ACTIONS = {
    "survey": (f.SurveyForm, lambda u, c, d, files: services.record_survey(
        u, c, visited_on=d["visited_on"], visitors=d["visitors"], notes=d["notes"],
        facts=d["_form"].facts(c.applicant_id), photos=files)),
    "review": (f.ReviewForm, lambda u, c, d, _: services.review(u, c, recommend=d["recommend"],
                                                                 opinion=d.get("opinion", ""))),
    "start_notice": (None, lambda u, c, d, _: services.start_notice(u, c)),
    "objection": (f.ObjectionForm, lambda u, c, d, _: services.record_objection(
        u, c, content=d["content"], raised_by=d.get("raised_by", ""))),
    "submit": (None, lambda u, c, d, _: services.submit(u, c)),
    "approve": (f.OpinionForm, lambda u, c, d, _: services.approve(u, c, opinion=d.get("opinion", ""))),
    "first_aid": (f.OpinionForm, lambda u, c, d, _: services.pay_first_aid(u, c, opinion=d.get("opinion", ""))),
    "reject": (f.ReasonForm, lambda u, c, d, _: services.reject(u, c, reason=d.get("reason", ""))),
    "withdraw": (f.ReasonForm, lambda u, c, d, _: services.withdraw(u, c, reason=d.get("reason", ""))),
    "close": (None, lambda u, c, d, _: services.close(u, c)),
    "start_recheck": (None, lambda u, c, d, _: services.start_recheck(u, c)),
    "complete_recheck": (f.ReasonForm, lambda u, c, d, _: services.complete_recheck(u, c, notes=d.get("reason", ""))),
    "raise": (f.PaymentChangeForm, lambda u, c, d, _: services.change_payment(
        u, c, action="raise", monthly_amount=d["monthly_amount"], effective_month=d["effective_month"],
        reason=d["reason"])),
    "lower": (f.PaymentChangeForm, lambda u, c, d, _: services.change_payment(
        u, c, action="lower", monthly_amount=d["monthly_amount"], effective_month=d["effective_month"],
        reason=d["reason"])),
    "stop": (f.StopForm, lambda u, c, d, _: services.stop_payment(u, c, effective_month=d["effective_month"],
                                                                  reason=d["reason"])),
}


@needs("assistance.view")
def case_action(request, pk, action):
    case = selectors.get_case(request.user, pk)
    if action not in CASE_ACTIONS:
        raise Http404("unknown action")
    form_class, perform = CASE_ACTIONS[action]
    initial = {}
    extra = {}
    if action == "survey":
        initial = f.FactsForm.initial_from(case.facts) | f.SurveyForm.member_initial(case.facts) | \
            {"visited_on": services.today()}
        extra["members"] = [r for r in Resident.objects.visible_to(request.user).filter(household_id=case.household_id)
                            .order_by("pk") if r.pk != case.applicant_id] if case.household_id else []
    if action in ("raise", "lower", "stop"):
        initial = {"effective_month": epay.add_months(epay.month_of(services.today()), 1)}
    if request.method != "POST":
        form = form_class(initial=initial, **extra) if form_class else None
        return case_detail(request, pk, form=form, form_action=action)
    form = form_class(request.POST, request.FILES, **extra) if form_class else None
    if form is not None and not form.is_valid():
        return case_detail(request, pk, form=form, form_action=action, status=400)
    d = dict(form.cleaned_data) if form is not None else {}
    d["_form"] = form
    files = d.pop("photos", []) if form is not None else []
    try:
        perform(request.user, case, d, files)
    except ewf.PermissionDeniedError as exc:
        return case_detail(request, pk, form=form, form_action=action, error=services.error_message(exc), status=403)
    except (ewf.WorkflowError, services.AssistanceError, RuleNotFoundError) as exc:
        return case_detail(request, pk, form=form, form_action=action, error=services.error_message(exc), status=409)
    except PermissionDenied:
        raise
    messages.success(request, _("%(action)s: done.") % {"action": m.ACTION_LABELS.get(action, action)})
    return redirect("assistance:case", pk=case.pk)


@needs("assistance.view")
def photo(request, pk):
    p = m.Photo.objects.filter(pk=pk).first()
    visible = p is not None and (
        (p.case_id and m.Case.objects.visible_to(request.user).filter(pk=p.case_id).exists())
        or (p.report_id and m.GridReport.objects.visible_to(request.user).filter(pk=p.report_id).exists()))
    if not visible:
        raise Http404("photo not found")
    resp = FileResponse(p.file.open("rb"), content_type=p.content_type if p.content_type in services.PHOTO_TYPES
                        else "application/octet-stream")
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "sandbox"
    resp["Cache-Control"] = "private, max-age=3600"
    return resp


# ------------------------------------------------------------------ mobile report (掌上救助)

@needs("assistance.intake")
def report(request):
    form = f.ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        applicant = _lookup_resident(request.user, pk=d.get("applicant"))
        if applicant is None and d.get("new_id_number"):
            applicant = _lookup_resident(request.user, id_number=d["new_id_number"])
            if applicant is None:
                applicant = _register(request, form, d)
        if applicant is not None:
            try:
                rep = services.grid_report(
                    request.user, applicant=applicant, route=d["route"], description=d["description"],
                    lat=d.get("lat"), lon=d.get("lon"), photos=d.get("photos") or [],
                    requested_amount=d.get("requested_amount"))
            except (ewf.WorkflowError, services.AssistanceError, RuleNotFoundError) as exc:
                form.add_error(None, services.error_message(exc))
            else:
                if rep.referral_id:
                    messages.success(request, _("Referred to %(dept)s; the referral is tracked.") %
                                     {"dept": rep.referral.get_department_display()})
                else:
                    messages.success(request, _("Report sent for %(name)s; the community will accept it as an "
                                                "application.") % {"name": applicant.name})
                return redirect(reverse("assistance:report") + f"?done={rep.pk}")
    done = None
    if request.GET.get("done"):
        done = m.GridReport.objects.visible_to(request.user).filter(pk=request.GET["done"]).first()
    mine = m.GridReport.objects.visible_to(request.user).filter(reporter=request.user).select_related("resident")[:5]
    return render(request, "assistance/report.html", {"form": form, "done": done, "mine": mine})


@needs("assistance.view")
def reports(request):
    """The queue of grid reports: accept as an application (受理) or dismiss with a reason."""
    status = request.GET.get("status", m.GridReport.Status.NEW)
    qs = m.GridReport.objects.visible_to(request.user).select_related("resident", "division__parent", "reporter",
                                                                   "case")
    if status:
        qs = qs.filter(status=status)
    page = Paginator(qs.prefetch_related("photos"), 20).get_page(request.GET.get("page"))
    return render(request, "assistance/reports.html", {
        "page": page, "status": status, "statuses": m.GridReport.Status.choices, "programs": m.Program.choices,
        "query": query_without_page(request)})


@needs("assistance.intake")
def report_action(request, pk, action):
    if request.method != "POST":
        raise Http404
    rep = m.GridReport.objects.visible_to(request.user).filter(pk=pk).first()
    if rep is None:
        raise Http404("report not found")
    try:
        if action == "accept":
            case = services.accept_report(request.user, rep, program=request.POST.get("program") or None)
            messages.success(request, _("Application accepted."))
            return redirect("assistance:case", pk=case.pk)
        if action == "dismiss":
            services.dismiss_report(request.user, rep, reason=request.POST.get("reason", ""))
            messages.success(request, _("Report dismissed."))
            return redirect("assistance:reports")
    except (ewf.WorkflowError, services.AssistanceError, RuleNotFoundError) as exc:
        messages.error(request, services.error_message(exc))
        return redirect("assistance:reports")
    raise Http404("unknown action")


def _register(request, form, d) -> Resident | None:
    try:
        parsed = idcard.parse(d["new_id_number"])
    except idcard.IdNumberError as exc:
        form.add_error("new_id_number", exc.text(get_language()))
        return None
    division = request.user.division
    if division is None or division.level < Division.Level.COMMUNITY:
        form.add_error(None, _("Only a community or grid worker can register a new person here."))
        return None
    r = Resident(name=d["new_name"], sex=parsed.sex, birth_date=parsed.birth_date, phone=d.get("new_phone", ""),
                 division=division, address="", lat=d.get("lat"), lon=d.get("lon"))
    try:
        people_services.register_resident(request.user, r, parsed.number)
    except (PermissionDenied, IntegrityError):
        form.add_error(None, _("The person could not be registered."))
        return None
    return r


# ------------------------------------------------------------------ public notice (公示)

def _notice_rows(user, request):
    # only notices still running: an expired 公示 is not current, whatever step the case waits on
    qs = m.Case.objects.visible_to(user).filter(state=m.State.IN_NOTICE).filter(
        Q(notice_ends_on__isnull=True) | Q(notice_ends_on__gte=services.today())).select_related("division__parent")
    division = request.GET.get("division", "")
    if division:
        qs = qs.filter(division__path__contains=division)
    rows = []
    for c in qs.order_by("division__path", "id"):
        amount = c.monthly_amount if c.monthly_amount is not None else c.grant_amount
        rows.append(enotice.notice_row(c.area_name, c.program, c.applicant.name, c.applicant.birth_date,
                                       c.persons, amount, c.notice_started_on, c.notice_ends_on))
    return rows


@needs("assistance.view")
def notice(request):
    rows = _notice_rows(request.user, request)
    areas = Division.objects.visible_to(request.user).filter(level__in=[Division.Level.STREET, Division.Level.COMMUNITY])
    return render(request, "assistance/notice.html", {"rows": rows, "header": enotice.NOTICE_HEADER_ZH,
                                                      "areas": areas, "division": request.GET.get("division", ""),
                                                      "today": services.today()})


@needs("assistance.view")
def notice_export(request):
    from openpyxl import Workbook

    rows = _notice_rows(request.user, request)
    wb = Workbook()
    ws = wb.active
    ws.title = "公示"
    xlsx_append(ws, ["社会救助对象公示"])
    xlsx_append(ws, enotice.NOTICE_HEADER_ZH)
    for r in rows:
        xlsx_append(ws, r.as_list())
    xlsx_append(ws, [])
    xlsx_append(ws, ["公示期间如有异议，请向街道（乡镇）民政办反映。根据《社会救助暂行办法》第六十一条，申请人姓名已作脱敏处理。"])
    buf = io.BytesIO()
    wb.save(buf)
    audit.record(AuditLog.Action.EXPORT, actor=request.user, model="assistance.case",
                 object_repr=f"public notice: {len(rows)} rows", note="assistance.notice export")
    resp = HttpResponse(buf.getvalue(), content_type=XLSX)
    resp["Content-Disposition"] = 'attachment; filename="notice.xlsx"'
    return resp


# ------------------------------------------------------------------ payroll

def _payroll_areas(user):
    return Division.objects.visible_to(user).filter(level__in=[Division.Level.DISTRICT, Division.Level.STREET])


@needs("assistance.view")
def payroll(request):
    areas = _payroll_areas(request.user)
    form = f.PayrollForm(request.POST or None, areas=areas,
                         initial={"run_month": services.today().strftime("%Y-%m"), "program": "*",
                                  "area": areas.first()})
    if request.method == "POST":
        require(request.user, "assistance.payroll")
        if form.is_valid():
            d = form.cleaned_data
            try:
                run = services.start_payroll(request.user, run_month=d["run_month"], program=d["program"],
                                             area=d["area"])
            except services.AssistanceError as exc:
                messages.error(request, services.error_message(exc))
            else:
                return redirect("assistance:run", pk=run.pk)
    runs = selectors.runs(request.user)[:20]
    return render(request, "assistance/payroll.html", {"form": form, "runs": runs})


@needs("assistance.view")
def run_detail(request, pk):
    run = selectors.get_run(request.user, pk)
    labels = dict(m.LedgerLine.Kind.choices)
    kinds = [(labels.get(k, k), n) for k, n in run.ledger_lines.values_list("kind").annotate(n=Count("id")).order_by("kind")]
    tmpl = "assistance/_run_progress.html" if request.headers.get("HX-Request") else "assistance/run_detail.html"
    return render(request, tmpl, {"run": run, "kinds": kinds, "resumable": jobs.resumable(run),
                                  "lines": run.ledger_lines.select_related("entitlement", "township")[:50]})


@needs("assistance.payroll")
def run_resume(request, pk):
    """Run again a payroll that failed, or that a dead worker left queued or running (no lines were written:
    a run writes its lines in one transaction at the end)."""
    if request.method != "POST":
        raise Http404
    run = services.resume_payroll(request.user, selectors.get_run(request.user, pk))
    return redirect("assistance:run", pk=run.pk)


@needs("assistance.payroll")
def bank_file(request, pk, fmt):
    run = selectors.get_run(request.user, pk)
    if run.status != m.PayrollRun.Status.DONE:
        raise Http404("run not finished")
    audit.record(AuditLog.Action.EXPORT, run, actor=request.user, division_path=run.area.path,
                 note=f"assistance.bank file {fmt}")
    name = f"bank-{run.run_month:%Y%m}-{run.pk}"
    if fmt == "csv":
        resp = HttpResponse(payments.bank_csv(run), content_type="text/csv; charset=utf-8")
        resp["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return resp
    resp = HttpResponse(payments.bank_xlsx(run), content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return resp


@needs("assistance.view")
def ledger(request):
    qs = m.LedgerLine.objects.visible_to(request.user).select_related("entitlement", "township", "entitlement__division")
    flt = {k: request.GET.get(k, "").strip() for k in ("program", "kind", "run_month", "q")}
    if flt["program"]:
        qs = qs.filter(program=flt["program"])
    if flt["kind"]:
        qs = qs.filter(kind=flt["kind"])
    if flt["run_month"]:
        qs = qs.filter(run_month=_month(flt["run_month"], services.today()))
    if flt["q"]:
        qs = qs.filter(entitlement__payee_name__contains=flt["q"])
    if list_export.wanted(request):
        return list_export.xlsx_response(
            request.user, title=_("Payment ledger"), model="assistance.ledgerline", filters=flt,
            headers=[_("Payroll month"), _("Period"), _("Payee"), _("Program"), _("Township"), _("Community"), _("Kind"),
                     _("Persons"), _("Amount")],
            rows=([f"{ln.run_month:%Y-%m}", f"{ln.period:%Y-%m}", ln.entitlement.payee_name, ln.get_program_display(),
                   ln.township.name, ln.entitlement.division.label, ln.get_kind_display(), ln.persons, ln.amount]
                  for ln in qs.order_by("-run_month", "-id").iterator()))
    page = Paginator(qs.order_by("-run_month", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "assistance/ledger.html", {"page": page, "f": flt, "programs": m.Program.choices,
                                                      "kinds": m.LedgerLine.Kind.choices,
                                                      "query": query_without_page(request)})


@needs("assistance.view")
def figures(request):
    month = _month(request.GET.get("month"), services.today())
    data = selectors.figures(request.user, month)
    adj = selectors.adjustments(request.user, month)
    for r in data["rows"]:
        r["label"] = epay.GROUP_LABELS_ZH.get(r["program"], r["program"])
    if list_export.wanted(request):
        return list_export.xlsx_response(
            request.user, title=_("Assistance figures"), model="assistance.ledgerline", filters={"month": f"{month:%Y-%m}"},
            headers=[_("Month"), _("Township"), _("Program"), _("Households"), _("Persons"), _("Cumulative amount (yuan)"),
                     _("Report line")],
            rows=([f"{month:%Y-%m}", r["township"], r["label"], r["summary"].households, r["summary"].persons,
                   r["summary"].amount, r["text"]] for r in data["rows"]))
    chart = {"labels": [epay.GROUP_LABELS_ZH.get(r["summary"].program, r["summary"].program) for r in data["overall"]],
             "amounts": [float(r["summary"].amount) for r in data["overall"]]}
    return render(request, "assistance/figures.html", {"month": month, "data": data, "adj": adj, "chart": chart})


# ------------------------------------------------------------------ standards, relatives, referrals

@needs("assistance.view")
def standards(request):
    divisions = Division.objects.visible_to(request.user).filter(level__in=[Division.Level.DISTRICT, Division.Level.STREET])
    form = f.StandardForm(request.POST or None, divisions=divisions, key=request.GET.get("key"),
                          initial={"division": request.user.division_id, "effective_from": services.today()})
    if request.method == "POST":
        require(request.user, "assistance.approve")
        if form.is_valid():
            d = form.cleaned_data
            try:
                row = services.add_standard(request.user, division=d["division"], program=d["program"], key=d["key"],
                                            value=d["parsed"], effective_from=d["effective_from"], source=d["source"])
            except (services.AssistanceError, IntegrityError) as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Standard added; %(n)s entitlements change from %(date)s.") %
                                 {"n": row.restated, "date": row.effective_from.isoformat()})
                if row.needs_decision:
                    messages.warning(request, _("Not eligible under the new standard, a stop decision with written "
                                                "reasons is needed: cases %(ids)s.") %
                                     {"ids": ", ".join(str(i) for i in row.needs_decision)})
                return redirect("assistance:standards")
    paths = [d.path for d in divisions]
    own = request.user.division
    codes = set(own.path.split("/")) if own else set()
    rows = m.Standard.objects.select_related("division", "created_by").filter(
        division__code__in=codes | {d.code for d in divisions}).order_by("key", "program", "division__path",
                                                                          "effective_from")
    from carenet.assistance.engine import rules as erules
    programs = dict(m.PROGRAM_CHOICES_WITH_ANY)
    table = [{"row": r, "label": erules.KEY_LABELS_ZH.get(r.key, r.key), "program": programs.get(r.program, r.program),
              "value": erules.describe_value(r.key, erules.decode_value(r.key, r.value))} for r in rows]
    keys = [(k, erules.KEY_LABELS_ZH.get(k, k)) for k, kind in erules.KEY_TYPES.items() if kind != "json"]
    return render(request, "assistance/standards.html", {"form": form, "rows": table, "today": services.today(),
                                                         "paths": paths, "keys": keys})


@needs("assistance.view")
def relatives(request):
    """近亲属备案. The answer is the same whether the number is registered in the user's area, elsewhere or not
    at all, and the list shows only relatives inside the user's area: the form reveals no name and no existence
    outside it (docs/architecture.md, Privacy). Filing needs `assistance.declare` (not the read-only supervisor)."""
    form = f.RelativeForm(request.POST or None)
    if request.method == "POST":
        require(request.user, "assistance.declare")
        if form.is_valid():
            d = form.cleaned_data
            try:
                number = idcard.parse(d["id_number"]).number
            except idcard.IdNumberError as exc:
                form.add_error("id_number", exc.text(get_language()))
            else:
                services.declare_near_relative_by_number(request.user, number=number, relation=d["relation"])
                messages.success(request, _("Declaration received. If this person is registered, cases involving "
                                            "them are flagged and you cannot handle them."))
                return redirect("assistance:relatives")
    mine = (m.NearRelativeDeclaration.objects.filter(staff=request.user)
            .filter(user_subtree_q(request.user, "resident__division__path")).select_related("resident"))
    return render(request, "assistance/relatives.html", {"form": form, "mine": mine})


@needs("assistance.view")
def referrals(request):
    if request.method == "POST":
        ref = m.Referral.objects.visible_to(request.user).filter(pk=request.POST.get("referral")).first()
        if ref is None:
            raise Http404
        form = f.ReferralUpdateForm(request.POST)
        if form.is_valid():
            services.update_referral(request.user, ref, status=form.cleaned_data["status"],
                                     response=form.cleaned_data["response"])
            messages.success(request, _("Referral updated."))
        return redirect("assistance:referrals")
    qs = m.Referral.objects.visible_to(request.user).select_related("resident", "division", "created_by")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "assistance/referrals.html", {"page": page, "statuses": m.Referral.Status.choices,
                                                         "today": services.today(), "query": ""})
