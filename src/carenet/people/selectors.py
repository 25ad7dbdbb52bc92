"""Reads of people data. Every query starts from `visible_to`, so no view can forget jurisdiction."""
from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from carenet.core import idcard, pii
from carenet.core.models import Division
from carenet.core.scoping import division_q, visible_to
from carenet.people.models import ElderProfile, Resident


def residents_visible_to(user) -> QuerySet[Resident]:
    return visible_to(user, Resident.objects.all())


def elders_visible_to(user) -> QuerySet[ElderProfile]:
    return ElderProfile.objects.filter(division_q(user, "resident__division")).select_related(
        "resident", "resident__division__parent"
    )


def divisions_visible_to(user) -> QuerySet[Division]:
    if user.is_superuser:
        return Division.objects.all()
    if user.division_id is None:
        return Division.objects.none()
    path = user.division.path
    return Division.objects.filter(path__startswith=path)


def get_elder(user, pk) -> ElderProfile:
    """The elder, or 404 when it does not exist *or* lies outside the user's area (no existence leak)."""
    try:
        return elders_visible_to(user).get(pk=pk)
    except (ElderProfile.DoesNotExist, ValueError):
        raise Http404("elder not found") from None


def search_elders(user, *, q: str = "", division: str = "", category: str = "", care_level: str = "",
                  living: str = "") -> QuerySet[ElderProfile]:
    qs = elders_visible_to(user)
    q = (q or "").strip()
    if q:
        qs = qs.filter(_text_filter(q))
    if division:
        qs = qs.filter(resident__division__path__contains=division)
    if category:
        qs = qs.filter(categories__code=category)
    if care_level:
        qs = qs.filter(care_level=care_level)
    if living:
        qs = qs.filter(living=living)
    # Registration order: an index-ordered scan that stops after one page. Sorting 100,000 joined rows
    # by area first cost ~0.5 s on PostgreSQL (bench/people_list.py); the area filter narrows instead.
    return qs.order_by("-id")


def _text_filter(q: str):
    """Name, phone, full ID number (via the keyed hash), masked ID (3408****1234) or the last 4 ID digits."""
    normalized = idcard.normalize(q)
    if "*" in normalized:
        head, _, tail = normalized.partition("*")
        return Q(resident__id_masked__startswith=head, resident__id_masked__endswith=tail.strip("*"))
    if len(normalized) == 18:
        # A full ID number: exact match through the keyed hash (the number itself is never stored in clear).
        return Q(resident__id_number_hash=pii.lookup_hash(normalized))
    if len(normalized) == 4 and normalized[:3].isdigit():
        return Q(resident__id_masked__endswith=normalized) | Q(resident__phone__endswith=normalized)
    if normalized.isdigit():
        return Q(resident__phone__startswith=normalized) | Q(resident__phone__endswith=normalized)
    return Q(resident__name__contains=q)
