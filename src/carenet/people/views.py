from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carenet.core.models import Division
from carenet.core.permissions import needs
from carenet.core import todo
from carenet.core.roles import HOME_URL, can
from carenet.core.scoping import subtree_q
from carenet.core.views import query_without_page
from carenet.people import excel, file_sections, selectors, services
from carenet.people.forms import ContactFormSet, ElderForm, HealthArchiveForm
from carenet.people.models import Category, ElderProfile, HealthArchive, ImportBatch, Resident

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def dashboard(request):
    """The home page: the elders of the user's area at a glance (counts by child area, category, care level)."""
    user = request.user
    home = HOME_URL.get(user.role)
    if home and not request.GET.get("overview"):
        return redirect(home)
    elders = ElderProfile.objects.visible_to(user)
    base = user.division if user.division_id else Division.objects.filter(level=Division.Level.DISTRICT).first()
    children = list(Division.objects.filter(parent=base).order_by("code")) if base else []
    # Count elders per child division with one grouped query on the path prefix.
    by_child = []
    if children:
        annotations = {f"c{i}": Count("id", filter=subtree_q(c.path, "resident__division__path")) for i, c in enumerate(children)}
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


FILTERS = ("q", "division", "category", "care_level", "living", "idh")


def _filters(request):
    return {k: request.GET.get(k, "").strip() for k in FILTERS}


def _search_redirect(request):
    """The search form posts, so a full ID number typed into it never reaches a URL (or the access log): it is
    replaced by its keyed hash (`idh`), which finds the record and cannot be turned back into the number."""
    from urllib.parse import urlencode

    from carenet.core import idcard, pii

    params = {k: request.POST.get(k, "").strip() for k in FILTERS if k != "idh"}
    q = idcard.normalize(params["q"])
    if len(q) == 18:
        try:
            params["idh"], params["q"] = pii.lookup_hash(idcard.parse(q).number), ""
        except idcard.IdNumberError:
            params["q"] = ""  # a mistyped number is not kept either
    return redirect(request.path + "?" + urlencode({k: v for k, v in params.items() if v}))


@needs("people.view")
def elder_list(request):
    if request.method == "POST":
        return _search_redirect(request)
    f = _filters(request)
    qs = selectors.search_elders(request.user, **f).prefetch_related("categories")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    areas = Division.objects.visible_to(request.user).filter(level__in=[Division.Level.STREET, Division.Level.COMMUNITY])
    return render(request, "people/elder_list.html", {
        "page": page, "f": f, "areas": areas, "categories": Category.choices,
        "care_levels": ElderProfile.CareLevel.choices, "livings": ElderProfile.Living.choices,
        "query": query_without_page(request),
    })


@needs("people.view")
def elder_detail(request, pk):
    elder = selectors.get_elder(request.user, pk)
    health = services.read_health_archive(request.user, elder) if can(request.user, "health.view") else None
    household = []
    if elder.resident.household_id:
        household = Resident.objects.visible_to(request.user).filter(household_id=elder.resident.household_id)
    sections = file_sections.sections_for(request.user, elder)
    return render(request, "people/elder_detail.html", {
        "elder": elder, "r": elder.resident, "health": health, "contacts": elder.contacts.all(),
        "household": household, "lines": HealthArchive.lines,
        "sections": sections, "profile_notes": [s.profile_note for s in sections if s.profile_note],
    })


@login_required
@require_POST
def reveal_id(request, pk):
    elder = selectors.get_elder(request.user, pk)
    number = services.reveal_id_number(request.user, elder.resident)
    return HttpResponse(f'<span class="font-monospace" id="id-number">{number}</span>')


def _form_kwargs(request, resident=None):
    return {"user": request.user, "resident": resident, "data": request.POST or None}


@needs("people.edit")
def elder_edit(request, pk=None):
    elder = selectors.get_elder(request.user, pk) if pk else None
    resident = elder.resident if elder else None
    initial = {}
    if elder:
        initial = {f: getattr(resident, f) for f in ("name", "sex", "birth_date", "phone", "address", "lat", "lon")}
        initial |= {"division": resident.division, "living": elder.living, "care_level": elder.care_level,
                    "dementia": elder.dementia, "key_elder": elder.key_elder, "notes": elder.notes,
                    "categories": elder.category_codes}
    form = ElderForm(**_form_kwargs(request, resident), initial=initial)
    # The form shows the health archive: reading it is audited like on the detail page (view_health).
    archive = (services.read_health_archive(request.user, elder) if elder else None) or HealthArchive()
    hform = HealthArchiveForm(request.POST or None, instance=archive, prefix="h")
    contacts = ContactFormSet(request.POST or None, instance=elder or ElderProfile(), prefix="c")
    if request.method == "POST" and form.is_valid() and hform.is_valid() and contacts.is_valid():
        elder = _save_all(request.user, form, hform, contacts, elder)
        messages.success(request, _("Saved."))
        return redirect("elder_detail", pk=elder.pk)
    return render(request, "people/elder_form.html", {"form": form, "hform": hform, "contacts": contacts, "elder": elder})


def _save_all(user, form, hform, contacts, elder):
    """Hand the three forms to the service as one edit (form.save(commit=False) builds instances, never writes)."""
    archive = hform.save(commit=False)
    changed = hform.has_changed() or archive.pk is None
    to_save, to_delete = [], []
    for cform in contacts.forms:
        if not cform.has_changed():
            continue
        if contacts.can_delete and contacts._should_delete_form(cform):
            if cform.instance.pk:
                to_delete.append(cform.instance)
            continue
        to_save.append(cform.save(commit=False))
    return services.save_elder_record(user, elder, form.cleaned_data, archive=archive if changed else None,
                                      contacts=to_save, removed_contacts=to_delete)


@needs("people.export")
def elder_export(request):
    qs = selectors.search_elders(request.user, **_filters(request))
    response = HttpResponse(excel.export(qs, request.user), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="elders.xlsx"'
    return response


@needs("people.import")
def elder_import(request):
    """The elder import runs on the shared pipeline (core.imports, people/importers.py)."""
    return redirect("import_upload", key="people.elders")


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


@needs("people.import")
def import_template(request):
    return redirect("import_template_file", key="people.elders")
