"""The only place that writes people data. Each write is atomic and leaves an audit row."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from carenet.core import audit
from carenet.core.models import AuditLog
from carenet.core.roles import can
from carenet.core.scoping import path_visible_to
from carenet.people.models import ElderCategory, ElderProfile, EmergencyContact, HealthArchive, Resident


def require(user, capability: str) -> None:
    if not can(user, capability):
        audit.record(AuditLog.Action.DENIED, actor=user, note=f"missing capability {capability}")
        raise PermissionDenied(capability)


def require_in_area(user, division) -> None:
    if not path_visible_to(user, division.path):
        raise PermissionDenied("record outside your jurisdiction")


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
def delete_elder(user, elder: ElderProfile) -> None:
    require(user, "people.edit")
    require_in_area(user, elder.resident.division)
    audit.record(AuditLog.Action.DELETE, elder, actor=user, before=audit.snapshot(elder))
    elder.delete()
