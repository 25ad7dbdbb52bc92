"""Writes of the home-care registries: service types (the catalogue), providers with their areas, contract
period and price list, and helpers. Each write is atomic, audited, and checks ``homecare.manage`` and the
record's area first (core.permissions), like services.py."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.homecare import models as m
from carenet.homecare.services import HomecareError

PROVIDER_FIELDS = ("name", "division", "contract_start", "contract_end", "phone", "active")
HELPER_FIELDS = ("provider", "user", "name", "phone", "certificates", "division", "work_start", "work_end", "active")
SERVICE_FIELDS = ("code", "name", "unit", "price", "min_minutes", "max_minutes", "active")


def _snap(obj, fields) -> dict:
    out = {}
    for f in fields:
        v = getattr(obj, f + "_id", None) if hasattr(obj, f + "_id") else getattr(obj, f)
        out[f] = v if isinstance(v, (int, bool, str, type(None))) else str(v)
    return out


# ------------------------------------------------------------------ service types

def _check_service(code: str, name: str, price, lo: int, hi: int) -> None:
    if not code or not name.strip():
        raise HomecareError(_("A service type needs a code and a name."))
    if price is None or Decimal(price) < 0:
        raise HomecareError(_("The price must be zero or more."))
    if not 1 <= int(lo) <= int(hi):
        raise HomecareError(_("The minimum duration must be at least 1 minute and not above the maximum."))


@transaction.atomic
def save_service_type(user, st: m.ServiceType | None, **data) -> m.ServiceType:
    """Create (``st`` None) or edit a service type: unit, price and the required duration range."""
    require(user, "homecare.manage")
    _check_service(data["code"], data["name"], data["price"], data["min_minutes"], data["max_minutes"])
    if m.ServiceType.objects.filter(code=data["code"]).exclude(pk=st.pk if st else None).exists():
        raise HomecareError(_("Another service type already uses the code %(code)s.") % {"code": data["code"]})
    before = _snap(st, SERVICE_FIELDS) if st else None
    st = st or m.ServiceType()
    for f in SERVICE_FIELDS:
        if f in data:
            setattr(st, f, data[f])
    st.save()
    audit.record(AuditLog.Action.UPDATE if before else AuditLog.Action.CREATE, st, actor=user, before=before,
                 after=_snap(st, SERVICE_FIELDS), division_path=user.division.path if user.division_id else "",
                 note="homecare.service_type")
    return st


# ------------------------------------------------------------------ providers and their price lists

def _check_provider(division: Division, areas, start: dt.date, end: dt.date, user) -> None:
    if end < start:
        raise HomecareError(_("The contract ends before it starts."))
    if not areas:
        raise HomecareError(_("Choose at least one area the provider covers."))
    require_in_area(user, division)
    for a in areas:
        require_in_area(user, a)


@transaction.atomic
def save_provider(user, provider: m.Provider | None, *, areas, **data) -> m.Provider:
    """Create or edit a provider (服务商): where it is registered, the areas it covers, its contract period."""
    require(user, "homecare.manage")
    if not str(data.get("name", "")).strip():
        raise HomecareError(_("Enter the provider's name."))
    _check_provider(data["division"], list(areas), data["contract_start"], data["contract_end"], user)
    if provider is not None:
        require_in_area(user, provider.division)
    before = {**_snap(provider, PROVIDER_FIELDS), "areas": sorted(a.pk for a in provider.areas.all())} if provider else None
    provider = provider or m.Provider()
    for f in PROVIDER_FIELDS:
        if f in data:
            setattr(provider, f, data[f].strip() if isinstance(data[f], str) else data[f])
    provider.save()
    provider.areas.set(list(areas))
    audit.record(AuditLog.Action.UPDATE if before else AuditLog.Action.CREATE, provider, actor=user, before=before,
                 after={**_snap(provider, PROVIDER_FIELDS), "areas": sorted(a.pk for a in areas)},
                 division_path=provider.division.path, note="homecare.provider")
    return provider


def _price(raw) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        v = Decimal(str(raw).strip()).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise HomecareError(_("“%(value)s” is not a price.") % {"value": str(raw)[:20]}) from None
    if v < 0 or v >= Decimal("1000000"):
        raise HomecareError(_("A price is between 0 and 999,999.99 yuan."))
    return v


@transaction.atomic
def set_prices(user, provider: m.Provider, prices: dict[int, object]) -> int:
    """The provider's contracted price list: {service type id: price, or empty for the catalogue price}.
    Returns how many prices changed."""
    require(user, "homecare.manage")
    require_in_area(user, provider.division)
    types = {t.pk: t for t in m.ServiceType.objects.filter(pk__in=list(prices))}
    have = {p.service_type_id: p for p in m.PriceItem.objects.filter(provider=provider)}
    changed, before, after = 0, {}, {}
    for tid, raw in prices.items():
        if tid not in types:
            continue
        value, old = _price(raw), have.get(tid)
        if value is None and old is not None:
            old.delete()
        elif value is not None and old is None:
            m.PriceItem.objects.create(provider=provider, service_type=types[tid], price=value)
        elif value is not None and old is not None and old.price != value:
            old.price = value
            old.save(update_fields=["price"])
        else:
            continue
        changed += 1
        before[types[tid].code] = str(old.price) if old else None
        after[types[tid].code] = str(value) if value is not None else None
    if changed:
        audit.record(AuditLog.Action.UPDATE, provider, actor=user, before=before, after=after,
                     division_path=provider.division.path, note="homecare.price_list")
    return changed


# ------------------------------------------------------------------ helpers

def _covers(provider: m.Provider, division: Division) -> bool:
    return any(division.path == a.path or division.path.startswith(a.path + "/") for a in provider.areas.all())


@transaction.atomic
def save_helper(by, helper: m.Helper | None, *, skills, **data) -> m.Helper:
    """Create or edit a helper (助老员): one provider, skills, certificates, service area and working hours."""
    require(by, "homecare.manage")
    if not str(data.get("name", "")).strip():
        raise HomecareError(_("Enter the helper's name."))
    provider, division = data["provider"], data["division"]
    require_in_area(by, division)
    if helper is not None:
        require_in_area(by, helper.division)
    if not provider.active:
        raise HomecareError(_("The provider %(name)s is inactive.") % {"name": provider.name})
    if not _covers(provider, division):
        raise HomecareError(_("%(provider)s does not cover %(area)s: choose a service area inside the provider's areas.")
                            % {"provider": provider.name, "area": division.name})
    if data["work_end"] <= data["work_start"]:
        raise HomecareError(_("The working hours end before they start."))
    login = data.get("user")
    if login is not None:
        from carenet.core.roles import Role

        if login.role != Role.HELPER:
            raise HomecareError(_("Only a helper / provider staff account can be a helper's login."))
        if m.Helper.objects.filter(user=login).exclude(pk=helper.pk if helper else None).exists():
            raise HomecareError(_("This login already belongs to another helper."))
    before = {**_snap(helper, HELPER_FIELDS), "skills": sorted(s.code for s in helper.skills.all())} if helper else None
    helper = helper or m.Helper()
    for f in HELPER_FIELDS:
        if f in data:
            setattr(helper, f, data[f].strip() if isinstance(data[f], str) else data[f])
    helper.save()
    helper.skills.set(list(skills))
    audit.record(AuditLog.Action.UPDATE if before else AuditLog.Action.CREATE, helper, actor=by, before=before,
                 after={**_snap(helper, HELPER_FIELDS), "skills": sorted(s.code for s in skills)},
                 division_path=helper.division.path, note="homecare.helper")
    return helper
