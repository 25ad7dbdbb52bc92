"""The only place that writes people data. Each write is atomic and leaves an audit row."""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.permissions import require, require_in_area
from carenet.people.models import ElderCategory, ElderProfile, EmergencyContact, HealthArchive, Household, Resident


def reveal_id_number(user, resident: Resident) -> str:
    """The full ID number, for roles that need it; every reveal is audited."""
    require(user, "id.full")
    require_in_area(user, resident.division)
    audit.record(AuditLog.Action.VIEW_ID, resident, actor=user)
    return resident.id_number


def read_health_archive(user, elder: ElderProfile) -> HealthArchive | None:
    """The health archive; every full view is audited."""
    require(user, "health.view")
    require_in_area(user, elder.resident.division)
    archive = HealthArchive.objects.filter(elder=elder).first()
    audit.record(AuditLog.Action.VIEW_HEALTH, elder, actor=user, model="people.healtharchive",
                 object_id=str(archive.pk) if archive else "", object_repr=str(elder.resident))
    return archive


def _save(user, obj, created: bool, before: dict | None = None):
    obj.save()
    if created:
        audit.record(AuditLog.Action.CREATE, obj, actor=user, after=audit.snapshot(obj))
    else:
        audit.record(AuditLog.Action.UPDATE, obj, actor=user, before=before, after=audit.snapshot(obj))
    return obj


@transaction.atomic
def save_resident(user, resident: Resident, id_number: str | None = None) -> Resident:
    require(user, "people.edit")
    require_in_area(user, resident.division)
    created = resident.pk is None
    before = None if created else audit.snapshot(Resident.objects.get(pk=resident.pk))
    if id_number:
        resident.set_id_number(id_number)
    return _save(user, resident, created, before)


@transaction.atomic
def save_elder(user, elder: ElderProfile, categories: list[str] | None = None) -> ElderProfile:
    require(user, "people.edit")
    require_in_area(user, elder.resident.division)
    created = elder.pk is None
    before = None if created else audit.snapshot(ElderProfile.objects.get(pk=elder.pk))
    if before is not None and categories is not None:
        before["categories"] = sorted(elder.category_codes)
    elder.save()
    if categories is not None:
        ElderCategory.objects.filter(elder=elder).exclude(code__in=categories).delete()
        for code in categories:
            ElderCategory.objects.get_or_create(elder=elder, code=code)
    after = audit.snapshot(elder)
    if categories is not None:
        after["categories"] = sorted(categories)
    audit.record(AuditLog.Action.CREATE if created else AuditLog.Action.UPDATE, elder, actor=user,
                 before=before, after=after)
    return elder


def _save_elder_part(user, obj):
    """Save a record that belongs to an elder (health archive, contact), with its audit row."""
    require(user, "people.edit")
    require_in_area(user, obj.elder.resident.division)
    created = obj.pk is None
    before = None if created else audit.snapshot(type(obj).objects.get(pk=obj.pk))
    return _save(user, obj, created, before)


@transaction.atomic
def save_health_archive(user, archive: HealthArchive) -> HealthArchive:
    return _save_elder_part(user, archive)


@transaction.atomic
def save_contact(user, contact: EmergencyContact) -> EmergencyContact:
    return _save_elder_part(user, contact)


@transaction.atomic
def delete_contact(user, contact: EmergencyContact) -> None:
    require(user, "people.edit")
    require_in_area(user, contact.elder.resident.division)
    audit.record(AuditLog.Action.DELETE, contact, actor=user, before=audit.snapshot(contact))
    contact.delete()


@transaction.atomic
def register_resident(user, resident: Resident, id_number: str, *, hukou: str = Household.Hukou.URBAN) -> Resident:
    """A new resident with a household of their own (共同生活家庭 of one, to be completed later)."""
    require(user, "people.edit")
    require_in_area(user, resident.division)
    household = Household.objects.create(division=resident.division, address=resident.address, hukou=hukou)
    audit.record(AuditLog.Action.CREATE, household, actor=user, after=audit.snapshot(household),
                 division_path=resident.division.path)
    resident.household = household
    return save_resident(user, resident, id_number=id_number)


RESIDENT_FIELDS = ("name", "sex", "birth_date", "phone", "address", "lat", "lon", "division")
ELDER_FIELDS = ("living", "care_level", "dementia", "key_elder", "notes")


@transaction.atomic
def save_elder_record(user, elder: ElderProfile | None, data: dict, *, archive: HealthArchive | None = None,
                      contacts: list[EmergencyContact] = (), removed_contacts: list[EmergencyContact] = ()
                      ) -> ElderProfile:
    """The elder's file as one edit: resident, profile and categories, health archive, emergency contacts.

    `data` holds the resident and profile fields, `id_number` and `categories`; `archive` is the (unsaved) health
    archive to store, if it changed; `contacts` are contacts to save and `removed_contacts` those to delete."""
    resident = elder.resident if elder else Resident()
    for f in RESIDENT_FIELDS:
        setattr(resident, f, data[f])
    if resident.pk is None:
        register_resident(user, resident, data["id_number"])
    else:
        save_resident(user, resident, id_number=data.get("id_number") or None)
    elder = elder or ElderProfile(resident=resident)
    for f in ELDER_FIELDS:
        setattr(elder, f, data[f])
    save_elder(user, elder, categories=data["categories"])
    if archive is not None:
        archive.elder = elder
        save_health_archive(user, archive)
    for contact in removed_contacts:
        delete_contact(user, contact)
    for contact in contacts:
        contact.elder = elder
        save_contact(user, contact)
    return elder


# What a duplicate ID number tells the person registering it (docs/architecture.md, Privacy): only that the
# number is taken somewhere in the district. The same words whether the record is in the user's area or not,
# never a name, an area or a link; the district-wide check itself is audited (selectors.*_districtwide).
DUPLICATE_ID_MESSAGE = _("This ID number is already registered and cannot be registered twice. If you cannot "
                         "find the person in your area, ask the district civil-affairs bureau.")
DUPLICATE_ID_MESSAGE_ZH = "身份证号已登记，不能重复建档（如在本辖区查不到此人，请联系区民政局核实）"


def audit_bulk_read(user, model: str, note: str) -> None:
    """A list of personal data left the system (API page, export): one EXPORT row, like the Excel export."""
    audit.record(AuditLog.Action.EXPORT, actor=user, model=model, note=note,
                 division_path=user.division.path if user.division_id else "")


@transaction.atomic
def import_elders(user, entries: list[dict]) -> list[ElderProfile]:
    """Register many new elders at once (the spreadsheet import): the same records and audit rows as typing each
    one in (household, resident, elder profile with categories, health archive, emergency contact), written with
    one INSERT per table instead of a dozen statements per elder.

    Each entry: resident (an unsaved Resident with its division), id_number, hukou, living, care_level,
    categories, and optionally contact = {"name", "relation", "phone"}."""
    require(user, "people.edit")
    for division in {e["resident"].division_id: e["resident"].division for e in entries}.values():
        require_in_area(user, division)
    households = [Household(division=e["resident"].division, address=e["resident"].address, hukou=e["hukou"])
                  for e in entries]
    Household.objects.bulk_create(households, batch_size=1000)
    residents = []
    for e, household in zip(entries, households):
        resident = e["resident"]
        resident.household = household
        resident.set_id_number(e["id_number"])
        residents.append(resident)
    Resident.objects.bulk_create(residents, batch_size=1000)
    elders = [ElderProfile(resident=r, living=e["living"], care_level=e["care_level"]) for e, r in zip(entries, residents)]
    ElderProfile.objects.bulk_create(elders, batch_size=1000)
    ElderCategory.objects.bulk_create([ElderCategory(elder=elder, code=code) for e, elder in zip(entries, elders)
                                       for code in dict.fromkeys(e.get("categories") or [])], batch_size=1000)
    archives = [HealthArchive(elder=elder) for elder in elders]
    HealthArchive.objects.bulk_create(archives, batch_size=1000)
    contacts = [EmergencyContact(elder=elder, order=1, **e["contact"]) for e, elder in zip(entries, elders)
                if e.get("contact")]
    EmergencyContact.objects.bulk_create(contacts, batch_size=1000)
    names = {h.pk: r.name for h, r in zip(households, residents)}
    audit.record_many(AuditLog.Action.CREATE, households, actor=user, repr_of=lambda h: f"{names[h.pk]} {_('household')}")
    audit.record_many(AuditLog.Action.CREATE, residents, actor=user)
    cats = {elder.pk: sorted(set(e.get("categories") or [])) for e, elder in zip(entries, elders)}
    audit.record_many(AuditLog.Action.CREATE, elders, actor=user, repr_of=lambda el: str(el.resident),
                      after=lambda el: {**audit.snapshot(el), "categories": cats[el.pk]})
    audit.record_many(AuditLog.Action.CREATE, archives, actor=user,
                      repr_of=lambda a: f"{_('health archive')}: {a.elder.resident.name}")
    audit.record_many(AuditLog.Action.CREATE, contacts, actor=user)
    return elders
