"""Residents' requests (七单), small wishes (微心愿) and convenience service items (便民服务事项).

The state machines live in the pure engine (``carenet.civic.engine``); these tables store the snapshots and
every transition (``CivicEvent``, append-only). All writes go through ``services.py``.
"""
from __future__ import annotations


from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carenet.civic.engine import seven, service, wish
# the one media store lives in core; re-exported (migrations record carenet.assistance.models.MediaStorage)
from carenet.core.media import MediaStorage, media_storage  # noqa: F401
from carenet.core.models import Division
from carenet.core.scoping import ScopedManager
from carenet.people.models import Resident





def _storage():
    return media_storage


class Department(models.Model):
    """A department or office that handles convenience-service items (民政、医保、人社、公安户政…), with its own
    logins (`DepartmentMember`, role `department`). Requests are routed to a department record, not to a name."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("division"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        verbose_name = _("department")
        ordering = ["division__path", "code"]
        constraints = [models.UniqueConstraint(fields=["division", "name"], name="civic_department_unique_name")]

    def __str__(self):
        return self.name


class DepartmentMember(models.Model):
    """A login that works for one department: it sees and handles only requests routed there."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="members")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="civic_department")


class ServiceItem(models.Model):
    """One convenience service item (便民服务事项), editable by the district. Open311: a service."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    category = models.CharField(_("category"), max_length=30, db_index=True)
    department = models.CharField(_("department"), max_length=60)
    unit = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="items",
                             verbose_name=_("responsible department"))
    documents = models.JSONField(_("documents needed"), default=list, blank=True)
    fields = models.JSONField(_("form fields"), default=list, blank=True)
    deadline_days = models.PositiveSmallIntegerField(_("deadline (working days)"), default=5)
    fully_online = models.BooleanField(_("can be handled fully online"), default=False)
    help_text = models.TextField(_("plain-language help"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service item")
        ordering = ["category", "code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Channel(models.TextChoices):
    HOME = "home", _("Home terminal or phone")
    WORKER = "worker", _("Community worker on the resident's behalf")
    OPERATOR = "operator", _("Call-center operator on the resident's behalf")
    OPEN311 = "open311", _("City system (Open311)")


class RequestState(models.TextChoices):
    SUBMITTED = service.SUBMITTED, _("Submitted")
    ROUTED = service.ROUTED, _("Being handled")
    NEED_DOCS = service.NEED_DOCS, _("More documents needed")
    DONE = service.DONE, _("Done")
    REFUSED = service.REFUSED, _("Refused")
    RATED = service.RATED, _("Rated")
    WITHDRAWN = service.WITHDRAWN, _("Withdrawn")


class ServiceRequest(models.Model):
    """A resident's request for one service item. Open311: a service request."""

    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="requests", verbose_name=_("item"))
    applicant = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="civic_requests", verbose_name=_("applicant"))
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="civic_requests",
                                 verbose_name=_("community"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.HOME)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    description = models.TextField(_("description"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    state = models.CharField(_("status"), max_length=12, choices=RequestState.choices,
                             default=RequestState.SUBMITTED, db_index=True)
    routed_to = models.CharField(_("handled by"), max_length=60, blank=True)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="requests", verbose_name=_("department"))
    clock_from = models.DateField(null=True, blank=True)
    due_on = models.DateField(_("due"), null=True, blank=True, db_index=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    outcome = models.TextField(_("result or reason"), blank=True)
    docs_requested = models.TextField(_("documents requested"), blank=True)
    score = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=200, blank=True)
    reopened = models.PositiveSmallIntegerField(default=0)
    escalated = models.BooleanField(_("escalated"), default=False)
    consent_note = models.CharField(_("consent"), max_length=200, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=60, blank=True, db_index=True)  # Open311 client's own id
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created = models.DateTimeField(default=timezone.now, db_index=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        verbose_name = _("service request")
        ordering = ["-id"]
        indexes = [models.Index(fields=["division", "state"])]

    def __str__(self):
        return f"{self.number} {self.item.name}"

    @property
    def number(self) -> str:
        return f"BM{timezone.localtime(self.created):%Y%m%d}{self.pk:05d}" if self.pk else ""

    @property
    def applicant_name(self) -> str:
        return self.applicant.name if self.applicant_id else self.contact_name

    def snapshot(self) -> service.Snapshot:
        return service.Snapshot(self.state, self.clock_from, self.decided_on, self.score, self.reopened)


class Attachment(models.Model):
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(storage=_storage, upload_to="civic/%Y/%m/")
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)


class HomeAccess(models.Model):
    """A resident's access to the home page (terminal or phone): phone number + a code issued by a worker."""

    resident = models.OneToOneField(Resident, on_delete=models.CASCADE, related_name="civic_access")
    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=128)
    failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)


class Category(models.TextChoices):
    ROAD = "road", _("Roads and paths")
    LIGHT = "light", _("Street lights")
    SANITATION = "sanitation", _("Sanitation and rubbish")
    ELDERLY = "elderly", _("Help for elders")
    SAFETY = "safety", _("Safety hazards")
    GREEN = "green", _("Greening and public space")
    PARKING = "parking", _("Parking")
    WATER = "water", _("Water and drains")
    NEIGHBOUR = "neighbour", _("Neighbour disputes")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    GRID = "grid", _("Grid worker")
    VISIT = "visit", _("Home visit")
    HOTLINE = "hotline", _("Hotline")


class CommunityState(models.TextChoices):
    RECEIVED = seven.RECEIVED, _("收单 Received")
    SCREENED = seven.SCREENED, _("筛单 Screened")
    PLANNED = seven.PLANNED, _("制单 Plan drafted")
    COUNCIL = seven.COUNCIL, _("议单 Council deliberation")
    REVISING = seven.REVISING, _("修单 Revision")
    PUBLISHED = seven.PUBLISHED, _("晒单 Published")
    DELIVERING = seven.DELIVERING, _("落单 Delivering")
    COMPLETED = seven.COMPLETED, _("落单 Awaiting confirmation")
    CLOSED = seven.CLOSED, _("Confirmed by the resident")
    MERGED = seven.MERGED, _("Merged into another request")
    OUT_OF_SCOPE = seven.OUT_OF_SCOPE, _("Out of scope")
    WITHDRAWN = seven.WITHDRAWN, _("Withdrawn")


class CommunityRequest(models.Model):
    """A residents' request handled in seven steps (七单)."""

    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="community_requests",
                                 verbose_name=_("community"))
    category = models.CharField(_("type"), max_length=12, choices=Category.choices)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.RESIDENT)
    reporter = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("resident"))
    reporter_name = models.CharField(_("reported by"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("phone"), max_length=20, blank=True)
    location = models.CharField(_("place"), max_length=200, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    state = models.CharField(_("step"), max_length=14, choices=CommunityState.choices,
                             default=CommunityState.RECEIVED, db_index=True)
    plan = models.TextField(_("plan"), blank=True)
    cost = models.DecimalField(_("cost (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    owner = models.CharField(_("owner"), max_length=60, blank=True)
    vote_passed = models.BooleanField(null=True)
    votes = models.PositiveSmallIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(default=0)
    result = models.TextField(_("result"), blank=True)
    answer_draft = models.TextField(_("answer (draft, not public)"), blank=True)
    answer = models.TextField(_("published answer"), blank=True)
    answer_published_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created = models.DateTimeField(default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        verbose_name = _("community request")
        ordering = ["-id"]
        indexes = [models.Index(fields=["division", "state"])]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"QD{timezone.localtime(self.created):%Y%m%d}{self.pk:05d}" if self.pk else ""

    @property
    def step(self) -> str:
        return seven.STEP_OF_STATE[self.state]

    def snapshot(self) -> seven.Snapshot:
        return seven.Snapshot(self.state, self.plan, self.cost, self.owner, self.vote_passed, self.votes,
                              self.progress)


class CouncilVote(models.Model):
    request = models.ForeignKey(CommunityRequest, on_delete=models.CASCADE, related_name="council_votes")
    members = models.PositiveSmallIntegerField(_("council members"))
    yes = models.PositiveSmallIntegerField(_("yes"))
    no = models.PositiveSmallIntegerField(_("no"))
    abstain = models.PositiveSmallIntegerField(_("abstain"))
    passed = models.BooleanField()
    explanation = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)


class WishState(models.TextChoices):
    PUBLISHED = wish.PUBLISHED, _("Published")
    CLAIMED = wish.CLAIMED, _("Claimed")
    DELIVERED = wish.DELIVERED, _("Delivered")
    CONFIRMED = wish.CONFIRMED, _("Confirmed")
    CANCELLED = wish.CANCELLED, _("Cancelled")


class Wish(models.Model):
    """A small wish (微心愿): a modest need published for volunteers or units to fulfil."""

    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="wishes",
                                 verbose_name=_("community"))
    beneficiary = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("for"))
    title = models.CharField(_("wish"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    state = models.CharField(_("status"), max_length=10, choices=WishState.choices, default=WishState.PUBLISHED,
                             db_index=True)
    claimer = models.CharField(_("claimed by"), max_length=60, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        verbose_name = _("small wish")
        ordering = ["-id"]


class CivicEvent(models.Model):
    """One transition of a service request, a community request or a wish (append-only)."""

    service_request = models.ForeignKey(ServiceRequest, null=True, blank=True, on_delete=models.CASCADE,
                                        related_name="events")
    community_request = models.ForeignKey(CommunityRequest, null=True, blank=True, on_delete=models.CASCADE,
                                          related_name="events")
    wish = models.ForeignKey(Wish, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=14, blank=True)
    to_state = models.CharField(max_length=14)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField(max_length=60, blank=True)  # the resident (home page) or an API client
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=False)  # shown on the public 晒单 page (progress of delivery)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("civic events are append-only")
        super().save(*args, **kwargs)


class CivicNotification(models.Model):
    """A message to the applicant about a status change, as handed to the notification backend."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(CivicEvent, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=40)
    text = models.CharField(max_length=300)
    backend = models.CharField(max_length=30)
    ok = models.BooleanField(default=True)
    error = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["event", "address"], name="civic_notify_once")]


class ApiClient(models.Model):
    """An Open311 client (12345 hotline, a city platform): its api_key may create requests in its area."""

    name = models.CharField(max_length=60)
    key_hash = models.CharField(max_length=64, unique=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
