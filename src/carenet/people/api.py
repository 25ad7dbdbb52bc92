"""People API: the same scoping as the UI (Model.objects.visible_to); out-of-area records are 404."""
import datetime as dt

from ninja import Path, Query, Router, Schema

from carenet.core.permissions import require
from carenet.people import selectors, services

router = Router(tags=["people"])
MAX_OFFSET = 10_000_000  # far beyond any district; keeps OFFSET inside what every database accepts


class ContactOut(Schema):
    order: int
    name: str
    relation: str
    phone: str
    key_holder: bool


class ElderOut(Schema):
    id: int
    name: str
    sex: str
    age: int
    birth_date: dt.date
    id_masked: str
    phone: str
    address: str
    division_code: str
    division_name: str
    living: str
    care_level: str
    categories: list[str]


class ElderDetailOut(ElderOut):
    contacts: list[ContactOut]


def _out(e) -> dict:
    r = e.resident
    return {"id": e.pk, "name": r.name, "sex": r.sex, "age": r.age, "birth_date": r.birth_date, "id_masked": r.id_masked,
            "phone": r.phone, "address": r.address, "division_code": r.division.code, "division_name": r.division.name,
            "living": e.living, "care_level": e.care_level, "categories": [c.code for c in e.categories.all()]}


@router.get("/elders", response=list[ElderOut])
def list_elders(request, q: str = Query("", max_length=100), division: str = Query("", max_length=80),
                category: str = Query("", max_length=30), limit: int = Query(50, ge=1, le=500),
                offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    """Out-of-range limit or offset, over-long text or a control character: 422 (or 400), never a 500."""
    require(request.user, "people.view")
    qs = selectors.search_elders(request.user, q=q, division=division, category=category).prefetch_related("categories")
    rows = [_out(e) for e in qs[offset:offset + limit]]
    # A page of names, phones and addresses is a bulk read, audited like the Excel export of the same data.
    services.audit_bulk_read(request.user, "people.elderprofile", f"api list rows={len(rows)} offset={offset}")
    return rows


@router.get("/elders/{elder_id}", response=ElderDetailOut)
def get_elder(request, elder_id: int = Path(..., ge=1, le=2**63 - 1)):
    require(request.user, "people.view")
    e = selectors.get_elder(request.user, elder_id)
    return _out(e) | {"contacts": list(e.contacts.all())}
