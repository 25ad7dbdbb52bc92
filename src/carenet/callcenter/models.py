"""Call-center records around an alarm (calls, dispatches, notes), family notifications and online services.

The alarm itself and its status changes live in monitoring (Alarm, AlarmTransition). Everything here is
append-mostly and carries the operator and a timestamp to the second.
"""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carenet.callcenter.labels import DISPATCH_TARGETS
from carenet.core.scoping import ScopedManager


class CallLog(models.Model):
    """One phone call made while handling an alarm: the verification call to the elder or a call to a contact."""

    class Callee(models.TextChoices):
        ELDER = "elder", _("Elder")
        CONTACT = "contact", _("Emergency contact")
        DOCTOR = "doctor", _("Family doctor")
        OTHER = "other", _("Other")

    class Outcome(models.TextChoices):
        FINE = "fine", _("Answered, fine")
        NEEDS_HELP = "needs_help", _("Answered, needs help")
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy / unreachable")

    REACHED = (Outcome.FINE, Outcome.NEEDS_HELP)

    alarm = models.ForeignKey("monitoring.Alarm", on_delete=models.CASCADE, related_name="calls")
    callee = models.CharField(_("callee"), max_length=10, choices=Callee.choices)
    contact = models.ForeignKey("people.EmergencyContact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    callee_name = models.CharField(_("name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    contact_order = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    ts = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    operator = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["ts", "id"]
        verbose_name = _("call")

    def __str__(self):
        return f"{self.get_callee_display()} {self.callee_name}: {self.get_outcome_display()}"

    @property
    def reached(self) -> bool:
        return self.outcome in self.REACHED


class Dispatch(models.Model):
    """Help sent to the elder: 120, a helper, family or a community worker, with when it was sent and arrived."""

    alarm = models.ForeignKey("monitoring.Alarm", on_delete=models.CASCADE, related_name="dispatches")
    target = models.CharField(_("sent"), max_length=12, choices=DISPATCH_TARGETS)
    responder = models.CharField(_("who"), max_length=80, blank=True, help_text=_("Name, unit or phone of who goes."))
    dispatched_at = models.DateTimeField(_("sent at"), default=timezone.now)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    operator = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["dispatched_at", "id"]
        verbose_name = _("dispatch")

    def __str__(self):
        return f"{self.get_target_display()} {self.responder}".strip()


class AlarmNote(models.Model):
    alarm = models.ForeignKey("monitoring.Alarm", on_delete=models.CASCADE, related_name="notes")
    ts = models.DateTimeField(_("time"), default=timezone.now)
    author = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    text = models.CharField(_("note"), max_length=1000)

    class Meta:
        ordering = ["ts", "id"]
        verbose_name = _("alarm note")

    def __str__(self):
        return self.text[:60]


class Notification(models.Model):
    """A message to a family member (SMS or app push), as handed to the notification backend."""

    class Event(models.TextChoices):
        RAISED = "raised", _("Alarm raised")
        CLOSED = "closed", _("Alarm closed")
        OTHER = "other", _("Other")

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        APP = "app", _("App push")

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    alarm = models.ForeignKey("monitoring.Alarm", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="notifications")
    elder = models.ForeignKey("people.ElderProfile", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(_("event"), max_length=10, choices=Event.choices)
    recipient = models.CharField(_("recipient"), max_length=50)
    address = models.CharField(_("phone or app id"), max_length=40)
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices, default=Channel.SMS)
    text = models.CharField(_("text"), max_length=300)
    backend = models.CharField(max_length=30)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SENT)
    error = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("notification")
        constraints = [models.UniqueConstraint(fields=["alarm", "event", "address", "channel"],
                                               condition=models.Q(alarm__isnull=False), name="notify_once_per_alarm_event")]

    def __str__(self):
        return f"{self.recipient} {self.address}: {self.text[:40]}"


class OnlineService(models.Model):
    """An online service (线上服务) by the call center: a care call, an information or comfort call, an
    emergency rescue. Outbound care calls are planned ahead (status planned) and completed with an outcome."""

    class Kind(models.TextChoices):
        CARE_CALL = "care_call", _("Proactive care call (主动关怀)")
        INFORMATION = "information", _("Information (信息咨询)")
        COMFORT = "comfort", _("Psychological comfort (心理慰藉)")
        EMERGENCY = "emergency", _("Emergency rescue (紧急救援)")
        OTHER = "other", _("Other")

    class Direction(models.TextChoices):
        OUTBOUND = "out", _("Outbound")
        INBOUND = "in", _("Inbound")

    class Status(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("service", "Planned")
        DONE = "done", pgettext_lazy("service", "Done")
        MISSED = "missed", _("Not reached")
        CANCELLED = "cancelled", _("Cancelled")

    class Outcome(models.TextChoices):
        WELL = "well", _("Reached, doing well")
        FOLLOW_UP = "follow_up", _("Reached, needs follow-up")
        NO_ANSWER = "no_answer", _("No answer")
        ANSWERED = "answered", _("Request answered")
        REFERRED = "referred", _("Referred to another service")

    elder = models.ForeignKey("people.ElderProfile", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="online_services", verbose_name=_("elder"))
    division = models.ForeignKey("core.Division", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("service"), max_length=12, choices=Kind.choices)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DONE, db_index=True)
    due_date = models.DateField(_("due"), null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    caller_name = models.CharField(_("caller"), max_length=50, blank=True,
                                   help_text=_("For inbound calls from someone not on file."))
    caller_phone = models.CharField(_("caller's phone"), max_length=20, blank=True)
    started_at = models.DateTimeField(_("time"), null=True, blank=True, db_index=True)
    duration_s = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    operator = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    alarm = models.OneToOneField("monitoring.Alarm", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="online_service")
    note = models.CharField(_("note"), max_length=500, blank=True)
    created = models.DateTimeField(default=timezone.now)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("online service")
        indexes = [models.Index(fields=["kind", "status", "due_date"])]

    def __str__(self):
        who = self.elder.resident.name if self.elder_id else self.caller_name
        return f"{self.get_kind_display()} {who}"
