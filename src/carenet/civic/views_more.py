"""The department registry page and the resident's own 落单 confirmation page."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carenet.civic import confirm, departments, selectors
from carenet.civic import models as m
from carenet.civic.access import CivicServiceError
from carenet.civic.engine import masking, service
from carenet.core.models import Division, User
from carenet.core.permissions import Denied, needs
from carenet.core.roles import Role, can
from carenet.core.scoping import user_subtree_q


@needs("civic.view")
def department_list(request):
    user = request.user
    if request.method == "POST":
        if not can(user, "civic.catalogue"):
            raise PermissionDenied
        _department_post(request)
        return redirect("civic:departments")
    depts = selectors.departments_visible_to(user).annotate(
        items_n=Count("items", distinct=True),
        open_n=Count("requests", filter=Q(requests__state__in=service.OPEN), distinct=True)
    ).prefetch_related("members__user").order_by("code")
    own = selectors.department_of(user)
    free = User.objects.filter(user_subtree_q(user, "division__path"), role=Role.DEPARTMENT, is_active=True,
                               civic_department__isnull=True).order_by("username")
    return render(request, "civic/departments.html", {
        "departments": depts, "own": own, "can_edit": can(user, "civic.catalogue"), "free_logins": free,
        "divisions": Division.objects.filter(user_subtree_q(user, "path"), level__lte=2).order_by("path")})


def _department_post(request):
    p = request.POST
    try:
        if p.get("action") == "member":
            dept = selectors.departments_visible_to(request.user).filter(pk=p.get("department") or 0).first()
            login = User.objects.filter(pk=p.get("user") or 0).first()
            if dept is None or login is None:
                raise CivicServiceError(_("Choose a department and a login."))
            departments.add_department_member(request.user, dept, login)
        else:
            division = Division.objects.filter(user_subtree_q(request.user, "path"), pk=p.get("division") or 0).first()
            if division is None:
                raise CivicServiceError(_("Choose a division in your area."))
            departments.save_department(request.user, m.Department(code=p.get("code", ""), name=p.get("name", ""),
                                                                   division=division, phone=p.get("phone", "")[:20]))
    except CivicServiceError as exc:
        messages.error(request, str(exc))
    except Denied:
        messages.error(request, _("This is outside your area or your role."))
    else:
        messages.success(request, _("Saved."))


def resident_confirm_page(request, token):
    """No staff login: the signed link is the resident's key (or their home-page sign-in as the reporter)."""
    req = confirm.request_for_token(token)
    if req is None:
        raise Http404("link not valid")
    if request.method == "POST":
        try:
            confirm.resident_confirm(req, done=request.POST.get("done") == "1", via="link",
                                     reason=request.POST.get("reason", "")[:300])
        except CivicServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Thank you. Your answer has been recorded."))
        return redirect("civic:resident_confirm", token=token)
    return render(request, "civic/resident_confirm.html", {
        "req": req, "reporter": masking.mask_name((req.reporter.name if req.reporter_id else req.reporter_name) or ""),
        "can_answer": req.state == "completed"})


@require_POST
def resident_confirm_home(request, pk):
    """The same, from the home page for a resident signed in there as the request's reporter."""
    from carenet.civic.views import home_resident

    resident = home_resident(request)
    if resident is None:
        return redirect("civic:home_login")
    req = m.CommunityRequest.objects.filter(pk=pk, reporter=resident).first()
    if req is None:
        raise Http404("not your request")
    try:
        confirm.resident_confirm(req, done=request.POST.get("done") == "1", via="home login", resident=resident,
                                 reason=request.POST.get("reason", "")[:300])
    except CivicServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Thank you. Your answer has been recorded."))
    return redirect("civic:home")
