"""Home-care services (居家养老服务): providers, helpers, the service catalogue, orders with verified visits,
anomalies, settlement, recurring plans and visits (探访).

Budgets are not here: they are dated standards in the one rules mechanism (assistance ``Standard`` rows
with the ``homecare_*`` keys), so a district sets them and a street may override them.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carenet.assistance.models import MediaStorage
from carenet.core.models import Division
from carenet.core.scoping import ScopedManager
from carenet.homecare.engine import orders as eo
from carenet.homecare.engine import settlement as es
from carenet.homecare.engine import verification as ev

_storage = MediaStorage()


class ServiceType(models.Model):
    class Unit(models.TextChoices):
        VISIT = "visit", _("per visit")
        HOUR = "hour", _("per hour")
        MEAL = "meal", _("per meal")

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=40)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.VISIT)
    price = models.DecimalField(_("price (yuan)"), max_digits=8, decimal_places=2)
    min_minutes = models.PositiveSmallIntegerField(_("minimum minutes"), default=30)
    max_minutes = models.PositiveSmallIntegerField(_("maximum minutes"), default=120)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service type")

    def __str__(self):
        return self.name


class Provider(models.Model):
    name = models.CharField(_("name"), max_length=100)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered in"))
    areas = models.ManyToManyField(Division, related_name="+", verbose_name=_("areas covered"))
    contract_start = models.DateField(_("contract start"))
    contract_end = models.DateField(_("contract end"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["name"]
        verbose_name = _("provider")

    def __str__(self):
        return self.name


class PriceItem(models.Model):
    """The provider's contracted price for a service type (the catalogue price when absent)."""
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="prices")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("price (yuan)"), max_digits=8, decimal_places=2)

    class Meta:
        unique_together = [("provider", "service_type")]


class ProviderStaff(models.Model):
    """A provider's office user: sees only the provider's orders."""
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_staff")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="staff")


class Helper(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="helpers", verbose_name=_("provider"))
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="helper_profile")
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    skills = models.ManyToManyField(ServiceType, related_name="helpers", verbose_name=_("skills"))
    certificates = models.CharField(_("certificates"), max_length=200, blank=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("service area"))
    work_start = models.TimeField(_("works from"), default="08:00")
    work_end = models.TimeField(_("works until"), default="18:00")
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["name"]
        verbose_name = _("helper")

    def __str__(self):
        return self.name


class Order(models.Model):
    class State(models.TextChoices):
        CREATED = eo.CREATED, _("Created")
        ASSIGNED = eo.ASSIGNED, _("Assigned")
        ACCEPTED = eo.ACCEPTED, pgettext_lazy("home-care order", "Accepted")
        ON_THE_WAY = eo.ON_THE_WAY, _("On the way")
        CHECKED_IN = eo.CHECKED_IN, _("Checked in")
        CHECKED_OUT = eo.CHECKED_OUT, _("Checked out")
        CONFIRMED = eo.CONFIRMED, _("Confirmed")
        RATED = eo.RATED, _("Rated")
        CANCELLED = eo.CANCELLED, _("Cancelled")
        FAILED = eo.FAILED, _("Failed")

    class Channel(models.TextChoices):
        SCREEN_POP = "screen_pop", _("Call center, from an alarm")
        CALL = "call", _("Call center, inbound call")
        WORKER = "worker", _("Community worker")
        PLAN = "plan", _("Recurring plan")
        VISIT = "visit", _("Need found on a visit")

    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="homecare_orders",
                              verbose_name=_("elder"))
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+", verbose_name=_("service"))
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="orders",
                                 verbose_name=_("provider"))
    helper = models.ForeignKey(Helper, null=True, blank=True, on_delete=models.PROTECT, related_name="orders",
                               verbose_name=_("helper"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.CREATED, db_index=True)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    alarm_id = models.BigIntegerField(null=True, blank=True)
    plan = models.ForeignKey("RecurringPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    scheduled_at = models.DateTimeField(_("scheduled for"), db_index=True)
    minutes = models.PositiveSmallIntegerField(_("planned minutes"), default=60)
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    price = models.DecimalField(_("price"), max_digits=8, decimal_places=2)
    subsidy = models.DecimalField(_("subsidy"), max_digits=8, decimal_places=2)
    self_pay = models.DecimalField(_("self-paid"), max_digits=8, decimal_places=2, default=0)
    self_pay_consent = models.BooleanField(_("elder consents to pay the difference"), default=False)
    split_note = models.CharField(max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_in_received = models.DateTimeField(null=True, blank=True)
    check_in_lat = models.FloatField(null=True, blank=True)
    check_in_lon = models.FloatField(null=True, blank=True)
    check_in_distance_m = models.FloatField(null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True, db_index=True)
    check_out_lat = models.FloatField(null=True, blank=True)
    check_out_lon = models.FloatField(null=True, blank=True)
    record = models.TextField(_("service record"), blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.CharField(_("confirmed by"), max_length=50, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["-scheduled_at"]
        verbose_name = _("service order")
        indexes = [models.Index(fields=["state", "checked_out_at"]), models.Index(fields=["helper", "scheduled_at"])]

    def __str__(self):
        return f"#{self.pk} {self.service_type} {self.scheduled_at:%Y-%m-%d %H:%M}"

    @property
    def evv(self) -> dict:
        """The six elements of electronic visit verification."""
        r = self.elder.resident
        return {"service_type": self.service_type.name, "recipient": r.name,
                "helper": self.helper.name if self.helper_id else None,
                "date": self.checked_in_at.date().isoformat() if self.checked_in_at else None,
                "location": (f"{self.check_in_lat:.5f},{self.check_in_lon:.5f}" if self.check_in_lat is not None else None),
                "start": self.checked_in_at.isoformat() if self.checked_in_at else None,
                "end": self.checked_out_at.isoformat() if self.checked_out_at else None}


class OrderEvent(models.Model):
    """Every step of an order, with the phone's own time for offline steps. ``client_uuid`` makes a replayed
    offline submission a no-op."""
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=12)
    to_state = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    received = models.DateTimeField(auto_now_add=True)
    client_uuid = models.CharField(max_length=40, null=True, blank=True, unique=True)
    offline = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class VisitPhoto(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=10)  # check_in / check_out
    file = models.FileField(storage=_storage, upload_to="homecare/%Y/%m/")
    content_type = models.CharField(max_length=60, blank=True)
    phash = models.BigIntegerField(null=True, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)


class HospitalStay(models.Model):
    """A registered absence of an elder (recorded by a community worker or the call center): in hospital, or away
    from home (visiting family, travelling). No home service is expected then; a visit recorded during it is an
    anomaly."""
    class Kind(models.TextChoices):
        HOSPITAL = "hospital", _("In hospital")
        AWAY = "away", _("Away from home")

    elder = models.ForeignKey("people.ElderProfile", on_delete=models.CASCADE, related_name="hospital_stays")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.HOSPITAL)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    hospital = models.CharField(_("where"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    objects = ScopedManager()
    scope_path = "elder__resident__division__path"


class Anomaly(models.Model):
    class Kind(models.TextChoices):
        SHORT = ev.SHORT, _("Visit shorter than the minimum")
        GEOFENCE = ev.GEOFENCE, _("Check-in outside the geofence")
        OVERLAP = ev.OVERLAP, _("Helper in two homes at once")
        PHOTO = ev.PHOTO_REUSE, _("Same photo used twice")
        ABSENT = ev.ELDER_ABSENT, _("Elder in hospital, deceased or elsewhere")
        TOO_MANY = ev.TOO_MANY, _("Unusually many visits")
        NO_LOCATION = ev.NO_LOCATION, _("Check-in without location")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLEARED = "cleared", _("Cleared (service accepted)")
        UPHELD = "upheld", _("Upheld (service rejected)")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="anomalies")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    detail = models.CharField(_("detail"), max_length=300)
    other_order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["-created"]
        unique_together = [("order", "kind", "other_order")]


class RecurringPlan(models.Model):
    class Holidays(models.TextChoices):
        SKIP = "skip", _("Skip public holidays")
        NEXT = "next_workday", _("Move to the next working day")
        KEEP = "keep", _("Keep holidays")

    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="homecare_plans")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    weekdays = models.JSONField(_("weekdays"))
    at = models.TimeField(_("time"))
    minutes = models.PositiveSmallIntegerField(default=60)
    holidays = models.CharField(max_length=14, choices=Holidays.choices, default=Holidays.SKIP)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    generated_until = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()
    scope_path = "division__path"


class SettlementRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Settled")
        FAILED = "failed", _("Failed")

    month = models.DateField(_("month"), unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    log = models.TextField(blank=True)
    lines = models.PositiveIntegerField(default=0)
    subsidy = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month"]


class SettlementLine(models.Model):
    """One immutable line of a settled month. An order has exactly one service/late line (unique); later
    changes are adjustment lines of a later month."""
    class Kind(models.TextChoices):
        SERVICE = es.SERVICE, _("Service")
        LATE = es.LATE, _("Late confirmation")
        ADJUSTMENT = es.ADJUSTMENT, _("Adjustment")

    class Status(models.TextChoices):
        ACCEPTED = es.ACCEPTED, pgettext_lazy("settlement", "Accepted")
        DISPUTED = es.DISPUTED, _("Disputed")
        REJECTED = es.REJECTED, _("Rejected")

    # run, provider, elder, order and correction are checked set-based, not by per-row foreign keys (a month writes a
    # million lines): migration 0003's triggers check each insert statement's new lines at once and refuse to
    # delete a row lines refer to (PostgreSQL; inserts only on SQLite); Django's PROTECT guards ORM deletes.
    run = models.ForeignKey(SettlementRun, on_delete=models.PROTECT, related_name="line_set", db_constraint=False)
    month = models.DateField()  # the run's month (lines are read by run)
    service_month = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+", db_constraint=False,
                                 db_index=False)  # the (provider, month) index serves it
    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="+", db_constraint=False)
    order = models.ForeignKey(Order, null=True, on_delete=models.PROTECT, related_name="settlement_lines",
                              db_constraint=False)
    correction = models.ForeignKey("Correction", null=True, blank=True, on_delete=models.PROTECT, related_name="line",
                                   db_constraint=False, db_index=False)  # one line per correction: see Meta
    price = models.DecimalField(max_digits=8, decimal_places=2)
    subsidy = models.DecimalField(max_digits=8, decimal_places=2)
    self_pay = models.DecimalField(max_digits=8, decimal_places=2)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order"], condition=~models.Q(kind="adjustment"),
                                               name="homecare_one_settlement_line_per_order"),
                       # only adjustment lines have a correction: no index entry for the million others
                       models.UniqueConstraint(fields=["correction"], condition=models.Q(correction__isnull=False),
                                               name="homecare_one_settlement_line_per_correction")]
        indexes = [models.Index(fields=["provider", "month"])]

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("a settled line never changes: add an adjustment line")
        super().save(*args, **kwargs)


class Correction(models.Model):
    """A correction to a settled order, waiting for the next open month."""
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="corrections")
    delta = models.DecimalField(max_digits=8, decimal_places=2)
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)


class FollowUpCall(models.Model):
    """回访: the call center calls back a sample of completed services."""
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="followup")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    due = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reached = models.BooleanField(null=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ScopedManager()
    scope_path = "division__path"


class VisitPlan(models.Model):
    """探访计划: generated from the elder registry by the visit rules."""
    elder = models.OneToOneField("people.ElderProfile", on_delete=models.CASCADE, related_name="visit_plan")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=8)
    days = models.PositiveSmallIntegerField()
    rules = models.CharField(max_length=200)
    start = models.DateField()
    last_visit = models.DateField(null=True, blank=True)
    next_due = models.DateField(db_index=True)
    escalated_to = models.CharField(max_length=10, blank=True)

    objects = ScopedManager()
    scope_path = "division__path"


class VisitRecord(models.Model):
    class Follow(models.TextChoices):
        NONE = "none", _("No need found")
        ORDER = "order", _("Home-care service order")
        GRID = "grid", _("Grid report (assistance intake)")
        ALARM = "alarm", _("Alarm follow-up")

    plan = models.ForeignKey(VisitPlan, on_delete=models.PROTECT, related_name="records")
    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="+")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visited_at = models.DateTimeField()
    seen = models.TextField(_("what was seen"))
    needs = models.TextField(_("needs found"), blank=True)
    follow_up = models.CharField(_("follow-up"), max_length=10, choices=Follow.choices, default=Follow.NONE)
    follow_up_ref = models.CharField(max_length=40, blank=True)
    photo = models.FileField(storage=_storage, upload_to="homecare/visits/%Y/%m/", blank=True)

    objects = ScopedManager()
    scope_path = "division__path"


class Meal(models.Model):
    """A meal at a meal point (助餐点), which is a facility of the one registry (facilities.Facility)."""
    class Kind(models.TextChoices):
        DINE_IN = "dine_in", _("Dine-in")
        DELIVERED = "delivered", _("Delivered")

    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, related_name="homecare_meals",
                                 verbose_name=_("meal point"))
    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="homecare_meals")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("date"), db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    price = models.DecimalField(_("price"), max_digits=7, decimal_places=2)
    subsidy = models.DecimalField(_("subsidy"), max_digits=7, decimal_places=2)
    share = models.DecimalField(_("elder's share"), max_digits=7, decimal_places=2)
    category = models.CharField(max_length=20, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    settled_in = models.ForeignKey("MealSettlementRun", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="meals_settled")

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["facility", "elder", "date"], name="homecare_one_meal_a_day")]


class Pairing(models.Model):
    """结对帮扶 / 包保: an official or volunteer paired with an elder's household, with a minimum frequency."""
    helper_name = models.CharField(_("official or volunteer"), max_length=50)
    helper_phone = models.CharField(_("phone"), max_length=20, blank=True)
    helper_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="pairings")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    min_per_month = models.PositiveSmallIntegerField(_("minimum contacts per month"), default=2)
    start = models.DateField(_("from"))
    active = models.BooleanField(default=True)

    objects = ScopedManager()
    scope_path = "division__path"


class PairingContact(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit")

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices)
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")


class Project(models.Model):
    """适老化改造 / 家庭养老床位, tracked from application to the subsidy paid."""
    class Kind(models.TextChoices):
        ADAPTATION = "adaptation", _("Home adaptation (适老化改造)")
        CARE_BED = "care_bed", _("Family care bed (家庭养老床位)")

    class Stage(models.TextChoices):
        APPLICATION = "application", _("Application")
        ASSESSMENT = "assessment", _("Assessment")
        PLAN = "plan", _("Plan")
        WORKS = "works", _("Works or installation")
        ACCEPTANCE = "acceptance", _("Acceptance")
        PAID = "paid", _("Subsidy paid")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="homecare_projects")
    devices = models.ManyToManyField("devices.Device", blank=True, related_name="+",
                                     verbose_name=_("devices registered in home monitoring"))
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.APPLICATION)
    description = models.CharField(_("description"), max_length=300)
    subsidy = models.DecimalField(_("subsidy"), max_digits=9, decimal_places=2, null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_path = "division__path"


class ProjectStep(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="steps")
    stage = models.CharField(max_length=12)
    note = models.CharField(max_length=300, blank=True)
    photo = models.FileField(storage=_storage, upload_to="homecare/projects/%Y/%m/", blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)


class MealSettlementRun(models.Model):
    """The month's settlement with the meal points: one run per month, which freezes the figures. Every meal
    is settled exactly once (``Meal.settled_in``): a meal recorded for a month after its run is settled in the
    next run as a late line; a settled run never changes."""
    class Status(models.TextChoices):
        DONE = "done", _("Settled")

    month = models.DateField(_("month"), unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DONE)
    meals = models.PositiveIntegerField(default=0)
    subsidy = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    share = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month"]


class MealSettlementLine(models.Model):
    """One meal point's figures in a run: its own month's meals (``service``) or meals of an earlier, already
    settled month recorded late (``late``). Immutable."""
    class Kind(models.TextChoices):
        SERVICE = "service", _("Meals of the month")
        LATE = "late", _("Recorded after the month was settled")

    run = models.ForeignKey(MealSettlementRun, on_delete=models.PROTECT, related_name="line_set")
    facility = models.ForeignKey("facilities.Facility", on_delete=models.PROTECT, related_name="+")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    service_month = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    meals = models.PositiveIntegerField()
    dine_in = models.PositiveIntegerField()
    delivered = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    subsidy = models.DecimalField(max_digits=12, decimal_places=2)
    share = models.DecimalField(max_digits=12, decimal_places=2)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["facility_id", "service_month"]

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("a settled line never changes")
        super().save(*args, **kwargs)


class Reminder(models.Model):
    """An SMS reminder handed to the call center's notification backend, once per (subject, level, address):
    a helper's order coming due, a visit coming due, an overdue visit escalated to the community or street."""
    class Kind(models.TextChoices):
        ORDER_DUE = "order_due", _("Service due")
        VISIT_DUE = "visit_due", _("Visit due")
        VISIT_OVERDUE = "visit_overdue", _("Visit overdue")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_id = models.BigIntegerField()
    level = models.CharField(max_length=16, blank=True)
    due = models.DateField()
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    recipient = models.CharField(max_length=50)
    address = models.CharField(max_length=40)
    text = models.CharField(max_length=300)
    backend = models.CharField(max_length=30)
    ok = models.BooleanField(default=True)
    error = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "object_id", "level", "due", "address"],
                                               name="homecare_remind_once")]
