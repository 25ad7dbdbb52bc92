"""Pages to manage the home-care registries: providers (areas covered, contract period, price list), helpers
(skills, certificates, service area, working hours, one provider) and the service catalogue (unit, price,
duration range). Lists for ``homecare.view`` holders (scoped), forms for ``homecare.manage`` holders; every
write goes through homecare.registry (audited)."""
from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.core import audit
from carenet.core import imports as core_imports
from carenet.core.models import AuditLog
from carenet.core.permissions import Denied, needs
from carenet.core.roles import can
from carenet.homecare import forms as f
from carenet.homecare import models as m
from carenet.homecare import registry, selectors
from carenet.homecare.services import HomecareError
from carenet.homecare.views import _xlsx


def _importers(user, prefix: str) -> list[tuple[str, str]]:
    """The spreadsheet importers of home-care registries the user may run (linked from the list pages)."""
    found = getattr(core_imports, "_REGISTRY", {})
    return [(k, str(i.label)) for k, i in sorted(found.items()) if k.startswith(prefix) and can(user, i.capability)]


def _export(request, model: str, name: str, title: str, head, rows):
    audit.record(AuditLog.Action.EXPORT, actor=request.user, model=model, object_repr=f"{name} export",
                 division_path=request.user.division.path if request.user.division_id else "")
    return _xlsx(f"homecare-{name}.xlsx", title, head, rows)


# ------------------------------------------------------------------ service types (the catalogue)

@needs("homecare.view")
def service_types(request):
    qs = m.ServiceType.objects.all()
    if request.GET.get("format") == "xlsx":
        return _export(request, "homecare.servicetype", "service-types", _("Service types"),
                       [_("Code"), _("Name"), _("Unit"), _("Price (yuan)"), _("Minimum minutes"), _("Maximum minutes"), _("Offered")],
                       ((t.code, t.name, t.get_unit_display(), t.price, t.min_minutes, t.max_minutes,
                         _("yes") if t.active else _("no")) for t in qs))
    return render(request, "homecare/manage_service_types.html", {"types": qs, "can_manage": can(request.user, "homecare.manage")})


@needs("homecare.manage")
def service_type_edit(request, pk=None):
    st = None
    if pk is not None:
        st = m.ServiceType.objects.filter(pk=pk).first()
        if st is None:
            raise Http404("service type not found")
    initial = {k: getattr(st, k) for k in registry.SERVICE_FIELDS} if st else {"active": True, "unit": "visit"}
    form = f.ServiceTypeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            st = registry.save_service_type(request.user, st, **form.cleaned_data)
        except HomecareError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Service type %(name)s saved.") % {"name": st.name})
            return redirect("homecare:service_types")
    return render(request, "homecare/manage_form.html", {
        "form": form, "title": _("Edit service type") if st else _("New service type"), "back": "homecare:service_types"})


# ------------------------------------------------------------------ providers

def _providers(request):
    qs = selectors.providers_visible_to(request.user).prefetch_related("areas").annotate(
        n_helpers=Count("helpers", distinct=True), n_prices=Count("prices", distinct=True)).select_related("division")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(phone__contains=q))
    return qs.order_by("name"), q


@needs("homecare.view")
def providers(request):
    qs, q = _providers(request)
    today = timezone.localdate()
    if request.GET.get("format") == "xlsx":
        return _export(request, "homecare.provider", "providers", _("Providers"),
                       [_("Name"), _("Registered in"), _("Areas covered"), _("Contract start"), _("Contract end"), _("Phone"),
                        _("Helpers"), _("Contracted prices"), _("Active")],
                       ((p.name, p.division.name, "、".join(a.name for a in p.areas.all()), p.contract_start, p.contract_end,
                         p.phone, p.n_helpers, p.n_prices, _("yes") if p.active else _("no")) for p in qs))
    return render(request, "homecare/manage_providers.html", {
        "providers": qs, "q": q, "today": today, "can_manage": can(request.user, "homecare.manage"),
        "importers": _importers(request.user, "homecare.providers")})


def _manageable_provider(request, pk) -> m.Provider:
    p = m.Provider.objects.visible_to(request.user).filter(pk=pk).first()
    if p is None:
        raise Http404("provider not found")
    return p


@needs("homecare.manage")
def provider_edit(request, pk=None):
    p = _manageable_provider(request, pk) if pk is not None else None
    initial = ({**{k: getattr(p, k) for k in registry.PROVIDER_FIELDS}, "areas": list(p.areas.all())} if p
               else {"active": True, "division": request.user.division})
    form = f.ProviderForm(request.POST or None, initial=initial, user=request.user)
    types = list(m.ServiceType.objects.all())
    prices = {i.service_type_id: i.price for i in m.PriceItem.objects.filter(provider=p)} if p else {}
    if request.method == "POST" and request.POST.get("form") == "prices" and p is not None:
        try:
            n = registry.set_prices(request.user, p, {t.pk: request.POST.get(f"price_{t.pk}", "") for t in types})
        except HomecareError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Price list saved: %(n)s prices changed.") % {"n": n})
        return redirect("homecare:provider", pk=p.pk)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        areas = d.pop("areas")
        try:
            p = registry.save_provider(request.user, p, areas=areas, **d)
        except (HomecareError, Denied) as exc:
            form.add_error(None, str(exc) if isinstance(exc, HomecareError) else _("That area is outside your jurisdiction."))
        else:
            messages.success(request, _("Provider %(name)s saved.") % {"name": p.name})
            return redirect("homecare:provider", pk=p.pk)
    return render(request, "homecare/manage_provider.html", {
        "form": form, "p": p, "price_rows": [(t, prices.get(t.pk, "")) for t in types],
        "helpers": p.helpers.select_related("division") if p else []})


# ------------------------------------------------------------------ helpers

def _helpers(request):
    qs = selectors.helpers_visible_to(request.user).select_related("provider", "division", "user").prefetch_related("skills")
    flt = {k: request.GET.get(k, "").strip() for k in ("q", "provider", "skill")}
    if flt["q"]:
        qs = qs.filter(Q(name__contains=flt["q"]) | Q(phone__contains=flt["q"]))
    if flt["provider"].isdigit():
        qs = qs.filter(provider_id=int(flt["provider"]))
    if flt["skill"]:
        qs = qs.filter(skills__code=flt["skill"])
    return qs.order_by("provider__name", "name").distinct(), flt


@needs("homecare.view")
def helpers(request):
    qs, flt = _helpers(request)
    if request.GET.get("format") == "xlsx":
        return _export(request, "homecare.helper", "helpers", _("Helpers"),
                       [_("Name"), _("Provider"), _("Phone"), _("Skills"), _("Certificates"), _("Service area"),
                        _("Works from"), _("Works until"), _("Active")],
                       ((h.name, h.provider.name, h.phone, "、".join(s.name for s in h.skills.all()), h.certificates,
                         h.division.name, h.work_start.strftime("%H:%M"), h.work_end.strftime("%H:%M"),
                         _("yes") if h.active else _("no")) for h in qs))
    return render(request, "homecare/manage_helpers.html", {
        "helpers": qs, "flt": flt, "providers": selectors.providers_visible_to(request.user).order_by("name"),
        "types": m.ServiceType.objects.all(), "can_manage": can(request.user, "homecare.manage"),
        "importers": _importers(request.user, "homecare.helpers")})


@needs("homecare.manage")
def helper_edit(request, pk=None):
    h = None
    if pk is not None:
        h = m.Helper.objects.visible_to(request.user).filter(pk=pk).first()
        if h is None:
            raise Http404("helper not found")
    if h:
        initial = {**{k: getattr(h, k) for k in registry.HELPER_FIELDS}, "skills": list(h.skills.all())}
    else:
        initial = {"active": True, "work_start": "08:00", "work_end": "18:00",
                   "provider": request.GET.get("provider") if request.GET.get("provider", "").isdigit() else None}
    form = f.HelperForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        skills = d.pop("skills")
        try:
            h = registry.save_helper(request.user, h, skills=skills, **d)
        except (HomecareError, Denied) as exc:
            form.add_error(None, str(exc) if isinstance(exc, HomecareError) else _("That area is outside your jurisdiction."))
        else:
            messages.success(request, _("Helper %(name)s saved.") % {"name": h.name})
            return redirect("homecare:helpers")
    return render(request, "homecare/manage_form.html", {
        "form": form, "title": _("Edit helper") if h else _("New helper"), "back": "homecare:helpers"})
