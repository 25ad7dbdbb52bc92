from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PolicyConfig(AppConfig):
    name = "carenet.policy"
    label = "policy"
    verbose_name = _("Policy search")
    default_auto_field = "django.db.models.BigAutoField"
