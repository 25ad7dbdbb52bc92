from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carenet.core.models import Division
from carenet.core.roles import can
from carenet.core.views import query_without_page
from carenet.people import excel, selectors, services
from carenet.people.forms import ContactFormSet, ElderForm, HealthArchiveForm
from carenet.people.models import Category, ElderProfile, HealthArchive, Household, ImportBatch, Resident

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _need(request, capability):
    if not can(request.user, capability):
        raise PermissionDenied(capability)


def _filters(request):
    return {k: request.GET.get(k, "").strip() for k in ("q", "division", "category", "care_level", "living")}


@login_required
def elder_list(request):
    _need(request, "people.view")
    f = _filters(request)
    qs = selectors.search_elders(request.user, **f).prefetch_related("categories")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    areas = selectors.divisions_visible_to(request.user).filter(level__in=[Division.Level.STREET, Division.Level.COMMUNITY])
    return render(request, "people/elder_list.html", {
        "page": page, "f": f, "areas": areas, "categories": Category.choices,
        "care_levels": ElderProfile.CareLevel.choices, "livings": ElderProfile.Living.choices,
        "query": query_without_page(request),
    })


@login_required
def elder_detail(request, pk):
    _need(request, "people.view")
    elder = selectors.get_elder(request.user, pk)
    health = services.read_health_archive(request.user, elder) if can(request.user, "health.view") else None
    household = []
    if elder.resident.household_id:
        household = selectors.residents_visible_to(request.user).filter(household_id=elder.resident.household_id)
    return render(request, "people/elder_detail.html", {
        "elder": elder, "r": elder.resident, "health": health, "contacts": elder.contacts.all(),
        "household": household, "lines": HealthArchive.lines,
    })


@login_required
@require_POST
def reveal_id(request, pk):
    elder = selectors.get_elder(request.user, pk)
    number = services.reveal_id_number(request.user, elder.resident)
    return HttpResponse(f'<span class="font-monospace" id="id-number">{number}</span>')


def _form_kwargs(request, resident=None):
    return {"user": request.user, "resident": resident, "data": request.POST or None}


@login_required
def elder_edit(request, pk=None):
    _need(request, "people.edit")
    elder = selectors.get_elder(request.user, pk) if pk else None
    resident = elder.resident if elder else None
    initial = {}
    if elder:
        initial = {f: getattr(resident, f) for f in ("name", "sex", "birth_date", "phone", "address", "lat", "lon")}
        initial |= {"division": resident.division, "living": elder.living, "care_level": elder.care_level,
                    "dementia": elder.dementia, "key_elder": elder.key_elder, "notes": elder.notes,
                    "categories": elder.category_codes}
    form = ElderForm(**_form_kwargs(request, resident), initial=initial)
    archive = (HealthArchive.objects.filter(elder=elder).first() if elder else None) or HealthArchive()
    hform = HealthArchiveForm(request.POST or None, instance=archive, prefix="h")
    contacts = ContactFormSet(request.POST or None, instance=elder or ElderProfile(), prefix="c")
    if request.method == "POST" and form.is_valid() and hform.is_valid() and contacts.is_valid():
        with transaction.atomic():
            elder = _save_all(request.user, form, hform, contacts, elder)
        messages.success(request, _("Saved."))
        return redirect("elder_detail", pk=elder.pk)
    return render(request, "people/elder_form.html", {"form": form, "hform": hform, "contacts": contacts, "elder": elder})


def _save_all(user, form, hform, contacts, elder):
    d = form.cleaned_data
    resident = elder.resident if elder else Resident()
    for f in ("name", "sex", "birth_date", "phone", "address", "lat", "lon", "division"):
        setattr(resident, f, d[f])
    if resident.pk is None:
        resident.household = Household.objects.create(division=d["division"], address=d["address"])
    services.save_resident(user, resident, id_number=d["id_number"] or None)
    elder = elder or ElderProfile(resident=resident)
    for f in ("living", "care_level", "dementia", "key_elder", "notes"):
        setattr(elder, f, d[f])
    services.save_elder(user, elder, categories=d["categories"])
    archive = hform.save(commit=False)
    archive.elder = elder
    if hform.has_changed() or archive.pk is None:
        services.save_health_archive(user, archive)
    for cform in contacts.forms:
        if not cform.has_changed():
            continue
        if contacts.can_delete and contacts._should_delete_form(cform):
            if cform.instance.pk:
                services.delete_contact(user, cform.instance)
            continue
        contact = cform.save(commit=False)
        contact.elder = elder
        services.save_contact(user, contact)
    return elder


@login_required
def elder_export(request):
    _need(request, "people.export")
    qs = selectors.search_elders(request.user, **_filters(request))
    response = HttpResponse(excel.export(qs, request.user), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="elders.xlsx"'
    return response


@login_required
def elder_import(request):
    _need(request, "people.import")
    batch = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose an .xlsx file to import."))
        else:
            try:
                batch = excel.import_file(upload.read(), upload.name, request.user)
            except excel.ImportFileError as exc:
                messages.error(request, str(exc))
    recent = ImportBatch.objects.filter(user=request.user)[:10]
    return render(request, "people/elder_import.html", {"batch": batch, "recent": recent})


@login_required
def import_report(request, pk):
    batch = get_object_or_404(ImportBatch, pk=pk)
    if batch.user_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    if not batch.report:
        raise Http404
    response = HttpResponse(bytes(batch.report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-rejected.xlsx"'
    return response


@login_required
def import_template(request):
    _need(request, "people.import")
    response = HttpResponse(excel.template_file(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="elders-template.xlsx"'
    return response
