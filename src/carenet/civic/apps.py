from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CivicConfig(AppConfig):
    name = "carenet.civic"
    label = "civic"
    verbose_name = _("Residents' requests and convenience services")

    def ready(self):
        from carenet.civic import todo as civic_todo
        from carenet.core import todo

        todo.register(civic_todo.items_for)
