from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from carenet.core.scoping import ScopedManager


class MonitorState(models.Model):
    """The rules engine's memory of one elder, persisted with every batch so a restart loses nothing."""

    elder = models.OneToOneField("people.ElderProfile", on_delete=models.CASCADE, primary_key=True,
                                 related_name="monitor")
    state = models.JSONField(default=dict)
    overrides = models.JSONField(_("rule overrides"), default=dict, blank=True,
                                 help_text=_("Staff overrides of the default rule thresholds for this elder."))
    next_deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    updated = models.DateTimeField(auto_now=True)


class Alarm(models.Model):
    class Status(models.TextChoices):
        RAISED = "raised", _("Raised")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        DISPATCHED = "dispatched", _("Dispatched")
        RESOLVED = "resolved", _("Resolved")
        AUTO_CLEARED = "auto_cleared", _("Cleared by itself")

    class Severity(models.TextChoices):
        CRITICAL = "critical", _("Critical")
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    ACTIVE = (Status.RAISED, Status.ACKNOWLEDGED, Status.DISPATCHED)
    SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}

    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="alarms")
    division = models.ForeignKey("core.Division", on_delete=models.PROTECT, related_name="+")
    type = models.CharField(_("type"), max_length=40, db_index=True)
    key = models.CharField(max_length=120)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    severity_rank = models.PositiveSmallIntegerField(default=2)
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.RAISED, db_index=True)
    message = models.CharField(max_length=80)
    details = models.JSONField(default=dict, blank=True)
    device = models.ForeignKey("devices.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    count = models.PositiveIntegerField(_("occurrences"), default=1)
    condition_at = models.DateTimeField(_("condition met at"))
    last_at = models.DateTimeField(_("last occurrence"))
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dispatched_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closing_code = models.CharField(_("closing code"), max_length=30, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    # A local responder (a care home's staff console) has the alarm first; the call center's queue and feed show it
    # once this is cleared (by the local responder's timeout job). Null for everything else.
    held_until = models.DateTimeField(_("held locally until"), null=True, blank=True, db_index=True)
    updated = models.DateTimeField(auto_now=True, db_index=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["severity_rank", "raised_at"]
        constraints = [models.UniqueConstraint(fields=["elder", "key"], condition=Q(status__in=["raised", "acknowledged", "dispatched"]),
                                               name="one_active_alarm_per_elder_and_key")]

    def __str__(self):
        return f"{self.type} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class AlarmTransition(models.Model):
    """Every change of an alarm's status, with who and when (to the second). Append-only."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="transitions")
    ts = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15)
    actor = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField(max_length=150, default="system")
    note = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["ts", "id"]


class IngestPartition(models.Model):
    """One partition of the JetStream ingest stream (docs/scale-out.md): who holds it, and how far it is stored.

    `last_seq` is the stream sequence of the last message whose events, states and alarms are committed; it is
    written in the same transaction as them, so a redelivered message at or below it is skipped. The lease
    (`owner`, `epoch`, `lease_until`) says which worker may process the partition; every data transaction locks
    this row and checks owner and epoch first, so a worker whose lease was taken over cannot commit."""

    stream = models.CharField(max_length=64)
    partition = models.PositiveIntegerField()
    last_seq = models.BigIntegerField(default=0)
    owner = models.CharField(max_length=120, blank=True)
    epoch = models.BigIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stream", "partition"], name="one_row_per_stream_partition")]

    def __str__(self):
        return f"{self.stream}[{self.partition}]"


class IngestMember(models.Model):
    """A live partitioned ingest worker (heartbeat every second); the live count sets each worker's share."""

    stream = models.CharField(max_length=64)
    name = models.CharField(max_length=120)
    seen = models.DateTimeField()
    started = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stream", "name"], name="one_member_per_stream_name")]


class AwayRecord(models.Model):
    """外出报备: the elder is away (family visit, hospital, trip) until an expected return. While it runs, the
    absence rules pause and a "not back by the expected time" check replaces them (docs/monitoring-rules.md)."""

    class Reason(models.TextChoices):
        FAMILY = "family", _("Staying with family")
        HOSPITAL = "hospital", _("In hospital")
        TRIP = "trip", _("Trip")
        OTHER = "other", _("Other")

    class Reporter(models.TextChoices):
        ELDER = "elder", _("The elder")
        FAMILY = "family", _("A family member")
        WORKER = "worker", _("A community worker")
        OPERATOR = "operator", _("A call-center operator")

    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="away_records",
                              verbose_name=_("elder"))
    starts_at = models.DateTimeField(_("away from"))
    expected_return = models.DateTimeField(_("expected back by"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    reporter = models.CharField(_("reported by"), max_length=20, choices=Reporter.choices)
    reporter_name = models.CharField(_("name of the person reporting"), max_length=50, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    objects = ScopedManager()
    scope_path = "elder__resident__division__path"

    class Meta:
        verbose_name = _("registered absence")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["elder", "expected_return"])]
