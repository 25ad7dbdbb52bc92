"""Pages to keep the registry's supporting data: dated subsidy rules, staff records, complaints."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carenet.core.models import Division, User
from carenet.core.permissions import Denied, needs
from carenet.core.roles import can
from carenet.core.scoping import user_subtree_q
from carenet.facilities import models as m
from carenet.facilities import selectors as sel
from carenet.facilities import services
from carenet.facilities.engine import subsidy as esub

BAND_ROWS = 5


def _divisions(user, max_level=2):
    return Division.objects.filter(user_subtree_q(user, "path"), level__lte=max_level).order_by("path")


# ------------------------------------------------------------------ subsidy rules

@needs("facilities.view")
def subsidy_rules(request):
    """The dated subsidy rules (caps per type, score bands) and what is in force today; the district adds rows."""
    user = request.user
    on = timezone.localdate()
    division = user.division if user.division_id else Division.objects.filter(level=1).first()
    form = {"division": str(division.pk) if division else "", "facility_type": "center", "key": esub.CAP_KEY,
            "cap": "", "effective_from": on.isoformat(), "source": ""}
    bands = [("", "")] * BAND_ROWS
    if request.method == "POST":
        if not can(user, "facilities.approve"):
            raise PermissionDenied
        form.update({k: request.POST.get(k, "").strip() for k in form})
        bands = [(request.POST.get(f"band_min_{i}", "").strip(), request.POST.get(f"band_rate_{i}", "").strip())
                 for i in range(BAND_ROWS)]
        try:
            _add_rule(user, form, bands)
        except services.FacilityError as exc:
            messages.error(request, str(exc))
        except Denied:
            messages.error(request, _("This is outside your area or your role."))
        else:
            messages.success(request, _("Rule saved. Evaluations on or after its date use it."))
            return redirect("facilities:subsidy_rules")
    in_force = sel.subsidy_in_force(division, on) if division else []
    return render(request, "facilities/subsidy_rules.html", {
        "rules": sel.subsidy_rules_visible_to(user), "in_force": in_force, "today": on, "form": form, "bands": bands,
        "divisions": _divisions(user), "types": [("*", _("All types"))] + list(m.FacilityType.choices),
        "keys": [(esub.CAP_KEY, _("Yearly cap (yuan)")), (esub.BANDS_KEY, _("Score bands"))],
        "can_add": can(user, "facilities.approve")})


def _add_rule(user, form, bands):
    division = Division.objects.filter(user_subtree_q(user, "path"), pk=form["division"] or 0).first()
    if division is None:
        raise services.FacilityError(_("Choose a division in your area."))
    if form["facility_type"] not in ["*"] + list(m.FacilityType.values):
        raise services.FacilityError(_("Choose a facility type."))
    try:
        effective = dt.date.fromisoformat(form["effective_from"])
    except ValueError:
        raise services.FacilityError(_("Enter the date the rule takes effect.")) from None
    if form["key"] == esub.CAP_KEY:
        try:
            value = Decimal(form["cap"])
        except InvalidOperation:
            raise services.FacilityError(_("Enter the yearly cap in yuan.")) from None
    elif form["key"] == esub.BANDS_KEY:
        value = _bands(bands)
    else:
        raise services.FacilityError(_("Choose what the rule sets."))
    services.add_subsidy_rule(user, division, form["facility_type"], form["key"], value, effective,
                              form["source"][:300])


def _bands(rows):
    out = []
    for lo, rate in rows:
        if not lo and not rate:
            continue
        try:
            lo_d, rate_d = Decimal(lo), Decimal(rate) / 100
        except InvalidOperation:
            raise services.FacilityError(_("Each band needs a minimum score and a percentage of the cap.")) from None
        out.append((lo_d, rate_d))
    if not out:
        raise services.FacilityError(_("Each band needs a minimum score and a percentage of the cap."))
    return out


# ------------------------------------------------------------------ staff

@needs("facilities.staff")
def staff_edit(request, pk):
    s = get_object_or_404(m.Staff.objects.visible_to(request.user).select_related("facility", "user"), pk=pk)
    accounts = User.objects.filter(user_subtree_q(request.user, "division__path"), is_active=True).order_by("username")
    if request.method == "POST":
        p = request.POST
        try:
            hours = int(p.get("training_hours") or 0)
        except ValueError:
            hours = -1
        account = accounts.filter(pk=p.get("user") or 0).first() if p.get("user") else None
        try:
            services.update_staff(request.user, s.pk, name=p.get("name", "").strip()[:50], role=p.get("role", ""),
                                  certificates=p.get("certificates", "").strip()[:200], training_hours=hours,
                                  user=account, active=p.get("active") == "1")
        except services.FacilityError as exc:
            messages.error(request, str(exc))
        except Denied:
            messages.error(request, _("This is outside your area or your role."))
        else:
            messages.success(request, _("Saved."))
            return redirect("facilities:detail", pk=s.facility_id)
    return render(request, "facilities/staff_edit.html", {"s": s, "roles": m.Staff.Role.choices,
                                                          "accounts": accounts[:300]})


# ------------------------------------------------------------------ complaints

@needs("facilities.complaints")
def complaints(request):
    user = request.user
    qs = sel.complaints_visible_to(user)
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.exclude(status=m.Complaint.Status.CLOSED)
    elif status in m.Complaint.Status.values:
        qs = qs.filter(status=status)
    facilities = sel.facilities_visible_to(user).exclude(status=m.Facility.Status.CLOSED).order_by("name")
    form = {"facility": request.GET.get("facility", ""), "channel": "phone", "category": "other", "complainant": "",
            "phone": "", "summary": "", "received_on": timezone.localdate().isoformat()}
    if request.method == "POST":
        form.update({k: request.POST.get(k, "").strip() for k in form})
        fac = facilities.filter(pk=form["facility"] or 0).first()
        try:
            received = dt.date.fromisoformat(form["received_on"])
        except ValueError:
            received = None
        if fac is None or received is None:
            messages.error(request, _("Choose the facility and the date received."))
        else:
            try:
                c = services.take_complaint(user, fac, summary=form["summary"], category=form["category"],
                                            channel=form["channel"], complainant=form["complainant"],
                                            phone=form["phone"], received_on=received)
            except services.FacilityError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Complaint recorded."))
                return redirect("facilities:complaint", pk=c.pk)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return render(request, "facilities/complaints.html", {
        "page": page, "rows": [(c, services.complaint_overdue(c, today)) for c in page], "status": status,
        "statuses": [("open", _("Not closed"))] + list(m.Complaint.Status.choices), "form": form,
        "facilities": facilities[:500], "channels": m.Complaint.Channel.choices,
        "categories": m.Complaint.Category.choices})


@needs("facilities.complaints")
def complaint(request, pk):
    c = sel.get_complaint(request.user, pk)
    return render(request, "facilities/complaint.html", {
        "c": c, "steps": c.steps.select_related("actor"), "overdue": services.complaint_overdue(c),
        "divisions": _divisions(request.user), "default_to": services.street_of(c.facility),
        "can_handle": can(request.user, "facilities.complaints_handle"),
        "can_see_phone": can(request.user, "facilities.complaints_handle")})


@require_POST
@needs("facilities.complaints_handle")
def complaint_step(request, pk):
    c = sel.get_complaint(request.user, pk)
    action = request.POST.get("action")
    try:
        if action == "route":
            to = _divisions(request.user).filter(pk=request.POST.get("to") or 0).first()
            if to is None:
                raise services.FacilityError(_("Choose a division in your area."))
            services.route_complaint(request.user, c.pk, to, request.POST.get("handler", ""))
        elif action == "answer":
            services.answer_complaint(request.user, c.pk, request.POST.get("reply", "")[:2000])
        elif action == "close":
            services.close_complaint(request.user, c.pk, request.POST.get("note", "")[:300])
        else:
            raise services.FacilityError(_("Unknown action."))
    except services.FacilityError as exc:
        messages.error(request, str(exc))
    except Denied:
        messages.error(request, _("This is outside your area or your role."))
    else:
        messages.success(request, _("Saved."))
    return redirect("facilities:complaint", pk=c.pk)
