"""Every write of the home-care app. Each write is atomic, audited, and checks the user's capability and
area first (core.permissions)."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import random
import uuid
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.assistance import services as assistance_services
from carenet.assistance.engine import rules as erules
from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.homecare import models as m
from carenet.homecare.engine import entitlement as ee
from carenet.homecare.engine import orders as eo
from carenet.homecare.engine import verification as ev
from carenet.homecare.engine import visits as evis
from carenet.people.models import ElderProfile

DEFAULT_GEOFENCE_M = 200
DEFAULT_FOLLOWUP_SHARE = Decimal("0.2")
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
MAX_PHOTO_BYTES = 8 * 1024 * 1024
CLOCK_SKEW = dt.timedelta(minutes=5)
OFFLINE_MAX_AGE = dt.timedelta(hours=48)


class HomecareError(Exception):
    """A refusal with a message for the user (Chinese in the UI)."""


def now() -> dt.datetime:
    return timezone.now()


def month_of(d) -> dt.date:
    if isinstance(d, dt.datetime):
        d = timezone.localtime(d).date()
    return d.replace(day=1)


# ------------------------------------------------------------------ dated standards (the assistance mechanism)

def rules_for(division: Division) -> erules.RuleSet:
    try:
        return assistance_services.rules_for(division)
    except assistance_services.AssistanceError:
        return erules.RuleSet()


def _codes(division: Division) -> tuple[str, ...]:
    return assistance_services.path_codes(division)


def standard(division: Division, key: str, on: dt.date, default=None, rules: erules.RuleSet | None = None):
    rules = rules if rules is not None else rules_for(division)
    try:
        return rules.resolve(key, erules.ANY_PROGRAM, _codes(division), on)
    except erules.RuleNotFoundError:
        return default


def budget_of(elder: ElderProfile, on: dt.date, rules: erules.RuleSet | None = None) -> ee.Budget:
    division = elder.resident.division
    res = standard(division, "homecare_budget_monthly", on, rules=rules)
    cats = [c.code for c in elder.categories.all()]
    if res is None:
        return ee.Budget(ee.ZERO, None, (), "")
    from carenet.people.models import Category

    labels = dict(Category.choices)  # the explanation names categories in words, not codes
    table = {str(labels.get(k, k)): v for k, v in erules.as_mapping(res.value).items()}
    return ee.budget_for([str(labels.get(c, c)) for c in cats], table,
                         source=f"{res.division_code} {res.effective_from.isoformat()} {res.standard.source}".strip())


def setting(division: Division, key: str, on: dt.date, default):
    res = standard(division, key, on)
    return default if res is None else res.value


def geofence_m(division: Division, on: dt.date) -> int:
    return int(setting(division, "homecare_geofence_m", on, DEFAULT_GEOFENCE_M))


def balance_of(elder: ElderProfile, month: dt.date, exclude_order: int | None = None) -> ee.Balance:
    start = month_of(month)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    qs = m.Order.objects.filter(elder=elder, scheduled_at__gte=dt.datetime.combine(start, dt.time.min, tz),
                                scheduled_at__lt=dt.datetime.combine(end, dt.time.min, tz))
    if exclude_order:
        qs = qs.exclude(pk=exclude_order)
    used = qs.filter(state__in=eo.DONE).aggregate(s=Sum("subsidy"))["s"] or ee.ZERO
    reserved = qs.filter(state__in=eo.OPEN).aggregate(s=Sum("subsidy"))["s"] or ee.ZERO
    return ee.balance(budget_of(elder, start), [used], [reserved])


def price_of(provider: m.Provider | None, service: m.ServiceType) -> Decimal:
    if provider is not None:
        item = m.PriceItem.objects.filter(provider=provider, service_type=service).first()
        if item:
            return item.price
    return service.price


def seed_standards(division: Division, effective_from: dt.date = dt.date(2024, 1, 1)) -> int:
    """The district's home-care standards (through assistance's public add_standard), if it has none."""
    from carenet.assistance.models import Standard

    have = set(Standard.objects.filter(division=division, key__in=erules.HOMECARE_KEYS).values_list("key", flat=True))
    src = "示例：按每人每月200元标准（请替换为本地文件）"
    values = {
        "homecare_budget_monthly": (("tekun", Decimal("200")), ("dibao", Decimal("200")),
                                    ("lost_only_child", Decimal("200")), ("severe_disability", Decimal("200"))),
        "homecare_over_budget": ee.SELF_PAY,
        "homecare_geofence_m": DEFAULT_GEOFENCE_M,
        "homecare_followup_share": DEFAULT_FOLLOWUP_SHARE,
        "homecare_visit_rules": erules.decode_value("homecare_visit_rules", list(evis.DEFAULT_RULES)),
    }
    n = 0
    for key, value in values.items():
        if key not in have:
            assistance_services.add_standard(None, division=division, program=erules.ANY_PROGRAM, key=key, value=value,
                                             effective_from=effective_from, source=src, allow_past=True)
            n += 1
    return n


# ------------------------------------------------------------------ orders

def _event(order, action, frm, to, user, at, *, client_uuid=None, offline=False, note=""):
    return m.OrderEvent.objects.create(order=order, action=action, from_state=frm, to_state=to, actor=user, at=at,
                                       client_uuid=client_uuid, offline=offline, note=note[:300])


def _helper_of(user) -> m.Helper | None:
    return m.Helper.objects.filter(user=user).first() if user.is_authenticated else None


def candidates(order_or_elder, service: m.ServiceType, start: dt.datetime, minutes: int, exclude_order=None):
    """Every active helper ranked by the assignment engine, with the reasons a helper cannot take it."""
    elder = order_or_elder
    path = elder.resident.division.path
    day = timezone.localtime(start).date()
    tz = timezone.get_current_timezone()
    helpers = list(m.Helper.objects.filter(active=True, provider__active=True)
                   .select_related("division", "provider").prefetch_related("skills", "provider__areas"))
    day_orders = m.Order.objects.filter(helper__in=helpers, state__in=eo.OPEN,
                                        scheduled_at__gte=dt.datetime.combine(day, dt.time.min, tz),
                                        scheduled_at__lt=dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tz))
    if exclude_order:
        day_orders = day_orders.exclude(pk=exclude_order)
    busy: dict[int, list] = {}
    for o in day_orders.values("helper_id", "scheduled_at", "minutes"):
        s = timezone.localtime(o["scheduled_at"]).replace(tzinfo=None)
        busy.setdefault(o["helper_id"], []).append((s, s + dt.timedelta(minutes=o["minutes"])))
    cands = [eo.Candidate(
        helper_id=h.pk, provider_id=h.provider_id, skills=frozenset(s.code for s in h.skills.all()),
        area_paths=(h.division.path,), provider_paths=tuple(a.path for a in h.provider.areas.all()),
        work_start=h.work_start, work_end=h.work_end,
        contract_ok=h.provider.contract_start <= day <= h.provider.contract_end,
        busy=tuple(busy.get(h.pk, ())), load=len(busy.get(h.pk, ()))) for h in helpers]
    by_id = {h.pk: h for h in helpers}
    ranked = eo.rank_candidates(cands, service=service.code, elder_path=path,
                                start=timezone.localtime(start).replace(tzinfo=None), minutes=minutes)
    return [(by_id[c.helper_id], why) for c, why in ranked]


@transaction.atomic
def create_order(user, *, elder: ElderProfile, service_type: m.ServiceType, scheduled_at: dt.datetime, minutes: int | None = None,
                 channel: str, notes: str = "", alarm_id: int | None = None, helper: m.Helper | None = None,
                 self_pay_consent: bool = False, plan: m.RecurringPlan | None = None) -> m.Order:
    if plan is None:
        require(user, "homecare.order")
        require_in_area(user, elder.resident.division)
    if channel not in m.Order.Channel.values:
        raise HomecareError(_("Unknown order channel."))
    if elder.resident.deceased_on:
        raise HomecareError(_("The elder is recorded as deceased; no service can be ordered."))
    if not service_type.active:
        raise HomecareError(_("This service type is no longer offered."))
    minutes = minutes or service_type.min_minutes
    if not service_type.min_minutes <= minutes <= service_type.max_minutes:
        raise HomecareError(_("%(name)s takes between %(lo)s and %(hi)s minutes.")
                            % {"name": service_type.name, "lo": service_type.min_minutes, "hi": service_type.max_minutes})
    if helper is not None and plan is None:
        require(user, "homecare.dispatch")
    if helper is None:
        ranked = candidates(elder, service_type, scheduled_at, minutes)
        helper = ranked[0][0] if ranked and not ranked[0][1] else None
    provider = helper.provider if helper else None
    price = price_of(provider, service_type)
    if service_type.unit == m.ServiceType.Unit.HOUR:
        price = (price * Decimal(minutes) / Decimal(60)).quantize(ee.CENT)
    division = elder.resident.division
    bal = balance_of(elder, month_of(scheduled_at))
    policy = setting(division, "homecare_over_budget", month_of(scheduled_at), ee.SELF_PAY)
    try:
        split = ee.split(price, bal.remaining, policy=policy, consent=self_pay_consent)
    except ee.OverBudget as exc:
        if exc.code == "refused":
            raise HomecareError(_("Over budget: the service costs %(price)s yuan and %(left)s yuan remain this month; "
                                  "the area's rule refuses over-budget orders.") % {"price": exc.price, "left": exc.remaining}) from None
        raise HomecareError(_("Over budget: the service costs %(price)s yuan and %(left)s yuan remain this month. "
                              "Record the elder's consent to pay the difference (自费), or choose another date.")
                            % {"price": exc.price, "left": exc.remaining}) from None
    order = m.Order.objects.create(
        elder=elder, division=division, service_type=service_type, provider=provider, helper=helper,
        state=eo.ASSIGNED if helper else eo.CREATED, channel=channel, alarm_id=alarm_id, plan=plan,
        scheduled_at=scheduled_at, minutes=minutes, notes=notes, price=price, subsidy=split.subsidy,
        self_pay=split.self_pay, self_pay_consent=self_pay_consent and split.self_pay > 0,
        split_note=split.explanation[:200], created_by=user if getattr(user, "is_authenticated", False) else None)
    actor = user if getattr(user, "is_authenticated", False) else None
    _event(order, "create", "", eo.CREATED, actor, now(), note=split.explanation)
    if helper:
        _event(order, "assign", eo.CREATED, eo.ASSIGNED, actor, now(), note=helper.name)
    audit.record(AuditLog.Action.CREATE, order, actor=actor, after=audit.snapshot(order),
                 note=f"homecare.order {channel}" + (" self-pay consent" if order.self_pay_consent else ""))
    return order


def _lock(order: m.Order) -> m.Order:
    return m.Order.objects.select_for_update(of=("self",)).select_related("service_type", "helper", "elder__resident__division").get(pk=order.pk)


def _step(user, order: m.Order, action: str, actor: str, *, reason: str = "", at: dt.datetime | None = None,
          client_uuid: str | None = None, offline: bool = False, note: str = "") -> tuple[m.Order, bool]:
    """Apply one state-machine step. Returns (order, applied); a replayed client_uuid is not applied again."""
    if client_uuid and m.OrderEvent.objects.filter(client_uuid=client_uuid).exists():
        return m.Order.objects.get(pk=order.pk), False
    locked = _lock(order)
    try:
        target = eo.next_state(locked.state, action, actor, reason)
    except eo.TransitionError as exc:
        msg = {"reason_required": _("A reason is required."),
               "not_your_step": _("This step is not yours to take.")}.get(
            exc.code, _("This order is %(state)s; that step is not possible now.") % {"state": locked.get_state_display()})
        raise HomecareError(msg) from None
    before = locked.state
    locked.state = target
    if reason:
        locked.reason = reason[:200]
    _event(locked, action, before, target, user, at or now(), client_uuid=client_uuid, offline=offline,
           note=reason or note)
    return locked, True


def _helper_actor(user, order: m.Order) -> None:
    require(user, "homecare.work")
    h = _helper_of(user)
    if h is None or order.helper_id != h.pk:
        raise HomecareError(_("This task is not assigned to you."))


@transaction.atomic
def assign(user, order: m.Order, helper: m.Helper) -> m.Order:
    require(user, "homecare.dispatch")
    require_in_area(user, order.division)
    locked, _applied = _step(user, order, "assign", eo.STAFF, note=helper.name)
    locked.helper, locked.provider = helper, helper.provider
    locked.save()
    audit.record(AuditLog.Action.UPDATE, locked, actor=user, before={"helper": order.helper_id},
                 after={"helper": helper.pk}, note="homecare.assign (operator override)")
    return locked


@transaction.atomic
def helper_step(user, order: m.Order, action: str, *, reason: str = "", at: dt.datetime | None = None,
                client_uuid: str | None = None) -> m.Order:
    """accept / depart / decline / fail by the helper on the phone."""
    _helper_actor(user, order)
    locked, applied = _step(user, order, action, eo.HELPER, reason=reason, at=at, client_uuid=client_uuid,
                            offline=at is not None)
    if applied:
        if action == "accept":
            locked.accepted_at = at or now()
        if action == "decline":
            locked.helper = None
        locked.save()
        audit.record(AuditLog.Action.UPDATE, locked, actor=user, after={"state": locked.state},
                     note=f"homecare.{action}")
    return locked


def client_time(raw, received: dt.datetime) -> tuple[dt.datetime, bool]:
    """The phone's own time of an action (ISO 8601 or epoch ms). Returns (time, offline). A time in the
    future (beyond clock skew) or older than 48 h is refused."""
    if raw in (None, ""):
        return received, False
    try:
        if isinstance(raw, (int, float)) or str(raw).isdigit():
            t = dt.datetime.fromtimestamp(int(raw) / 1000, tz=dt.timezone.utc)
        else:
            t = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
            if timezone.is_naive(t):
                t = timezone.make_aware(t)
    except (ValueError, OverflowError, OSError):
        raise HomecareError(_("The phone sent an unreadable time.")) from None
    if t > received + CLOCK_SKEW:
        raise HomecareError(_("The phone's clock is ahead of the server; set the phone's time and retry."))
    if t < received - OFFLINE_MAX_AGE:
        raise HomecareError(_("This offline record is older than 48 hours; report it to the provider's office."))
    return t, (received - t) > dt.timedelta(seconds=60)


def _decode_photo(data) -> tuple[bytes, str]:
    """A photo as an upload or as a data URL (from the phone's offline queue)."""
    if hasattr(data, "read"):
        ct = (getattr(data, "content_type", "") or "").lower()
        raw = data.read()
    else:
        try:
            head, b64 = str(data).split(",", 1)
            ct = head.split(":", 1)[1].split(";", 1)[0].lower()
            raw = base64.b64decode(b64, validate=True)
        except (ValueError, IndexError, binascii.Error):
            raise HomecareError(_("The photo could not be read; take it again.")) from None
    if ct not in PHOTO_TYPES:
        raise HomecareError(_("Only photos (JPEG, PNG, WebP) can be attached."))
    if len(raw) > MAX_PHOTO_BYTES:
        raise HomecareError(_("The photo is larger than 8 MB."))
    return raw, ct


def _phash(raw: bytes) -> int | None:
    from PIL import Image, UnidentifiedImageError

    try:
        h = ev.dhash(Image.open(io.BytesIO(raw)))
    except (UnidentifiedImageError, OSError, ValueError):
        raise HomecareError(_("The photo could not be read; take it again.")) from None
    return h - (1 << 64) if h >= (1 << 63) else h  # stored as a signed 64-bit integer


def _add_photo(user, order, stage, data) -> m.VisitPhoto:
    raw, ct = _decode_photo(data)
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[ct]
    p = m.VisitPhoto(order=order, stage=stage, content_type=ct, phash=_phash(raw), uploaded_by=user)
    p.file.save(f"{order.pk}-{stage}-{uuid.uuid4().hex[:8]}.{ext}", ContentFile(raw), save=False)
    p.save()
    return p


@transaction.atomic
def check_in(user, order: m.Order, *, lat, lon, client_ts=None, photo=None, client_uuid: str | None = None) -> m.Order:
    _helper_actor(user, order)
    received = now()
    at, offline = client_time(client_ts, received)
    if photo in (None, ""):
        raise HomecareError(_("Take a photo at the door to check in."))
    locked, applied = _step(user, order, "check_in", eo.HELPER, at=at, client_uuid=client_uuid, offline=offline)
    if not applied:
        return locked
    try:
        locked.check_in_lat, locked.check_in_lon = (float(lat), float(lon)) if lat not in (None, "") else (None, None)
    except (TypeError, ValueError):
        raise HomecareError(_("The location could not be read.")) from None
    r = locked.elder.resident
    if locked.check_in_lat is not None and r.lat is not None:
        locked.check_in_distance_m = round(ev.distance_m(r.lat, r.lon, locked.check_in_lat, locked.check_in_lon), 1)
    locked.checked_in_at, locked.checked_in_received = at, received
    locked.save()
    _add_photo(user, locked, "check_in", photo)
    audit.record(AuditLog.Action.UPDATE, locked, actor=user, note="homecare.check_in" + (" (offline)" if offline else ""),
                 after={"state": locked.state, "distance_m": locked.check_in_distance_m})
    return locked


@transaction.atomic
def check_out(user, order: m.Order, *, lat=None, lon=None, client_ts=None, photo=None, record: str = "",
              confirmed_by: str = "", rating=None, client_uuid: str | None = None) -> m.Order:
    """Check-out with the service record; the elder's or family's confirmation on the same phone confirms it."""
    _helper_actor(user, order)
    received = now()
    at, offline = client_time(client_ts, received)
    if not record.strip():
        raise HomecareError(_("Write a short service record."))
    locked, applied = _step(user, order, "check_out", eo.HELPER, at=at, client_uuid=client_uuid, offline=offline)
    if not applied:
        return locked
    if locked.checked_in_at and at < locked.checked_in_at:
        raise HomecareError(_("The check-out time is before the check-in time."))
    try:
        if lat not in (None, ""):
            locked.check_out_lat, locked.check_out_lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise HomecareError(_("The location could not be read.")) from None
    locked.checked_out_at, locked.record = at, record.strip()[:2000]
    locked.save()
    if photo not in (None, ""):
        _add_photo(user, locked, "check_out", photo)
    audit.record(AuditLog.Action.UPDATE, locked, actor=user, note="homecare.check_out" + (" (offline)" if offline else ""),
                 after={"state": locked.state})
    verify(locked)
    if confirmed_by.strip():
        locked = _confirm(user, locked, confirmed_by=confirmed_by, rating=rating, at=at, actor=eo.CONFIRMER)
    return locked


def _confirm(user, order, *, confirmed_by, rating, at=None, actor=eo.STAFF) -> m.Order:
    locked, _applied = _step(user, order, "confirm", actor, at=at, note=confirmed_by)
    locked.confirmed_at, locked.confirmed_by = at or now(), confirmed_by.strip()[:50]
    if rating not in (None, ""):
        try:
            rating = int(rating)
        except (TypeError, ValueError):
            rating = 0
        if not 1 <= rating <= 5:
            raise HomecareError(_("The rating is 1 to 5 stars."))
        locked.rating = rating
        locked.state = eo.RATED
        _event(locked, "rate", eo.CONFIRMED, eo.RATED, user, at or now(), note=str(rating))
    locked.save()
    audit.record(AuditLog.Action.UPDATE, locked, actor=user, note="homecare.confirm", after={"state": locked.state})
    _maybe_followup(locked)
    return locked


@transaction.atomic
def confirm(user, order: m.Order, *, confirmed_by: str, rating=None) -> m.Order:
    require(user, "homecare.order")
    require_in_area(user, order.division)
    if not confirmed_by.strip():
        raise HomecareError(_("Who confirmed the service?"))
    return _confirm(user, order, confirmed_by=confirmed_by, rating=rating)


@transaction.atomic
def cancel(user, order: m.Order, *, reason: str, fail: bool = False) -> m.Order:
    require(user, "homecare.order")
    require_in_area(user, order.division)
    locked, _applied = _step(user, order, "fail" if fail else "cancel", eo.STAFF, reason=reason)
    locked.subsidy = ee.ZERO if not fail else locked.subsidy
    locked.save()
    audit.record(AuditLog.Action.UPDATE, locked, actor=user, note=f"homecare.{'fail' if fail else 'cancel'}",
                 after={"state": locked.state, "reason": reason})
    return locked


# ------------------------------------------------------------------ verification

def _visit(o: m.Order) -> ev.Visit:
    r = o.elder.resident
    return ev.Visit(order_id=o.pk, elder_id=o.elder_id, helper_id=o.helper_id, service=o.service_type.code,
                    start=timezone.localtime(o.checked_in_at),
                    end=timezone.localtime(o.checked_out_at) if o.checked_out_at else None,
                    home=(r.lat, r.lon) if r.lat is not None else None,
                    check_in=(o.check_in_lat, o.check_in_lon) if o.check_in_lat is not None else None,
                    min_minutes=o.service_type.min_minutes)


def elder_status(elder: ElderProfile, start: dt.datetime, end: dt.datetime) -> ev.ElderStatus:
    """What places the elder away from home around a visit: death, registered absences (in hospital, away),
    and alarms open during the visit that show them elsewhere (left the safe area; an ambulance sent)."""
    from carenet.monitoring.labels import alarm_type_label
    from carenet.monitoring.models import Alarm, AwayRecord

    absences = tuple(ev.Absence(a, b, k, w) for a, b, k, w in
                     elder.hospital_stays.values_list("start", "end", "kind", "hospital"))
    # 外出报备 recorded in home monitoring (by the call center, a worker or for the family): from the hour it began
    # until the recorded return, or the expected one while none is recorded
    away = AwayRecord.objects.filter(elder=elder, starts_at__lte=end).filter(
        Q(ended_at__gte=start) | Q(ended_at__isnull=True, expected_return__gte=start))
    absences += tuple(
        ev.Absence(timezone.localdate(r.starts_at), timezone.localdate(r.ended_at or r.expected_return),
                   "hospital" if r.reason == AwayRecord.Reason.HOSPITAL else "away",
                   str(r.note or r.get_reason_display()), timezone.localtime(r.starts_at),
                   timezone.localtime(r.ended_at or r.expected_return), r.ended_at is None)
        for r in away.order_by("starts_at"))
    alarms: dict[int, dict] = {}
    # the alarm's dispatches are read through the relation the call center keeps on the alarm (no import of it)
    for pk, typ, raised, closed, target in Alarm.objects.filter(elder=elder, raised_at__lte=end).exclude(
            closed_at__lt=start).values_list("pk", "type", "raised_at", "closed_at", "dispatches__target"):
        a = alarms.setdefault(pk, {"type": typ, "raised": raised, "closed": closed, "targets": []})
        if target:
            a["targets"].append(target)
    facts = tuple(ev.AlarmFact(pk, a["type"], str(alarm_type_label(a["type"])), timezone.localtime(a["raised"]),
                               timezone.localtime(a["closed"]) if a["closed"] else None, tuple(a["targets"]))
                  for pk, a in alarms.items())
    return ev.ElderStatus(deceased_on=elder.resident.deceased_on, absences=absences, alarms=facts)


def verify(order: m.Order) -> list[m.Anomaly]:
    """Run the anomaly rules on a checked-out visit; open anomalies go to the supervisors."""
    o = m.Order.objects.select_related("service_type", "elder__resident").get(pk=order.pk)
    v = _visit(o)
    radius = geofence_m(o.division, timezone.localtime(o.checked_in_at).date())
    findings = ev.check_visit(v, radius)
    window = (o.checked_in_at - dt.timedelta(hours=12), o.checked_out_at + dt.timedelta(hours=12))
    others = [_visit(x) for x in m.Order.objects.filter(helper_id=o.helper_id, checked_in_at__isnull=False,
                                                         checked_in_at__range=window).exclude(pk=o.pk)
              .select_related("service_type", "elder__resident")]
    findings += ev.overlaps(v, others)
    hashes = [h for h in o.photos.values_list("phash", flat=True) if h is not None]
    if hashes:
        seen = m.VisitPhoto.objects.filter(phash__isnull=False).exclude(order=o).values_list("order_id", "phash")
        # exact and near duplicates: the index finds exact ones fast; near ones by a bounded scan of recent photos
        recent = list(seen.filter(phash__in=hashes)) + list(seen.order_by("-pk")[:5000])
        findings += ev.photo_reuse(o.pk, hashes, {(a, b) for a, b in recent})
    findings += ev.elder_absent(v, elder_status(o.elder, o.checked_in_at, o.checked_out_at))
    day = timezone.localtime(o.checked_in_at).date()
    tz = timezone.get_current_timezone()
    same_day = m.Order.objects.filter(elder=o.elder, checked_in_at__gte=dt.datetime.combine(day, dt.time.min, tz),
                                      checked_in_at__lt=dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tz)).count()
    findings += ev.too_many(o.pk, same_day)
    out = []
    for f in findings:
        a, created = m.Anomaly.objects.get_or_create(order=o, kind=f.kind, other_order_id=f.other_order_id,
                                                     defaults={"detail": f.detail[:300], "division": o.division})
        if created:
            audit.record(AuditLog.Action.CREATE, a, actor=None, division_path=o.division.path,
                         note=f"homecare.anomaly {f.kind}")
            out.append(a)
    return out


@transaction.atomic
def resolve_anomaly(user, anomaly: m.Anomaly, *, upheld: bool, note: str) -> m.Anomaly:
    """A supervisor's decision. If the order was already settled, the change goes to the next open month as a
    correction (the settled month never changes)."""
    require(user, "homecare.resolve")
    require_in_area(user, anomaly.division)
    if not note.strip():
        raise HomecareError(_("Write the reason for the decision."))
    a = m.Anomaly.objects.select_for_update().get(pk=anomaly.pk)
    if a.status != m.Anomaly.Status.OPEN:
        raise HomecareError(_("This anomaly has already been decided."))
    a.status = m.Anomaly.Status.UPHELD if upheld else m.Anomaly.Status.CLEARED
    a.resolved_by, a.resolved_at, a.resolution = user, now(), note.strip()[:300]
    a.save()
    audit.record(AuditLog.Action.UPDATE, a, actor=user, after={"status": a.status, "resolution": a.resolution},
                 note="homecare.anomaly decision")
    _correct_after_decision(user, a.order)
    return a


def _correct_after_decision(user, order: m.Order) -> None:
    line = m.SettlementLine.objects.filter(order=order).exclude(kind="adjustment").first()
    if line is None:
        return  # not settled yet: the settlement will see the decision
    open_left = order.anomalies.filter(status=m.Anomaly.Status.OPEN).exists()
    if open_left:
        return
    upheld = order.anomalies.filter(status=m.Anomaly.Status.UPHELD).exists()
    paid = line.subsidy + (m.SettlementLine.objects.filter(order=order, kind="adjustment")
                           .aggregate(s=Sum("subsidy"))["s"] or ee.ZERO)
    paid += m.Correction.objects.filter(order=order, line__isnull=True).aggregate(s=Sum("delta"))["s"] or ee.ZERO
    should = ee.ZERO if upheld else order.subsidy
    delta = should - paid
    if delta:
        c = m.Correction.objects.create(order=order, delta=delta, created_by=user,
                                        reason=("异常核实属实，追回补贴" if upheld else "异常核实排除，补结补贴")
                                        + f"（原结算 {line.month:%Y-%m}）")
        audit.record(AuditLog.Action.CREATE, c, actor=user, division_path=order.division.path,
                     note="homecare.correction")


# ------------------------------------------------------------------ follow-up calls (回访)

def _maybe_followup(order: m.Order) -> None:
    share = Decimal(str(setting(order.division, "homecare_followup_share", timezone.localdate(), DEFAULT_FOLLOWUP_SHARE)))
    # deterministic per order, so the sample is reproducible and cannot be steered
    if random.Random(order.pk * 7919).random() < float(share):
        m.FollowUpCall.objects.get_or_create(order=order, defaults={"division": order.division,
                                                                     "due": timezone.localdate() + dt.timedelta(days=2)})


@transaction.atomic
def record_followup(user, call: m.FollowUpCall, *, reached: bool, satisfaction=None, note: str = "") -> m.FollowUpCall:
    require(user, "homecare.followup")
    require_in_area(user, call.division)
    if reached and satisfaction in (None, ""):
        raise HomecareError(_("Record the satisfaction score (1 to 5)."))
    call.reached, call.done_at, call.operator, call.note = reached, now(), user, note[:300]
    call.satisfaction = int(satisfaction) if reached else None
    if call.satisfaction is not None and not 1 <= call.satisfaction <= 5:
        raise HomecareError(_("The satisfaction score is 1 to 5."))
    call.save()
    audit.record(AuditLog.Action.UPDATE, call, actor=user, note="homecare.followup",
                 after={"reached": reached, "satisfaction": call.satisfaction})
    return call
