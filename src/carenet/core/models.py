from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carenet.core.roles import Role
from carenet.core.scoping import ScopedManager, ScopedQuerySet


class Division(models.Model):
    """An administrative division (行政区划): district → street/township → community/village → grid.

    `path` holds the codes from the root down, separated by '/', so a subtree is one prefix match.
    """

    class Level(models.IntegerChoices):
        DISTRICT = 1, _("District / county")
        STREET = 2, _("Street / township")
        COMMUNITY = 3, _("Community / village")
        GRID = 4, _("Grid")

    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=80, db_index=True, editable=False)

    objects = ScopedManager()
    scope_path = "path"

    class Meta:
        ordering = ["path"]
        verbose_name = _("division")

    def save(self, *args, **kwargs):
        self.path = (self.parent.path + "/" if self.parent else "") + self.code
        super().save(*args, **kwargs)

    def __str__(self):
        return self.name

    def ancestors(self):
        codes = self.path.split("/")
        by_code = {d.code: d for d in Division.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]

    @property
    def full_name(self):
        return "".join(d.name for d in self.ancestors())

    @property
    def label(self) -> str:
        """How a division is shown in lists: a grid with its community ("银湖社区 › 第2网格"), else its name."""
        if self.level == self.Level.GRID and self.parent_id:
            return f"{self.parent.name} › {self.name}"
        return self.name

    def contains(self, other: "Division") -> bool:
        return other.path == self.path or other.path.startswith(self.path + "/")


class ScopedUserManager(UserManager.from_queryset(ScopedQuerySet)):  # type: ignore[misc]
    """Django's user manager plus `User.objects.visible_to(admin)`."""


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.CHOICES, default=Role.WORKER)
    division = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("jurisdiction"),
        help_text=_("The user sees records in this division and below."),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    objects = ScopedUserManager()
    scope_path = "division__path"

    def is_locked(self) -> bool:
        return bool(self.locked_until and self.locked_until > timezone.now())

    @property
    def display_name(self):
        return self.get_full_name() or self.username


class AuditLog(models.Model):
    """Who did what to which record, when, with the values before and after. Append-only."""

    class Action(models.TextChoices):
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")
        VIEW_ID = "view_id", _("Viewed full ID number")
        VIEW_HEALTH = "view_health", _("Viewed health archive")
        EXPORT = "export", _("Export")
        IMPORT = "import", _("Import")
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOCKED = "locked", _("Account locked")
        DENIED = "denied", _("Access denied")
        LOOKUP = "lookup", _("District-wide lookup")

    ts = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices, db_index=True)
    model = models.CharField(_("record type"), max_length=60, blank=True, db_index=True)
    object_id = models.CharField(_("record id"), max_length=40, blank=True, db_index=True)
    object_repr = models.CharField(_("record"), max_length=200, blank=True)
    division_path = models.CharField(max_length=80, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    objects = ScopedManager()
    scope_path = "division_path"

    class Meta:
        ordering = ["-ts", "-id"]
        verbose_name = _("audit entry")

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)


class ColumnMapping(models.Model):
    """The column mapping a user chose for one source layout (importer + header signature), reused next time."""

    importer = models.CharField(max_length=60)
    scope = models.CharField(max_length=60, blank=True, default="")  # Importer.mapping_scope(params), e.g. a source
    signature = models.CharField(max_length=32)
    headers = models.JSONField(default=list)   # the header texts, to show which layout this was
    mapping = models.JSONField(default=dict)   # header text → column key ("" = not imported)
    source_name = models.CharField(_("source"), max_length=100, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["importer", "scope", "signature"],
                                               name="columnmapping_unique_scoped_source")]


class ImportUpload(models.Model):
    """An uploaded file waiting for its preview to be confirmed. Encrypted at rest; deleted once imported."""

    importer = models.CharField(max_length=60)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    data_enc = models.BinaryField()
    params = models.JSONField(default=dict, blank=True)  # the importer's cleaned params (e.g. a source id)
    created = models.DateTimeField(auto_now_add=True)


class ImportRun(models.Model):
    """One import through the shared pipeline: counts, the mapping used, and the report of rejected rows
    (ID numbers masked) for the uploader to download."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed, nothing imported")

    importer = models.CharField(max_length=60, db_index=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    division_path = models.CharField(max_length=80, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DONE)
    message = models.CharField(max_length=300, blank=True)
    sheets = models.JSONField(default=list)     # [{"sheet", "header_row", "mapping"}]
    total = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    report = models.BinaryField(null=True, blank=True)
    # The background job (core.imports.execute): the staged file it reads, its progress and a log staff can read.
    upload = models.ForeignKey(ImportUpload, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    params = models.JSONField(default=dict, blank=True)
    outcome = models.JSONField(default=dict, blank=True)   # what the importer's write() wants to remember
    progress = models.PositiveSmallIntegerField(default=0)
    log = models.TextField(blank=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
