"""The facility registry (设施网): every eldercare facility of the district, including meal points (助餐点).

Other apps (home care's meal points) reference `facilities.Facility`; this app imports none of them.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

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
