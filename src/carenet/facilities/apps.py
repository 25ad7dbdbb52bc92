from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    name = "carenet.facilities"
    label = "facilities"
    verbose_name = _("Facilities")

    def ready(self):
        from carenet.facilities.rooms import on_alarm_saved
        from carenet.monitoring.models import Alarm

        post_save.connect(on_alarm_saved, sender=Alarm, dispatch_uid="facilities_room_alarm_hold")

        from carenet.core import imports
        from carenet.facilities.imports import FacilityImporter
        imports.register(FacilityImporter())  # /imports/facilities.registry/ (docs/import.md)
