import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from carenet.core.scoping import ScopedManager


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def demo_token(device_id: str) -> str:
    """Deterministic token for demo/simulated devices (derived from the secret key; never for real devices)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"device:{device_id}".encode(), hashlib.sha256).hexdigest()[:32]


class Vendor(models.Model):
    """A vendor cloud that posts batches over HTTP with its own token."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        return token


class Device(models.Model):
    class Type(models.TextChoices):
        PIR = "pir", _("Motion sensor (PIR)")
        DOOR = "door", _("Door magnet")
        SMOKE = "smoke", _("Smoke detector")
        WATER_LEAK = "water_leak", _("Water leak sensor")
        MATTRESS = "mattress", _("Smart mattress")
        WRISTBAND = "wristband", _("Wristband")
        SOS_BUTTON = "sos_button", _("SOS button")
        SOS_PHONE = "sos_phone", _("SOS phone")
        GATEWAY = "gateway", _("Home gateway")
        SEAT = "seat", _("Seat pressure pad")
        PLUG = "plug", _("Smart plug")
        TOILET = "toilet", _("Toilet flush sensor")
        AIR = "air", _("Air-quality monitor")

    class Role(models.TextChoices):
        NONE = "", "—"
        ENTRANCE = "entrance", _("Entrance door")
        FRIDGE = "fridge", _("Fridge door")
        BATHROOM = "bathroom", _("Bathroom door")
        CUPBOARD = "cupboard", _("Cupboard")
        ROOM = "room", _("Room door")

    class Semantics(models.TextChoices):
        # docs/device-protocol.md, "Device semantics": how the engine reads this device's events
        STATE = "state", _("State (reports each change)")
        PULSE = "pulse", _("Pulse (repeats while occupied; holds for the hold time)")
        EDGE = "edge", _("Edge (momentary events only)")

    device_id = models.CharField(_("device id"), max_length=64, unique=True)
    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    elder = models.ForeignKey("people.ElderProfile", on_delete=models.PROTECT, related_name="devices",
                              verbose_name=_("elder"))
    room = models.CharField(_("room"), max_length=30, blank=True)
    role = models.CharField(_("door role"), max_length=20, choices=Role.choices, blank=True)
    semantics = models.CharField(_("semantics"), max_length=10, choices=Semantics.choices, default=Semantics.STATE)
    hold_s = models.PositiveIntegerField(_("hold time (seconds)"), null=True, blank=True,
                                         help_text=_("Pulse devices: how long one pulse means 'occupied'."))
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.PROTECT)
    token_hash = models.CharField(max_length=64, editable=False)
    active = models.BooleanField(_("active"), default=True)
    installed = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(_("last contact"), null=True, blank=True)
    battery = models.PositiveSmallIntegerField(_("battery %"), null=True, blank=True)
    online = models.BooleanField(_("online"), default=False)

    objects = ScopedManager()
    scope_path = "elder__resident__division__path"

    class Meta:
        verbose_name = _("device")
        indexes = [models.Index(fields=["elder", "type"])]

    def __str__(self):
        return f"{self.get_type_display()} {self.device_id}"

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        self.token_hash = hash_token(token)
        return token


class DeviceEvent(models.Model):
    """Every accepted device event, once: (device, event_id) is unique, so redelivery changes nothing."""

    # No index of its own: (device, ts) and (device, event_id[, ts]) lead with it. Every event row pays for each
    # index, and this one cost a sixth of the COPY rate (issue 15, docs/monitoring-ingest.md).
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="events", db_index=False)
    event_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=20)
    ts = models.DateTimeField(db_index=True)
    received = models.DateTimeField()
    value = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "event_id"], name="device_event_once")]
        indexes = [models.Index(fields=["device", "ts"])]


class Quarantine(models.Model):
    """A rejected message, with the reason. Nothing is silently dropped."""

    class Reason(models.TextChoices):
        MALFORMED = "malformed", _("Malformed message")
        OVERSIZED = "oversized", _("Message too large")
        UNKNOWN_DEVICE = "unknown_device", _("Unknown or inactive device")
        BAD_TOKEN = "bad_token", _("Wrong device or vendor token")
        UNKNOWN_KIND = "unknown_kind", _("Unknown event kind")
        KIND_MISMATCH = "kind_mismatch", _("Kind not produced by this device type")
        BAD_VALUE = "bad_value", _("Invalid event value")
        FAR_FUTURE = "far_future", _("Timestamp too far in the future")
        TOO_OLD = "too_old", _("Timestamp too old")
        DUPLICATE = "duplicate", _("Duplicate event")
        PROCESSING_ERROR = "processing_error", _("Could not be processed")

    received = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=10)  # mqtt | http
    topic = models.CharField(max_length=200, blank=True)
    device_ref = models.CharField(max_length=64, blank=True, db_index=True)
    event_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices, db_index=True)
    detail = models.CharField(max_length=300, blank=True)
    payload = models.TextField(blank=True)

    class Meta:
        ordering = ["-received", "-id"]
