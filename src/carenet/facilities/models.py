"""The facility registry (设施网): every eldercare facility of the district, including meal points (助餐点).

Other apps (home care's meal points) reference `facilities.Facility`; this app imports none of them.
"""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carenet.core.models import Division
from carenet.core.scoping import ScopedManager


class FacilityType(models.TextChoices):
    CENTER = "center", _("Street / township eldercare service center")
    STATION = "station", _("Community eldercare service station")
    RURAL_POINT = "rural_point", _("Rural mutual-aid eldercare point")
    NURSING_HOME = "nursing_home", _("Nursing home / extreme-poverty support institution")
    PRIVATE_HOME = "private_home", _("Private care home")
    DAY_CARE = "day_care", _("Day-care center")
    MEAL_POINT = "meal_point", _("Meal point")


class Facility(models.Model):
    class Status(models.TextChoices):
        PLANNING = "planning", _("Planning")
        OPERATING = "operating", _("Operating")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    class OperatingModel(models.TextChoices):
        PUBLIC = "public", _("Publicly built and run")
        PUBLIC_PRIVATE = "public_private", _("Publicly built, privately run")
        PRIVATE = "private", _("Privately run")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    type = models.CharField(_("type"), max_length=20, choices=FacilityType.choices, db_index=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PLANNING,
                              db_index=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, verbose_name=_("division"),
                                 related_name="facilities")
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    lon = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    building_area = models.DecimalField(_("building area (m²)"), max_digits=10, decimal_places=1, null=True,
                                        blank=True)
    activity_area = models.DecimalField(_("public activity area (m²)"), max_digits=10, decimal_places=1,
                                        null=True, blank=True)
    beds = models.PositiveIntegerField(_("beds"), default=0)
    nursing_beds = models.PositiveIntegerField(_("nursing-type beds"), default=0)
    meal_capacity = models.PositiveIntegerField(_("meals per day"), default=0)
    licence_no = models.CharField(_("licence or filing number"), max_length=40, blank=True)
    operator = models.CharField(_("operator"), max_length=100, blank=True)
    operating_model = models.CharField(_("operating model"), max_length=20, choices=OperatingModel.choices,
                                       default=OperatingModel.PUBLIC)
    parent_center = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="stations", verbose_name=_("run by center"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["division__path", "code"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")

    def __str__(self):
        return self.name

    @property
    def nursing_bed_share(self):
        """Nursing-type beds as a share of all beds (0..1), or None without beds."""
        return self.nursing_beds / self.beds if self.beds else None


def _storage():
    from carenet.assistance.models import media_storage  # one access-checked media store for all uploads

    return media_storage


class FacilityChange(models.Model):
    """A street's proposal (a new facility, a change of its data, or a status move) awaiting the district.

    The approver must not be the proposer (maker ≠ checker). Approved changes are applied and written to history.
    """

    class Kind(models.TextChoices):
        CREATE = "create", _("New facility")
        UPDATE = "update", _("Change of data")
        STATUS = "status", _("Status change")

    class Decision(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="changes")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("division"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    data = models.JSONField(_("proposed data"), default=dict)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    state = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING,
                             db_index=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["-proposed_at"]


class FacilityHistory(models.Model):
    """Append-only: every applied change of a facility, with the values before and after."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="history")
    ts = models.DateTimeField(default=timezone.now)
    change = models.ForeignKey(FacilityChange, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-ts", "-id"]

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("history is append-only")
        super().save(*args, **kwargs)


class Staff(models.Model):
    class Role(models.TextChoices):
        MANAGER = "manager", _("Manager")
        NURSE = "nurse", _("Nurse")
        CAREGIVER = "caregiver", _("Care worker")
        DOCTOR = "doctor", _("Doctor")
        SOCIAL_WORKER = "social_worker", _("Social worker")
        COOK = "cook", _("Cook")
        OTHER = "other", _("Other")

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="staff")
    name = models.CharField(_("name"), max_length=50)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    certificates = models.CharField(_("certificates"), max_length=200, blank=True)
    training_hours = models.PositiveIntegerField(_("training hours this year"), default=0)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="facility_posts", verbose_name=_("login account"))
    active = models.BooleanField(_("in post"), default=True)

    objects = ScopedManager()
    scope_path = "facility__division__path"

    class Meta:
        ordering = ["facility", "role", "name"]


class FacilityResident(models.Model):
    """A stay: a link to the elder registry with admission and discharge. Beds are computed from these."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="residents")
    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="facility_stays",
                              verbose_name=_("elder"))
    admitted = models.DateField(_("admitted"))
    discharged = models.DateField(_("discharged"), null=True, blank=True)
    care_level = models.CharField(_("care level"), max_length=20, blank=True)
    nursing_bed = models.BooleanField(_("nursing-type bed"), default=False)
    room = models.CharField(_("room"), max_length=20, blank=True)

    objects = ScopedManager()
    scope_path = "facility__division__path"

    class Meta:
        ordering = ["facility", "admitted"]
        indexes = [models.Index(fields=["facility", "discharged"])]


class SubsidyRule(models.Model):
    """A dated subsidy rule (cap per type, score bands), resolved by the assistance rules mechanism. Append-only."""

    division = models.ForeignKey(Division, on_delete=models.PROTECT, verbose_name=_("division"))
    facility_type = models.CharField(_("type"), max_length=20,
                                     choices=[("*", _("All types"))] + list(FacilityType.choices))
    key = models.CharField(_("key"), max_length=40)
    value = models.JSONField(_("value"))
    effective_from = models.DateField(_("effective from"))
    source = models.CharField(_("source"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "facility_type", "effective_from"]
        constraints = [models.UniqueConstraint(fields=["division", "facility_type", "key", "effective_from"],
                                               name="facilities_subsidyrule_unique")]

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("rules are append-only: add a row with a later effective_from")
        super().save(*args, **kwargs)


class EvaluationTemplate(models.Model):
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(default=True)

    def __str__(self):
        return self.name


class Indicator(models.Model):
    class Group(models.TextChoices):
        SAFETY = "safety", _("Safety")
        SERVICES = "services", _("Services")
        MANAGEMENT = "management", _("Management")
        SATISFACTION = "satisfaction", _("Satisfaction")

    template = models.ForeignKey(EvaluationTemplate, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(max_length=20)
    group = models.CharField(_("group"), max_length=20, choices=Group.choices)
    label = models.CharField(_("indicator"), max_length=100)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    max_points = models.DecimalField(_("maximum points"), max_digits=6, decimal_places=2)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["template", "order"]


class Evaluation(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="evaluations")
    template = models.ForeignKey(EvaluationTemplate, on_delete=models.PROTECT)
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    evaluated_on = models.DateField(_("evaluated on"))
    scores = models.JSONField(default=dict)
    groups = models.JSONField(default=dict)
    total = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    note = models.CharField(_("note"), max_length=300, blank=True)
    subsidy = models.DecimalField(_("operating subsidy (yuan/year)"), max_digits=10, decimal_places=2, default=0)
    subsidy_steps = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_path = "facility__division__path"

    class Meta:
        ordering = ["-evaluated_on", "-id"]


class Photo(models.Model):
    """Evidence: for an evaluation, or for a finding's rectification or re-check."""

    evaluation = models.ForeignKey(Evaluation, null=True, blank=True, on_delete=models.PROTECT, related_name="photos")
    finding = models.ForeignKey("Finding", null=True, blank=True, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField(storage=_storage, upload_to="facilities/%Y/%m/")
    content_type = models.CharField(max_length=60, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)


class Inspection(models.Model):
    class Kind(models.TextChoices):
        FIRE = "fire", _("Fire safety")
        FOOD = "food", _("Food hygiene")
        SERVICE = "service", _("Service quality")

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="inspections")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    inspected_on = models.DateField(_("inspected on"))
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ScopedManager()
    scope_path = "facility__division__path"

    class Meta:
        ordering = ["-inspected_on", "-id"]


class Finding(models.Model):
    """巡查 交办 整改 督查 验收销号: open → assigned → rectified → closed (or back to assigned)."""

    class Severity(models.TextChoices):
        MAJOR = "major", _("Major")
        GENERAL = "general", _("General")
        MINOR = "minor", _("Minor")

    class Status(models.TextChoices):
        OPEN = "open", _("Found")
        ASSIGNED = "assigned", _("Assigned for rectification")
        RECTIFIED = "rectified", _("Rectified, awaiting re-check")
        CLOSED = "closed", _("Accepted and closed")

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="findings")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="findings")
    description = models.CharField(_("finding"), max_length=300)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN,
                              db_index=True)
    assignee = models.CharField(_("assigned to"), max_length=100, blank=True)
    assigned_on = models.DateField(null=True, blank=True)
    due = models.DateField(_("due"), null=True, blank=True)
    rectified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    rectified_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()
    scope_path = "facility__division__path"

    class Meta:
        ordering = ["status", "due", "id"]


class FindingStep(models.Model):
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="steps")
    ts = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["ts", "id"]


class Complaint(models.Model):
    """A complaint about a facility: taken in (phone, visit, letter, 12345 hotline...), routed to the street or
    district office that handles it, answered within a working-day deadline, then closed. Every step is kept."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        VISIT = "visit", _("In person")
        LETTER = "letter", _("Letter")
        HOTLINE = "hotline", _("12345 hotline")
        ONLINE = "online", _("Online")
        INSPECTION = "inspection", _("Found on an inspection")

    class Category(models.TextChoices):
        CARE = "care", _("Care and service quality")
        SAFETY = "safety", _("Safety")
        FOOD = "food", _("Meals and food")
        FEES = "fees", _("Fees")
        STAFF = "staff", _("Staff conduct")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        RECEIVED = "received", pgettext_lazy("complaint", "Received")
        ROUTED = "routed", pgettext_lazy("complaint", "Routed for handling")
        REPLIED = "replied", pgettext_lazy("complaint", "Answered")
        CLOSED = "closed", pgettext_lazy("complaint", "Closed")

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="complaints")
    received_on = models.DateField(_("received on"))
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, default=Channel.PHONE)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices, default=Category.OTHER)
    complainant = models.CharField(_("complainant"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    summary = models.CharField(_("summary"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED,
                              db_index=True)
    routed_to = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("handled by"))
    handler = models.CharField(_("handler"), max_length=50, blank=True)
    due = models.DateField(_("answer due"), null=True, blank=True)
    reply = models.TextField(_("answer"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()
    scope_path = "facility__division__path"

    class Meta:
        ordering = ["-received_on", "-id"]

    @property
    def resolved(self) -> bool:
        return self.status == self.Status.CLOSED


class ComplaintStep(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="steps")
    ts = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["ts", "id"]


class SmartRoom(models.Model):
    """A monitored room of a facility: its devices are registered to the room's resident elder and use the device
    protocol and rules engine of home monitoring; its alarms show on the facility's console first."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("room"), max_length=30)
    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="smart_rooms",
                              verbose_name=_("resident"))

    objects = ScopedManager()
    scope_path = "facility__division__path"

    class Meta:
        ordering = ["facility", "name"]
        constraints = [models.UniqueConstraint(fields=["facility", "name"], name="facilities_room_unique")]
