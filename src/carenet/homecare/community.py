"""Home care around the orders: visits (探访), meal points (助餐点), pairing (结对帮扶), home adaptation and family
care bed projects. Writes, each atomic and audited, like services.py (which it builds on)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.assistance.engine import rules as erules
from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.core.roles import can
from carenet.homecare import models as m
from carenet.homecare.engine import recurring as er
from carenet.homecare.engine import visits as evis
from carenet.people.models import ElderProfile

DEFAULT_GEOFENCE_M = 200
DEFAULT_FOLLOWUP_SHARE = Decimal("0.2")
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
MAX_PHOTO_BYTES = 8 * 1024 * 1024
CLOCK_SKEW = dt.timedelta(minutes=5)
OFFLINE_MAX_AGE = dt.timedelta(hours=48)



from carenet.homecare.services import (  # noqa: E402,F401
    HomecareError, _decode_photo, _helper_of, create_order, now, rules_for, setting, standard,
)


# ------------------------------------------------------------------ recurring plans

@transaction.atomic
def create_plan(user, *, elder: ElderProfile, service_type: m.ServiceType, weekdays: list[int], at: dt.time,
                start: dt.date, end: dt.date | None = None, holidays: str = er.SKIP, minutes: int | None = None) -> m.RecurringPlan:
    require(user, "homecare.order")
    require_in_area(user, elder.resident.division)
    if not weekdays or not set(weekdays) <= set(range(7)):
        raise HomecareError(_("Choose at least one weekday."))
    plan = m.RecurringPlan.objects.create(elder=elder, division=elder.resident.division, service_type=service_type,
                                          weekdays=sorted(set(weekdays)), at=at, start=start, end=end,
                                          holidays=holidays, minutes=minutes or service_type.min_minutes,
                                          created_by=user)
    audit.record(AuditLog.Action.CREATE, plan, actor=user, after=audit.snapshot(plan), note="homecare.plan")
    return plan


def generate_plan_orders(plan: m.RecurringPlan, until: dt.date, is_holiday=er.chinese_holiday) -> list[m.Order]:
    """Orders for the plan's occurrences up to ``until`` (idempotent: continues after generated_until)."""
    start = max(plan.start, (plan.generated_until + dt.timedelta(days=1)) if plan.generated_until else plan.start)
    end = min(until, plan.end) if plan.end else until
    if start > end or not plan.active:
        return []
    out = []
    tz = timezone.get_current_timezone()
    for occ in er.occurrences(plan.weekdays, plan.at, start, end, holidays=plan.holidays, is_holiday=is_holiday):
        with transaction.atomic():
            try:
                out.append(create_order(plan.created_by, elder=plan.elder, service_type=plan.service_type,
                                        scheduled_at=occ.at.replace(tzinfo=tz), minutes=plan.minutes,
                                        channel=m.Order.Channel.PLAN, plan=plan,
                                        notes="节假日顺延" if occ.moved else ""))
            except HomecareError:
                continue  # over budget: the plan skips the occurrence (visible as a gap on the plan page)
    plan.generated_until = end
    plan.save(update_fields=["generated_until"])
    return out


# ------------------------------------------------------------------ visits (探访)

def visit_rules(division: Division, on: dt.date) -> list[dict]:
    value = setting(division, "homecare_visit_rules", on, None)
    return erules.thaw(value) if value is not None else list(evis.DEFAULT_RULES)


@transaction.atomic
def generate_visit_plans(division: Division, today: dt.date | None = None) -> int:
    """Visit plans from the elder registry under `division`, by the configured rules (idempotent)."""
    from carenet.core.scoping import subtree_q

    today = today or timezone.localdate()
    rules = visit_rules(division, today)
    evis.validate(rules)
    elders = ElderProfile.objects.filter(subtree_q(division.path, "resident__division__path"),
                                         resident__deceased_on__isnull=True).select_related("resident").prefetch_related("categories")
    existing = {p.elder_id: p for p in m.VisitPlan.objects.filter(elder__in=elders)}
    n = 0
    for e in elders:
        f = evis.frequency(evis.ElderFacts(e.living, e.care_level, frozenset(c.code for c in e.categories.all()), e.key_elder), rules)
        p = existing.get(e.pk)
        if f is None:
            if p is not None and not p.records.exists():
                p.delete()  # (a plan with visit records is kept: its history stays readable)
            continue
        if p is None:
            m.VisitPlan.objects.create(elder=e, division=e.resident.division, period=f.period, days=f.days,
                                       rules="、".join(f.rules), start=today, next_due=evis.next_due(None, today, f.days))
            n += 1
        elif p.days != f.days:
            p.period, p.days, p.rules = f.period, f.days, "、".join(f.rules)
            p.next_due = evis.next_due(p.last_visit, p.start, f.days)
            p.save()
            n += 1
    return n


def escalate_visits(today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    n = 0
    for p in m.VisitPlan.objects.filter(next_due__lt=today):
        level = evis.escalation(p.next_due, today) or ""
        if level != p.escalated_to:
            p.escalated_to = level
            p.save(update_fields=["escalated_to"])
            audit.record(AuditLog.Action.UPDATE, p, actor=None, division_path=p.division.path,
                         note=f"homecare.visit overdue, escalated to {level}")
            n += 1
    return n


@transaction.atomic
def record_visit(user, plan: m.VisitPlan, *, seen: str, needs: str = "", follow_up: str = "none", photo=None,
                 service_type: m.ServiceType | None = None) -> m.VisitRecord:
    require(user, "homecare.visit")
    require_in_area(user, plan.division)
    if not seen.strip():
        raise HomecareError(_("Write what was seen."))
    if follow_up not in m.VisitRecord.Follow.values:
        raise HomecareError(_("Choose a follow-up."))
    at = now()
    rec = m.VisitRecord(plan=plan, elder=plan.elder, division=plan.division, visitor=user, visited_at=at,
                        seen=seen.strip(), needs=needs.strip(), follow_up=follow_up)
    if photo not in (None, ""):
        raw, ct = _decode_photo(photo)
        rec.photo.save(f"visit-{plan.pk}-{uuid.uuid4().hex[:8]}.jpg", ContentFile(raw), save=False)
    if follow_up == m.VisitRecord.Follow.ORDER:
        if service_type is None:
            raise HomecareError(_("Choose the service to order."))
        o = create_order(user, elder=plan.elder, service_type=service_type, channel=m.Order.Channel.VISIT,
                         scheduled_at=at + dt.timedelta(days=1), notes=needs[:300])
        rec.follow_up_ref = f"order:{o.pk}"
    elif follow_up == m.VisitRecord.Follow.GRID:
        from carenet.assistance import services as asv
        rep = asv.grid_report(user, applicant=plan.elder.resident, route="tekun" if "tekun" in plan.elder.category_codes
                              else "temp_aid", description=f"探访发现：{needs or seen}"[:1000])
        rec.follow_up_ref = f"grid:{rep.pk}"
    elif follow_up == m.VisitRecord.Follow.ALARM:
        from carenet.monitoring.models import Alarm
        a = Alarm.objects.filter(elder=plan.elder).order_by("-raised_at").first()
        rec.follow_up_ref = f"alarm:{a.pk}" if a else "alarm:"
    rec.save()
    plan.last_visit = timezone.localtime(at).date()
    plan.next_due = evis.next_due(plan.last_visit, plan.start, plan.days)
    plan.escalated_to = ""
    plan.save()
    audit.record(AuditLog.Action.CREATE, rec, actor=user, note=f"homecare.visit {follow_up}")
    return rec


def can_see_helper_page(user) -> bool:
    return can(user, "homecare.work") and _helper_of(user) is not None


# ------------------------------------------------------------------ meal points (助餐点: facilities of the registry)

DEFAULT_MEAL_PRICE = Decimal("15")


def meal_points_visible_to(user):
    from carenet.facilities.models import Facility, FacilityType

    return Facility.objects.visible_to(user).filter(type=FacilityType.MEAL_POINT)


@transaction.atomic
def record_meal(user, *, facility, elder: ElderProfile, date: dt.date, kind: str, price=None) -> "m.Meal":
    from carenet.facilities.models import FacilityType
    from carenet.homecare.engine import meals as em

    require(user, "homecare.meals")
    require_in_area(user, facility.division)
    if facility.type != FacilityType.MEAL_POINT:
        raise HomecareError(_("This facility is not a meal point."))
    if kind not in m.Meal.Kind.values:
        raise HomecareError(_("Choose dine-in or delivered."))
    division = elder.resident.division
    rules = rules_for(division)
    price = Decimal(str(price)) if price not in (None, "") else Decimal(str(
        setting(division, "homecare_meal_price", date, DEFAULT_MEAL_PRICE)))
    res = standard(division, "homecare_meal_subsidy", date, rules=rules)
    table = erules.as_mapping(res.value) if res else {}
    type(facility).objects.select_for_update().filter(pk=facility.pk).first()  # one writer per meal point: capacity holds
    left = em.capacity_left(facility.meal_capacity, m.Meal.objects.filter(facility=facility, date=date).count())
    if left == 0:
        raise HomecareError(_("The meal point has served its %(n)s meals for the day.") % {"n": facility.meal_capacity})
    if m.Meal.objects.filter(facility=facility, elder=elder, date=date).exists():
        raise HomecareError(_("This elder's meal for the day is already recorded."))
    sp = em.split(price, [c.code for c in elder.categories.all()], table)
    meal = m.Meal.objects.create(facility=facility, elder=elder, division=division, date=date, kind=kind, price=sp.price,
                                 subsidy=sp.subsidy, share=sp.share, category=sp.category or "", recorded_by=user)
    audit.record(AuditLog.Action.CREATE, meal, actor=user, note=f"homecare.meal {kind}: {sp.explain()}")
    return meal


def settle_meals(user, month: dt.date) -> "m.MealSettlementRun":
    """The month's settlement with the meal points, as a locked run: one run per month (a unique row) that
    freezes the figures. Every meal is settled exactly once: the month's meals, and earlier months' meals
    recorded after their run (late lines). Running a month twice is refused; corrections go to the next month."""
    from django.db import IntegrityError

    from carenet.homecare.engine import meals as em
    from carenet.homecare.engine import settlement as es

    require(user, "homecare.settle")
    month = es.month_start(month)
    end = es.next_month(month)
    if end > timezone.localdate():
        raise HomecareError(_("%(month)s has not ended yet; a month is settled with the meal points after it ends.")
                            % {"month": f"{month:%Y-%m}"})
    already = _("%(month)s is already settled with the meal points; a meal recorded late is settled next month.") % {
        "month": f"{month:%Y-%m}"}
    if m.MealSettlementRun.objects.filter(month=month).exists():
        raise HomecareError(already)
    try:
        with transaction.atomic():
            run = m.MealSettlementRun.objects.create(month=month, created_by=user)
            rows = list(m.Meal.objects.select_for_update().filter(settled_in__isnull=True, date__lt=end).values_list(
                "pk", "facility_id", "facility__division_id", "date", "kind", "price", "subsidy", "share"))
            lines = em.settle_month(month, (em.MealRow(f, d.replace(day=1), k, p, s_, sh)
                                            for _pk, f, _div, d, k, p, s_, sh in rows))
            division = {f: div for _pk, f, div, *_rest in rows}
            m.MealSettlementLine.objects.bulk_create([m.MealSettlementLine(
                run=run, facility_id=ln.facility_id, division_id=division[ln.facility_id], service_month=ln.service_month,
                kind=ln.kind, meals=ln.meals, dine_in=ln.dine_in, delivered=ln.delivered, price=ln.price,
                subsidy=ln.subsidy, share=ln.share) for ln in lines])
            ids = [r[0] for r in rows]
            for i in range(0, len(ids), 5000):
                m.Meal.objects.filter(pk__in=ids[i:i + 5000]).update(settled_in=run)
            run.meals = len(rows)
            run.subsidy = sum((ln.subsidy for ln in lines), em.ZERO)
            run.share = sum((ln.share for ln in lines), em.ZERO)
            run.save(update_fields=["meals", "subsidy", "share"])
            audit.record(AuditLog.Action.CREATE, run, actor=user, division_path=user.division.path if user.division_id else "",
                         note=f"homecare.meal_settlement {month:%Y-%m}: {run.meals} meals, subsidy {run.subsidy}")
    except IntegrityError:  # a second settlement of the same month, started at the same moment
        raise HomecareError(already) from None
    return run


# ------------------------------------------------------------------ registered absences

@transaction.atomic
def register_absence(user, elder: ElderProfile, *, kind: str, start: dt.date, end: dt.date | None = None,
                     where: str = "") -> m.HospitalStay:
    """A registered absence (in hospital, away from home): home services recorded then are flagged."""
    require(user, "homecare.visit")
    require_in_area(user, elder.resident.division)
    if kind not in m.HospitalStay.Kind.values:
        raise HomecareError(_("Choose in hospital or away from home."))
    if end is not None and end < start:
        raise HomecareError(_("The return date is before the start date."))
    stay = m.HospitalStay.objects.create(elder=elder, kind=kind, start=start, end=end, hospital=where.strip()[:100],
                                         recorded_by=user)
    audit.record(AuditLog.Action.CREATE, stay, actor=user, division_path=elder.resident.division.path,
                 note=f"homecare.absence {kind}")
    return stay


# ------------------------------------------------------------------ pairing (结对帮扶)

@transaction.atomic
def create_pairing(user, *, elder: ElderProfile, helper_name: str, helper_phone: str = "", min_per_month: int = 2,
                   start: dt.date | None = None) -> "m.Pairing":
    require(user, "homecare.visit")
    require_in_area(user, elder.resident.division)
    if not helper_name.strip():
        raise HomecareError(_("Who is paired with the household?"))
    if not 1 <= int(min_per_month) <= 31:
        raise HomecareError(_("The minimum is 1 to 31 contacts a month."))
    p = m.Pairing.objects.create(elder=elder, division=elder.resident.division, helper_name=helper_name.strip(),
                                 helper_phone=helper_phone.strip(), min_per_month=int(min_per_month),
                                 start=start or timezone.localdate())
    audit.record(AuditLog.Action.CREATE, p, actor=user, note="homecare.pairing")
    return p


@transaction.atomic
def log_pairing_contact(user, pairing: "m.Pairing", *, kind: str, date: dt.date, note: str = "") -> "m.PairingContact":
    require(user, "homecare.visit")
    require_in_area(user, pairing.division)
    if kind not in m.PairingContact.Kind.values:
        raise HomecareError(_("Choose a call or a visit."))
    if date > timezone.localdate():
        raise HomecareError(_("The date is in the future."))
    c = m.PairingContact.objects.create(pairing=pairing, kind=kind, date=date, note=note[:300], recorded_by=user)
    audit.record(AuditLog.Action.CREATE, c, actor=user, division_path=pairing.division.path, note="homecare.pairing contact")
    return c


# ------------------------------------------------------------------ home adaptation and family care beds

@transaction.atomic
def create_project(user, *, elder: ElderProfile, kind: str, description: str) -> "m.Project":
    require(user, "homecare.visit")
    require_in_area(user, elder.resident.division)
    if kind not in m.Project.Kind.values or not description.strip():
        raise HomecareError(_("Choose the kind of project and describe it."))
    p = m.Project.objects.create(elder=elder, division=elder.resident.division, kind=kind, description=description.strip())
    m.ProjectStep.objects.create(project=p, stage=p.stage, note=description[:300], actor=user)
    audit.record(AuditLog.Action.CREATE, p, actor=user, note=f"homecare.project {kind}")
    return p


@transaction.atomic
def advance_project(user, project: "m.Project", *, note: str = "", photo=None, subsidy=None) -> "m.Project":
    from carenet.homecare.engine import projects as ep

    require(user, "homecare.visit")
    require_in_area(user, project.division)
    p = m.Project.objects.select_for_update().get(pk=project.pk)
    photos = p.steps.exclude(photo="").count() + (1 if photo not in (None, "") else 0)
    devices = p.devices.filter(active=True, elder=p.elder).count()  # registered in monitoring for this bed
    try:
        amount = Decimal(str(subsidy)) if subsidy not in (None, "") else None
    except ArithmeticError:
        raise HomecareError(_("The subsidy is not a number.")) from None
    try:
        target = ep.advance(p.kind, p.stage, photos=photos, devices=devices, subsidy=amount)
    except ep.StageError as exc:
        raise HomecareError({
            "devices_needed": _("Register the care bed's devices in home monitoring before acceptance."),
            "photos_needed": _("Acceptance needs photos of the finished works."),
            "subsidy_needed": _("Enter the subsidy paid."),
            "finished": _("The project is finished."),
        }.get(exc.code, exc.code)) from None
    step = m.ProjectStep(project=p, stage=target, note=note[:300], actor=user)
    if photo not in (None, ""):
        raw, ct = _decode_photo(photo)
        step.photo.save(f"project-{p.pk}-{uuid.uuid4().hex[:8]}.jpg", ContentFile(raw), save=False)
    step.save()
    p.stage = target
    if amount is not None:
        p.subsidy = amount
    p.save()
    audit.record(AuditLog.Action.UPDATE, p, actor=user, after={"stage": target}, note="homecare.project stage")
    return p


#: What a family care bed usually gets (the form offers these types first).
CARE_BED_DEVICE_TYPES = ("mattress", "sos_button", "pir", "door", "smoke", "gateway", "wristband")


@transaction.atomic
def register_bed_device(user, project: "m.Project", *, device_id: str, type: str, room: str = ""):
    """Register a family care bed's device in home monitoring from the project page, through the devices app's
    own service (which checks ``devices.manage``, audits and issues the device token, shown once). Returns
    (device, token)."""
    from carenet.devices.models import Device
    from carenet.devices.services import register_device

    require(user, "homecare.visit")
    require_in_area(user, project.division)
    p = m.Project.objects.select_for_update().get(pk=project.pk)
    if p.kind != m.Project.Kind.CARE_BED:
        raise HomecareError(_("Only a family care bed project registers devices."))
    if p.stage not in (m.Project.Stage.PLAN, m.Project.Stage.WORKS):
        raise HomecareError(_("Devices are registered during the plan or the works and installation stage."))
    device_id = (device_id or "").strip()
    if not device_id or len(device_id) > 64:
        raise HomecareError(_("Enter the device number (at most 64 characters)."))
    if type not in Device.Type.values:
        raise HomecareError(_("Choose the type of device."))
    if Device.objects.filter(device_id=device_id).exists():
        raise HomecareError(_("The device %(id)s is already registered.") % {"id": device_id})
    device, token = register_device(user, p.elder, device_id, type, room.strip()[:30])
    p.devices.add(device)
    m.ProjectStep.objects.create(project=p, stage=p.stage, note=f"登记设备 {device_id}（{device.get_type_display()}）"[:300],
                                 actor=user)
    audit.record(AuditLog.Action.UPDATE, p, actor=user, after={"device": device_id}, note="homecare.project device")
    return device, token
