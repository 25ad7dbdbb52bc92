import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from carenet.core import idcard, pii
from carenet.core.models import Division
from carenet.core.scoping import ScopedManager


class Household(models.Model):
    """共同生活家庭: the people who live and keep accounts together."""

    class Hukou(models.TextChoices):
        URBAN = "urban", _("Urban")
        RURAL = "rural", _("Rural")

    division = models.ForeignKey(Division, on_delete=models.PROTECT, verbose_name=_("division"))
    address = models.CharField(_("address"), max_length=200)
    hukou = models.CharField(_("household registration"), max_length=10, choices=Hukou.choices, default=Hukou.URBAN)
    created = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_path = "division__path"

    class Meta:
        verbose_name = _("household")

    def __str__(self):
        head = self.members.filter(relation=Resident.Relation.HEAD).first()
        return f"{head.name if head else '—'} {_('household')}"


class Resident(models.Model):
    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class Relation(models.TextChoices):
        HEAD = "head", _("Head of household")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        GRANDCHILD = "grandchild", _("Grandchild")
        SIBLING = "sibling", _("Sibling")
        CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=50, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"), db_index=True)
    id_number_enc = models.TextField(editable=False)
    id_number_hash = models.CharField(max_length=64, unique=True, editable=False)
    id_masked = models.CharField(_("ID number"), max_length=18, db_index=True, editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, verbose_name=_("division"))
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members",
                                  verbose_name=_("household"))
    relation = models.CharField(_("relation to head"), max_length=20, choices=Relation.choices, default=Relation.HEAD)
    deceased_on = models.DateField(_("date of death"), null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    scope_path = "division__path"
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("resident")
        # (division, birth_date): the big screen's elders-by-street-and-age-band count reads only this index
        indexes = [models.Index(fields=["division", "id"]),
                   models.Index(fields=["division", "birth_date"], name="people_resi_div_birth_idx")]

    def __str__(self):
        return f"{self.name} ({self.id_masked})"

    def set_id_number(self, raw: str) -> idcard.ParsedId:
        parsed = idcard.parse(raw)
        self.id_number_enc = pii.encrypt(parsed.number)
        self.id_number_hash = pii.lookup_hash(parsed.number)
        self.id_masked = idcard.mask(parsed.number)
        return parsed

    @property
    def id_number(self) -> str:
        """The full number. Callers must audit the read (see people.services.reveal_id_number)."""
        return pii.decrypt(self.id_number_enc)

    def age_on(self, day: dt.date | None = None) -> int:
        day = day or dt.date.today()
        return day.year - self.birth_date.year - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    @property
    def age(self) -> int:
        return self.age_on()


class ElderProfile(models.Model):
    class Living(models.TextChoices):
        ALONE = "alone", _("Living alone")
        EMPTY_NEST = "empty_nest", _("Empty nest (couple only)")
        WITH_CHILDREN = "with_children", _("With children")
        CARE_HOME = "care_home", _("In a care home")

    class CareLevel(models.TextChoices):
        INTACT = "intact", _("Able")
        MILD = "mild", _("Mildly disabled")
        MODERATE = "moderate", _("Moderately disabled")
        SEVERE = "severe", _("Severely disabled")

    resident = models.OneToOneField(Resident, on_delete=models.CASCADE, related_name="elder", verbose_name=_("resident"))
    living = models.CharField(_("living situation"), max_length=20, choices=Living.choices, default=Living.WITH_CHILDREN)
    care_level = models.CharField(_("care level"), max_length=10, choices=CareLevel.choices, default=CareLevel.INTACT)
    dementia = models.BooleanField(_("dementia"), default=False)
    key_elder = models.BooleanField(_("key elder (weekly visits)"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ScopedManager()
    scope_path = "resident__division__path"

    class Meta:
        verbose_name = _("elder profile")

    def __str__(self):
        return str(self.resident)

    @property
    def category_codes(self) -> list[str]:
        return [c.code for c in self.categories.all()]


class Category(models.TextChoices):
    TEKUN = "tekun", _("Extreme poverty (特困)")
    DIBAO = "dibao", _("Minimum living allowance (低保)")
    MARGINAL = "marginal", _("Marginal family (低保边缘)")
    SEVERE_DISABILITY = "severe_disability", _("Severely disabled (重度残疾)")
    LOST_ONLY_CHILD = "lost_only_child", _("Family that lost its only child (计生特殊家庭)")
    YOUFU = "youfu", _("Entitled veteran group (优抚对象)")
    ADVANCED_AGE = "advanced_age", _("Advanced age, 80+ (高龄)")


class ElderCategory(models.Model):
    elder = models.ForeignKey(ElderProfile, on_delete=models.CASCADE, related_name="categories")
    code = models.CharField(max_length=20, choices=Category.choices, db_index=True)

    class Meta:
        unique_together = [("elder", "code")]

    def __str__(self):
        return self.get_code_display()


class EmergencyContact(models.Model):
    elder = models.ForeignKey(ElderProfile, on_delete=models.CASCADE, related_name="contacts")
    order = models.PositiveSmallIntegerField(_("call order"), default=1)
    name = models.CharField(_("name"), max_length=50)
    relation = models.CharField(_("relation"), max_length=20)
    phone = models.CharField(_("phone"), max_length=20)
    key_holder = models.BooleanField(_("holds a key"), default=False)
    lives_nearby = models.BooleanField(_("lives nearby"), default=False)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("emergency contact")

    def __str__(self):
        return f"{self.order}. {self.name} ({self.relation})"


class HealthArchive(models.Model):
    class BloodType(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        AB = "AB", "AB"
        O = "O", "O"
        UNKNOWN = "", _("Unknown")

    elder = models.OneToOneField(ElderProfile, on_delete=models.CASCADE, related_name="health")
    blood_type = models.CharField(_("blood type"), max_length=2, choices=BloodType.choices, blank=True)
    chronic_conditions = models.TextField(_("chronic conditions"), blank=True, help_text=_("One per line"))
    allergies = models.TextField(_("allergies"), blank=True, help_text=_("One per line"))
    medications = models.TextField(_("medications"), blank=True, help_text=_("One per line, with dose"))
    medical_history = models.TextField(_("medical history"), blank=True)
    family_doctor = models.CharField(_("family doctor"), max_length=50, blank=True)
    doctor_phone = models.CharField(_("doctor's phone"), max_length=20, blank=True)
    hospital = models.CharField(_("usual hospital"), max_length=100, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("health archive")

    def __str__(self):
        return f"{_('health archive')}: {self.elder.resident.name}"

    @staticmethod
    def lines(text: str) -> list[str]:
        return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ImportBatch(models.Model):
    """One Excel import: counts, and the report of rejected rows for the uploader to download."""

    user = models.ForeignKey("core.User", on_delete=models.PROTECT)
    created = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=200)
    total = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    report = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
