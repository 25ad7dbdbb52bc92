from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "carenet.matching"
    verbose_name = _("Cross-department checks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from carenet.core import todo
        from carenet.matching import todo as matching_todo

        todo.register(matching_todo.items_for)
